"""Invariants 1 and 6 under concurrency, with two issuer processes.

Both instances share the Redis namespace, topics and key store, as
horizontally scaled issuers do; only their ports differ.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from shared.events import CredentialIssued, StatusChanged, decode_event
from tests.e2e.client import Api, Json, read_topic, status_entries
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

ISSUERS = ("issuer", "issuer-2")
AWARDS = 200


@pytest.fixture(scope="module")
def two_issuers(stack: Stack) -> Iterator[Stack]:
    stack.add_instance("issuer", "issuer-2")
    stack.start("issuer-2")
    try:
        yield stack
    finally:
        stack.stop("issuer-2")


@pytest.fixture
async def api(two_issuers: Stack) -> AsyncIterator[Api]:
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Api(two_issuers, session)


async def achievement_on_both(api: Api) -> str:
    achievement_id = await api.achievement(await api.create_issuer())
    for issuer in ISSUERS:
        await api.issuer_knows(achievement_id, issuer=issuer)
    return achievement_id


async def issued_events(stack: Stack) -> list[CredentialIssued]:
    records = await read_topic(stack.kafka_bootstrap, stack.topic("credentials.issued"))
    return [e for r in records if isinstance(e := decode_event(r.value), CredentialIssued)]


async def test_two_issuers_never_share_a_status_entry(api: Api) -> None:
    achievement_id = await achievement_on_both(api)
    gate = asyncio.Semaphore(16)

    async def one(n: int) -> tuple[int, Any]:
        async with gate:
            learner = {"id": f"did:example:learner-{n}"}
            return await api.award(achievement_id, recipient=learner, issuer=ISSUERS[n % 2])

    answers = await asyncio.gather(*(one(n) for n in range(AWARDS)))
    assert [status for status, _ in answers] == [201] * AWARDS, answers[:3]
    credentials: list[Json] = [body["credential"] for _, body in answers]
    assert len({c["id"] for c in credentials}) == AWARDS
    for purpose in ("revocation", "suspension"):
        entries = [status_entries(c)[purpose] for c in credentials]
        assert len(set(entries)) == AWARDS, Counter(entries).most_common(3)

    # And across everything the bus ever recorded in this session.
    recorded = [
        (entry.list_url, entry.index)
        for event in await issued_events(api.stack)
        for entry in event.status_entries
    ]
    duplicates = [entry for entry, count in Counter(recorded).items() if count > 1]
    assert not duplicates, duplicates
    assert len(recorded) >= 2 * AWARDS


async def test_one_idempotency_key_makes_one_credential(api: Api) -> None:
    achievement_id = await achievement_on_both(api)
    key = "retry-storm-1"

    answers = await asyncio.gather(
        *(api.award(achievement_id, key=key, issuer=ISSUERS[n % 2]) for n in range(20))
    )
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 200: 19}, answers
    ids = {body["credentialId"] for _, body in answers}
    assert len(ids) == 1, ids
    assert len({body["jwt"] for _, body in answers}) == 1

    # The same key with another request is refused, on either instance.
    for issuer in ISSUERS:
        status, body = await api.award(achievement_id, key=key, score=99, issuer=issuer)
        assert status == 422, body
        assert body["type"].endswith("idempotency-key-reused")

    issued = [e for e in await issued_events(api.stack) if e.idempotency_key == key]
    assert [e.credential_id for e in issued] == list(ids)


async def test_repeated_status_change_is_recorded_once(api: Api) -> None:
    achievement_id = await achievement_on_both(api)
    credential = await api.issue(achievement_id)
    credential_id = credential["credentialId"]

    for purpose in ("revocation", "suspension"):
        answers = await asyncio.gather(
            *(api.set_status(credential_id, purpose=purpose) for _ in range(10))
        )
        assert [status for status, _ in answers] == [200] * 10, answers
        assert sum(1 for _, body in answers if body["changed"]) == 1, answers

    records = await read_topic(api.stack.kafka_bootstrap, api.stack.topic("status.changes"))
    changes = [
        event
        for record in records
        if isinstance(event := decode_event(record.value), StatusChanged)
        and event.credential_id == credential_id
    ]
    assert sorted((c.purpose, c.value) for c in changes) == [("revocation", 1), ("suspension", 1)]


async def test_status_change_right_after_the_award(api: Api) -> None:
    """The revocation service learns credentials from Kafka: a revocation sent
    the moment the award is answered must not be refused as unknown."""
    achievement_id = await achievement_on_both(api)
    for n in range(20):
        credential = await api.issue(achievement_id, issuer=ISSUERS[n % 2])
        purpose = ("revocation", "suspension")[n % 2]
        status, body = await api.set_status(credential["credentialId"], purpose=purpose)
        assert status == 200 and body["changed"], (n, body)


async def test_a_retried_suspension_does_not_undo_a_later_lift(api: Api) -> None:
    """docs/api.md: a retry with the same Idempotency-Key returns the first
    answer and never makes a second status change, even when it arrives
    after a later request changed the status back."""
    achievement_id = await achievement_on_both(api)
    credential = await api.issue(achievement_id)
    credential_id = credential["credentialId"]

    async def suspend(status: bool, key: str) -> tuple[int, Any]:
        return await api.set_status(credential_id, purpose="suspension", status=status, key=key)

    first = await suspend(True, "suspend-1")
    assert first[0] == 200 and first[1]["changed"], first
    assert await api.reaches(credential["jwt"], "suspended")
    lifted = await suspend(False, "lift-1")
    assert lifted[0] == 200 and lifted[1]["changed"], lifted
    assert await api.reaches(credential["jwt"], "valid")

    retried = await suspend(True, "suspend-1")  # a late retry of the first request
    assert retried[0] == 200 and retried[1]["changed"] == first[1]["changed"], retried
    assert await api.verdict(credential["jwt"]) == "valid"
    status, body = await suspend(False, "suspend-1")  # the key, for another request
    assert status == 422, body

    records = await read_topic(api.stack.kafka_bootstrap, api.stack.topic("status.changes"))
    values = [
        event.value
        for record in records
        if isinstance(event := decode_event(record.value), StatusChanged)
        and event.credential_id == credential_id
    ]
    assert values == [1, 0], values


async def test_issuers_and_achievements_honour_the_idempotency_key(api: Api) -> None:
    """docs/api.md: every write honours Idempotency-Key (issue 6, item 4)."""
    issuer_body = {"name": "Idempotent College", "url": "https://idem.example"}
    url = f"{api.stack.url('issuer')}/issuers"
    headers = {**api.auth, "Idempotency-Key": "issuer-once"}
    answers = await asyncio.gather(
        *(api.call("POST", url, json=issuer_body, headers=headers) for _ in range(6))
    )
    assert Counter(status for status, _ in answers) == {201: 1, 200: 5}, answers
    assert len({body["id"] for _, body in answers}) == 1
    status, body = await api.call(
        "POST", url, json={**issuer_body, "name": "Other"}, headers=headers
    )
    assert status == 422 and body["type"].endswith("idempotency-key-reused"), body
    profiles = await read_topic(api.stack.kafka_bootstrap, api.stack.topic("issuer.profiles"))
    keyed = [
        event
        for record in profiles
        if getattr(event := decode_event(record.value), "idempotency_key", None) == "issuer-once"
    ]
    assert len(keyed) == 1
    issuer_did = answers[0][1]["id"]

    achievement = {
        "issuerDid": issuer_did,
        "name": "Idempotent Data Protection",
        "description": "Apply GDPR.",
        "criteria": {"narrative": "Pass with 90%."},
        "masteryThreshold": 0.9,
    }
    url = f"{api.stack.url('catalog')}/achievements"
    headers = {**api.auth, "Idempotency-Key": "achievement-once"}
    first = await api.call("POST", url, json=achievement, headers=headers)
    assert first[0] == 201, first
    again = await asyncio.gather(
        *(api.call("POST", url, json=achievement, headers=headers) for _ in range(4))
    )
    assert {status for status, _ in again} == {200}, again
    assert {body["id"] for _, body in again} == {first[1]["id"]}
    status, body = await api.call(
        "POST", url, json={**achievement, "masteryThreshold": 0.5}, headers=headers
    )
    assert status == 422 and body["type"].endswith("idempotency-key-reused"), body
    # Keys are per tenant: another tenant's identical key is its own.
    other = {"Authorization": "Bearer other-token", "Idempotency-Key": "issuer-once"}
    status, body = await api.call(
        "POST", f"{api.stack.url('issuer')}/issuers", json=issuer_body, headers=other
    )
    assert status == 201 and body["id"] != issuer_did, body
