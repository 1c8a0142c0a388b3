"""Invariant 3: every service's Redis state is rebuilt from Kafka.

Issue and revoke, stop issuer, catalog and revocation, delete every Redis key
of theirs, start them again: nothing is lost, and no status list entry is
handed out a second time (invariant 1 across a Redis wipe).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as redis
from aiohttp import web

from shared.credentials.dids import DidResolver
from shared.credentials.jwt import verify_vc_jwt
from shared.events import PathwayPublished, StatusListPublished, decode_event, encode_event
from tests.e2e.client import (
    Api,
    Json,
    all_entries,
    list_bits,
    produce_many,
    read_topic,
    status_entries,
    until,
    webhook_receiver,
)
from tests.e2e.harness import Stack

JWT_ONLY = {"Accept": "application/vc+jwt"}  # the lists' VC-JWT form


def sequence(etag: str) -> int:
    """The snapshot sequence in a list's ETag (`"<seq>"`, `"<seq>-jwt"`)."""
    return int(etag.strip('"').removesuffix("-jwt"))


# Wipes Redis and waits for every service to heal: with the fault suite, in
# make faults (it takes a minute and measures time).
pytestmark = [pytest.mark.e2e, pytest.mark.faults]

WIPED = ("issuer", "catalog", "revocation")


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def served_list(api: Api, list_url: str) -> tuple[str, str]:
    """The revocation service's signed list at `list_url` and its ETag."""
    async with api.session.get(list_url, headers=JWT_ONLY) as answer:
        assert answer.status == 200, await answer.text()
        assert answer.headers["Content-Type"].startswith("application/vc+jwt")
        return await answer.text(), answer.headers["ETag"]


async def snapshots_of(stack: Stack, list_url: str) -> list[StatusListPublished]:
    """Every snapshot of one list on `status.lists`, in sequence order."""
    records = await read_topic(stack.kafka_bootstrap, stack.topic("status.lists"))
    snapshots = [
        event
        for record in records
        if record.key == list_url.encode()
        and isinstance(event := decode_event(record.value), StatusListPublished)
    ]
    assert snapshots, f"no snapshot of {list_url} on status.lists"
    return sorted(snapshots, key=lambda snapshot: snapshot.sequence)


def bits_at(snapshots: list[StatusListPublished], index: int) -> list[int]:
    return [list_bits(snapshot.credential_jwt).get(index) for snapshot in snapshots]


async def taken_in_allocator(stack: Stack, entries: list[tuple[str, int]]) -> list[int]:
    """The issuer allocator's taken-bit of each (list URL, index): its bitmap
    per list, `<prefix>:status-alloc:<list id>` (services/issuer/allocation.py)."""
    client = redis.Redis.from_url(stack.redis_url)
    try:
        prefix = stack.redis_prefix("issuer")
        return [
            int(await client.getbit(f"{prefix}:status-alloc:{url.rsplit('/', 1)[1]}", index))
            for url, index in entries
        ]
    finally:
        await client.aclose()


async def issue_and_revoke(api: Api, tag: str = "before") -> tuple[str, str, list[Json]]:
    issuer_did = await api.create_issuer()
    achievement_id = await api.achievement(issuer_did)
    await api.issuer_knows(achievement_id)
    earlier = [await api.issue(achievement_id, key=f"{tag}-{n}") for n in range(4)]
    status, body = await api.set_status(earlier[0]["credentialId"])
    assert status == 200 and body["changed"], body
    assert await api.reaches(earlier[0]["jwt"], "revoked")
    return issuer_did, achievement_id, earlier


async def test_wiped_redis_is_rebuilt_from_kafka(stack: Stack, api: Api) -> None:
    issuer_did, achievement_id, earlier = await issue_and_revoke(api)
    revoked, kept = earlier[0], earlier[1]
    revoked_url, revoked_index = status_entries(revoked["credential"])["revocation"]
    _, etag_before = await served_list(api, revoked_url)
    lifted = earlier[3]["credentialId"]
    for key, value in (("suspend-k", True), ("lift-k", False)):
        status, body = await api.set_status(lifted, purpose="suspension", status=value, key=key)
        assert status == 200 and body["changed"], body

    stack.stop(*WIPED)
    assert stack.wipe_redis(*WIPED) > 0
    assert stack.redis_keys(*WIPED) == []
    stack.start(*WIPED)
    # Indexes are random, so a reuse below would show only by chance: check
    # that the rebuilt allocator holds every entry handed out before the wipe.
    assert await taken_in_allocator(stack, all_entries(earlier)) == [1] * 2 * len(earlier)

    # The revocation service serves the rebuilt list, revoked bit set, signed
    # by the issuer, with a newer sequence than before the wipe (re-signed a
    # moment after it is ready: once its replay caught up).
    async def resigned() -> tuple[str, str] | None:
        found = await served_list(api, revoked_url)
        return found if sequence(found[1]) > sequence(etag_before) else None

    served = await until(resigned)
    assert served, f"the list was not re-signed after the wipe (ETag {etag_before} before)"
    list_jwt = served[0]
    await verify_vc_jwt(list_jwt, DidResolver())
    bits = list_bits(list_jwt)
    assert bits.get(revoked_index) == 1
    assert bits.get(status_entries(kept["credential"])["revocation"][1]) == 0
    history = bits_at(await snapshots_of(stack, revoked_url), revoked_index)
    assert history[-1] == 1, f"the newest snapshot lost the revocation: {history}"
    assert await api.verdict(revoked["jwt"]) == "revoked"
    assert await api.verdict(kept["jwt"]) == "valid"

    # The issuer still knows its credentials and idempotency keys.
    for credential in earlier:
        status, body = await api.call(
            "GET",
            f"{stack.url('issuer')}/credentials/{credential['credentialId']}",
            headers=api.auth,
        )
        assert status == 200, body
        assert body["jwt"] == credential["jwt"]
    status, again = await api.award(achievement_id, key="before-2")
    assert status == 200, again
    assert again["credentialId"] == earlier[2]["credentialId"]

    # The revocation service still knows its Idempotency-Keys: a late retry
    # of the suspension gets the first answer and does not undo the lift.
    status, body = await api.set_status(lifted, purpose="suspension", key="suspend-k")
    assert status == 200 and body["changed"], body
    suspension_url, suspension_index = status_entries(earlier[3]["credential"])["suspension"]
    assert list_bits((await served_list(api, suspension_url))[0]).get(suspension_index) == 0
    assert await api.verdict(earlier[3]["jwt"]) == "valid"

    # It still knows the issuer and achievement: new awards succeed, and never
    # reuse an entry handed out before the wipe.
    later = await asyncio.gather(*(api.issue(achievement_id, key=f"after-{n}") for n in range(6)))
    before, after = set(all_entries(earlier)), set(all_entries(list(later)))
    assert len(after) == 2 * len(later)
    assert not before & after, f"entries reused after the wipe: {before & after}"

    # The catalog still knows the issuer (and its tenant).
    status, body = await api.create_achievement(issuer_did)
    assert status == 201, body

    # A new revocation works, of a credential from before and from after the wipe.
    for credential in (kept, later[0]):
        status, body = await api.set_status(credential["credentialId"])
        assert status == 200 and body["changed"], body
        assert await api.reaches(credential["jwt"], "revoked")
    # Revoking the already revoked credential again changes nothing.
    status, body = await api.set_status(revoked["credentialId"])
    assert status == 200 and not body["changed"], body


async def probe_while_rebuilding(
    api: Api, list_url: str, suspended_id: str
) -> tuple[list[tuple[int, str]], list[tuple[int, Json]]]:
    """Until /readyz answers 200: fetch a status list and try to lift a
    suspension, as a client that does not wait for readiness would."""
    lists: list[tuple[int, str]] = []
    lifts: list[tuple[int, Json]] = []
    while True:
        try:
            async with api.session.get(list_url, headers=JWT_ONLY) as answer:
                lists.append((answer.status, await answer.text()))
            lifts.append(await api.set_status(suspended_id, purpose="suspension", status=False))
            async with api.session.get(f"{api.stack.url('revocation')}/readyz") as answer:
                if answer.status == 200:
                    return lists, lifts
        except aiohttp.ClientConnectionError:
            pass  # not listening yet
        await asyncio.sleep(0.01)


async def test_rebuilding_revocation_never_undoes_a_change(stack: Stack, api: Api) -> None:
    """While the revocation service replays a long `status.changes` history
    after a wipe it must not sign, serve or act on a half-rebuilt list."""
    issuer_did = await api.create_issuer("Rebuild Window College")
    achievement_id = await api.achievement(issuer_did)
    await api.issuer_knows(achievement_id)
    revoked, suspended = [await api.issue(achievement_id) for _ in range(2)]
    list_url, index = status_entries(revoked["credential"])["revocation"]
    suspension_url, _ = status_entries(suspended["credential"])["suspension"]
    # A long history ahead of the changes below, in their partitions (events
    # the revocation service ignores, so the replay stays quick but not instant).
    filler = encode_event(PathwayPublished(tenant="filler", pathway_id="filler", pathway={}))
    for url in (list_url, suspension_url):
        key = url.rsplit("/", 1)[1]  # status.changes is keyed by list id
        await produce_many(
            stack.kafka_bootstrap, stack.topic("status.changes"), key, filler, 20_000
        )
    assert (await api.set_status(revoked["credentialId"]))[0] == 200
    assert (await api.set_status(suspended["credentialId"], purpose="suspension"))[0] == 200
    assert await api.reaches(suspended["jwt"], "suspended")
    assert await api.reaches(revoked["jwt"], "revoked")

    stack.stop("revocation")
    stack.wipe_redis("revocation")
    stack.services["revocation"].start()
    lists, lifts = await probe_while_rebuilding(api, list_url, suspended["credentialId"])

    served = [list_bits(body).get(index) for status, body in lists if status == 200]
    assert all(bit == 1 for bit in served), f"served the revoked entry as clear: {served}"
    assert {status for status, _ in lists} <= {200, 404, 503}, lists
    assert await api.verdict(revoked["jwt"]) == "revoked"
    history = bits_at(await snapshots_of(stack, list_url), index)
    assert 0 not in history[history.index(1) :], f"revocation undone on status.lists: {history}"

    # A lift acknowledged during the rebuild must hold; else lift it now.
    if any(status == 200 for status, _ in lifts):
        assert await api.reaches(suspended["jwt"], "valid"), lifts
    status, body = await api.set_status(
        suspended["credentialId"], purpose="suspension", status=False
    )
    assert status == 200, body
    assert await api.reaches(suspended["jwt"], "valid")
    assert await api.verdict(revoked["jwt"]) == "revoked"


async def readiness(api: Api, name: str) -> tuple[int, Json]:
    async with api.session.get(f"{api.stack.url(name)}/readyz") as answer:
        return answer.status, await answer.json(content_type=None)


async def test_a_wipe_under_running_services_heals_by_itself(stack: Stack, api: Api) -> None:
    """Invariant 3, issue 6: FLUSHALL-like wipe while the services run, no
    restart: each service notices, replays Kafka into a new generation and is
    ready again by itself; nothing is lost or doubled."""
    issuer_did, achievement_id, earlier = await issue_and_revoke(api, "running")
    pids = {name: stack.services[name].process.pid for name in WIPED}  # type: ignore[union-attr]

    assert stack.wipe_redis(*WIPED) > 0
    # Right after the wipe, no write may give a wrong answer: a retried award
    # is the first credential or a 503, never a second credential.
    status, body = await api.award(achievement_id, key="running-1")
    assert status in (200, 503), (status, body)
    if status == 503:
        assert body["type"] == "urn:microcred:problem:rebuilding", body

    async def healed() -> bool:
        """Ready again, having replayed (its replica restarted at least once)."""
        for name in WIPED:
            status, report = await readiness(api, name)
            if status != 200 or report["checks"][f"{name}-replica"]["restarts"] < 1:
                return False
        return True

    if not await until(healed, within=60):
        states = {name: await readiness(api, name) for name in WIPED}
        raise AssertionError(f"a service did not heal by itself: {states}")
    assert {name: stack.services[name].process.pid for name in WIPED} == pids  # type: ignore[union-attr]

    # Nothing lost: the retry gets the first credential; the revocation holds.
    status, body = await api.award(achievement_id, key="running-1")
    assert status == 200 and body["credentialId"] == earlier[1]["credentialId"], body
    assert await api.verdict(earlier[0]["jwt"]) == "revoked"
    assert await taken_in_allocator(stack, all_entries(earlier)) == [1] * 2 * len(earlier)
    # Writes work again and an achievement and a status change still find their records.
    status, body = await api.create_achievement(issuer_did)
    assert status == 201, body
    status, body = await api.set_status(earlier[2]["credentialId"])
    assert status == 200 and body["changed"], body
    assert await api.reaches(earlier[2]["jwt"], "revoked")
    assert await api.verdict(earlier[1]["jwt"]) == "valid"


async def test_a_wipe_sends_no_webhook_delivery_twice_and_keeps_the_log(
    stack: Stack, api: Api
) -> None:
    """Issue 9's webhooks after a Redis wipe of the issuer: the feed replays
    every record from the beginning, yet a delivery that got through is not
    sent again, the log is rebuilt from `issuer.webhook-deliveries`, and
    deliveries go on."""
    received: list[tuple[str, str]] = []  # (delivery id, event type)

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        received.append((request.headers["Microcred-Delivery"], request.headers["Microcred-Event"]))
        return web.Response(status=204)

    async with webhook_receiver(stack, receive) as base:
        status, hook = await api.call(
            "POST",
            f"{stack.url('issuer')}/webhooks",
            json={
                "url": f"{base}/hook",
                "events": ["credential.issued"],
            },
            headers=api.auth,
        )
        assert status == 201, hook
        achievement_id = await api.achievement(await api.create_issuer())
        await api.issuer_knows(achievement_id)
        await api.issue(achievement_id, key="hook-before")

        async def got(count: int) -> bool:
            return len(received) >= count

        assert await until(lambda: got(1)), received

        feeds = ("issuer-replica", "webhook-feed")
        _, report = await readiness(api, "issuer")
        before = {name: report["checks"][name]["restarts"] for name in feeds}
        assert stack.wipe_redis("issuer") > 0

        async def healed() -> bool:
            """Ready again, both the replica and the feed having replayed."""
            status, report = await readiness(api, "issuer")
            checks = report.get("checks", {})
            return status == 200 and all(checks[n]["restarts"] > before[n] for n in feeds)

        assert await until(healed, within=60.0), await readiness(api, "issuer")
        await api.issue(achievement_id, key="hook-after")
        assert await until(lambda: got(2)), received
        await asyncio.sleep(2.0)  # time to send the first one again, were it to be

        assert len(received) == 2 and len({d for d, _ in received}) == 2, received

        async def logged() -> list[Json] | None:
            status, log = await api.call(
                "GET", f"{stack.url('issuer')}/webhook-deliveries", headers=api.auth
            )
            assert status == 200, log
            return log["items"] if len(log["items"]) == 2 else None

        log = await until(logged, within=15.0)
        assert log is not None, "the delivery log was not rebuilt"
        assert {e["id"] for e in log} == {d for d, _ in received}
        assert all(e["outcome"] == "delivered" and e["attempts"] == 1 for e in log)
