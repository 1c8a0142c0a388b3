"""Registrar operations (issue 9): status changes with reasons and their
audit trail, as an institution and a verifier see them.

Real processes (tests/e2e/harness.py) on the shared Kafka and Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from shared.events import AssessmentPassed, StatusChanged, decode_event, encode_event
from tests.e2e.client import Api, Json, produce_raw, read_topic, until, webhook_receiver
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def change_status(
    api: Api, credential_id: str, purpose: str, status: bool, reason: Any, key: str | None = None
) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    body: Json = {
        "credentialId": credential_id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
        "status": status,
    }
    if reason is not None:
        body["reason"] = reason
    return await api.call(
        "POST", f"{api.stack.url('revocation')}/credentials/status", json=body, headers=headers
    )


async def history(api: Api, credential_id: str) -> tuple[int, Any]:
    url = f"{api.stack.url('revocation')}/credentials/{credential_id}/status-history"
    return await api.call("GET", url, headers=api.auth)


async def state_details(api: Api, jwt: str, state: str) -> Json:
    async def reached() -> Json | None:
        # The verifier reads a state from status.lists, and since when and why
        # from status.changes: two topics, so one may arrive a moment first.
        _, report = await api.verify(jwt)
        dated = state not in ("revoked", "suspended") or report["stateDetails"].get("since")
        return report if report["state"] == state and dated else None

    report = await until(reached, within=10.0)
    assert report, f"never {state}"
    return dict(report["stateDetails"])


async def test_reasons_public_and_private_with_an_audit_trail(api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    public = await api.issue(achievement_id, key="reason-a")
    private = await api.issue(achievement_id, key="reason-b")

    # A code outside the documented enumeration, an unknown member: 422.
    for bad in ({"code": "because"}, {"code": "other", "secret": 1}, {"text": "no code"}):
        status, problem = await change_status(api, public["credentialId"], "revocation", True, bad)
        assert status == 422, problem

    reason = {"code": "investigation", "text": "Under review by the exam board", "public": True}
    status, body = await change_status(
        api, public["credentialId"], "suspension", True, reason, key="s-1"
    )
    assert status == 200 and body["changed"], body
    details = await state_details(api, public["jwt"], "suspended")
    assert details["reason"] == {"code": "investigation", "text": "Under review by the exam board"}
    assert details["since"]

    secret = {"code": "academic_misconduct", "text": "Copied the capstone project"}
    status, body = await change_status(api, private["credentialId"], "revocation", True, secret)
    assert status == 200 and body["changed"], body
    details = await state_details(api, private["jwt"], "revoked")
    assert details["reason"] is None and details["since"]  # private: never shown

    # Reinstated, then revoked with a public reason: the report follows.
    status, _ = await change_status(api, public["credentialId"], "suspension", False, None)
    assert status == 200
    await state_details(api, public["jwt"], "valid")
    final = {"code": "issued_in_error", "text": "Wrong learner", "public": True}
    status, _ = await change_status(api, public["credentialId"], "revocation", True, final)
    assert status == 200
    details = await state_details(api, public["jwt"], "revoked")
    assert details["reason"] == {"code": "issued_in_error", "text": "Wrong learner"}

    status, trail = await history(api, public["credentialId"])
    assert status == 200, trail
    changes = trail["changes"]
    assert [c["action"] for c in changes] == ["suspended", "reinstated", "revoked"]
    assert changes[0]["reason"] == reason and changes[0]["idempotencyKey"] == "s-1"
    assert changes[1]["reason"] is None
    assert all(c["tenant"] == api.stack.tenant for c in changes)
    assert all(c["actor"].startswith("token:sha256:") for c in changes)
    assert api.stack.token not in str(trail)  # the token itself is never kept
    assert all(c["requestId"] for c in changes)

    status, trail = await history(api, private["credentialId"])
    assert status == 200 and trail["changes"][0]["reason"] == {**secret, "public": False}

    # Tenant-only: another institution, and anonymous callers, see nothing.
    status, _ = await history(api.as_tenant("other-token"), public["credentialId"])
    assert status == 404
    status, _ = await history(api.as_tenant(""), public["credentialId"])
    assert status == 401


async def search(api: Api, **query: Any) -> tuple[int, Any]:
    url = f"{api.stack.url('issuer')}/registry/search"
    return await api.call("POST", url, json=query, headers=api.auth)


async def found(api: Api, **query: Any) -> list[str]:
    status, page = await search(api, **query)
    assert status == 200, page
    return [item["credentialId"] for item in page["items"]]


async def test_registrar_search_export_and_rebuild(stack: Stack, api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    other_achievement = await api.achievement(await api.accredited_issuer("Other College"))
    jane = {"email": "Jane.Doe@uni.example"}
    first = await api.issue(achievement_id, recipient=jane, key="s-jane-1")
    second = await api.issue(other_achievement, recipient=jane, key="s-jane-2")
    student = await api.issue(achievement_id, recipient={"studentId": "S-1234"}, key="s-stu")
    did = await api.issue(achievement_id, recipient={"id": "did:example:bob"}, key="s-bob")
    ids = [c["credentialId"] for c in (first, second, student, did)]

    assert await found(api, learner={"email": "jane.doe@UNI.example"}) == ids[:2]
    assert await found(api, learner={"studentId": "S-1234"}) == [ids[2]]
    assert await found(api, learner={"id": "did:example:bob"}) == [ids[3]]
    assert await found(api, achievementId=other_achievement) == [ids[1]]
    assert await found(api, achievementId=achievement_id, revision=1) == [ids[0], *ids[2:]]
    assert await found(api, achievementId=achievement_id, revision=2) == []
    y2k = {"issuedFrom": "2000-01-01T00:00:00Z", "issuedTo": "2000-12-31T00:00:00Z"}
    assert await found(api, **y2k) == []
    # Tenant isolation: the other tenant finds nothing of ours, even by learner.
    assert (
        await found(api.as_tenant("other-token"), learner={"email": "jane.doe@uni.example"}) == []
    )
    status, problem = await search(api, learner={"email": "a@b.example", "studentId": "1"})
    assert status == 422 and problem["errors"][0]["path"] == "$.learner", problem
    status, problem = await search(api, status="gone")
    assert status == 422, problem

    # Pagination walks every match once.
    seen: list[str] = []
    cursor = None
    while True:
        status, page = await search(api, achievementId=achievement_id, limit=1, cursor=cursor)
        assert status == 200, page
        seen += [item["credentialId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [ids[0], *ids[2:]]

    # Status follows status.changes (the issuer replays it).
    status, _ = await change_status(api, ids[0], "revocation", True, None)
    assert status == 200

    async def revoked_found() -> list[str] | None:
        got = await found(api, status="revoked", issuedFrom=first["credential"]["validFrom"])
        return got or None

    assert await until(revoked_found, within=10.0) == [ids[0]]

    url = f"{api.stack.url('issuer')}/registry/export"
    async with api.session.post(
        url, json={"format": "csv", "achievementId": achievement_id}, headers=api.auth
    ) as answer:
        assert answer.status == 200 and answer.content_type == "text/csv"
        lines = (await answer.text()).strip().splitlines()
    assert lines[0].startswith("credentialId,achievementId,revision,issuedAt")
    assert len(lines) == 4 and ids[0] in lines[1] and ",revoked," in lines[1]
    query = {"format": "jsonl", "learner": {"email": "jane.doe@uni.example"}}
    async with api.session.post(url, json=query, headers=api.auth) as answer:
        assert answer.status == 200
        rows = [json.loads(line) for line in (await answer.text()).strip().splitlines()]
    assert [row["credentialId"] for row in rows] == ids[:2]
    assert "jane" not in str(stack.redis_keys("issuer")).lower()

    # A Redis wipe: the index and the audit trail come back from Kafka.
    stack.stop("issuer", "revocation")
    assert stack.wipe_redis("issuer", "revocation") > 0
    stack.start("issuer", "revocation")

    async def rebuilt() -> list[str] | None:
        try:  # the session's kept-alive connections went with the old processes
            status, page = await search(api, learner={"email": "jane.doe@uni.example"})
        except aiohttp.ClientError:
            return None
        return [i["status"] for i in page["items"]] if status == 200 and page["items"] else None

    assert await until(rebuilt, within=30.0) == ["revoked", "active"]
    status, trail = await history(api, ids[0])
    assert status == 200 and [c["action"] for c in trail["changes"]] == ["revoked"], trail


async def test_renewal_references_the_previous_credential_and_the_expiry_report(
    api: Api,
) -> None:
    issuer = await api.accredited_issuer()
    status, achievement = await api.call(
        "POST",
        f"{api.stack.url('catalog')}/achievements",
        json={
            "issuerDid": issuer,
            "name": "Forklift Safety",
            "description": "Operate a forklift safely in a warehouse.",
            "criteria": {"narrative": "Pass the practical test with at least 90%."},
            "masteryThreshold": 0.9,
            "microCredential": {"validityPeriod": "P10D"},
        },
        headers=api.auth,
    )
    assert status == 201, achievement
    achievement_id = achievement["id"]
    learner = {"studentId": "FL-77"}
    old = await api.issue(achievement_id, recipient=learner, key="renew-0")

    status, report = await api.call(
        "GET", f"{api.stack.url('issuer')}/reports/expiring?days=30", headers=api.auth
    )
    assert status == 200, report
    entry = next(a for a in report["achievements"] if a["achievementId"] == achievement_id)
    assert entry["count"] == 1 and entry["credentials"][0]["credentialId"] == old["credentialId"]
    status, report = await api.call(
        "GET", f"{api.stack.url('issuer')}/reports/expiring?days=5", headers=api.auth
    )
    assert status == 200 and all(
        a["achievementId"] != achievement_id for a in report["achievements"]
    )
    for bad in ("0", "x", "99999"):
        status, _ = await api.call(
            "GET", f"{api.stack.url('issuer')}/reports/expiring?days={bad}", headers=api.auth
        )
        assert status == 422

    async def renew(**fields: Any) -> tuple[int, Any]:
        body = {"achievementId": achievement_id, "recipient": learner, "score": 97, **fields}
        return await api.call(
            "POST", f"{api.stack.url('issuer')}/awards", json=body, headers=api.auth
        )

    # Another learner, another tenant's credential, an unknown one: refused.
    status, problem = await renew(renews=old["credentialId"], recipient={"studentId": "FL-78"})
    assert status == 409 and "same learner" in problem["detail"], problem
    status, problem = await renew(renews="urn:uuid:00000000-0000-4000-8000-000000000000")
    assert status == 404, problem
    other = api.as_tenant("other-token")
    status, problem = await other.call(
        "POST",
        f"{api.stack.url('issuer')}/awards",
        json={
            "achievementId": achievement_id,
            "recipient": learner,
            "score": 97,
            "renews": old["credentialId"],
        },
        headers=other.auth,
    )
    assert status == 404, problem

    status, renewed = await renew(renews=old["credentialId"])
    assert status == 201, renewed
    evidence = renewed["credential"]["evidence"]
    assert {"id": old["credentialId"], "genre": "Renewal"}.items() <= evidence[0].items()
    assert renewed["credential"]["validUntil"] > old["credential"]["validUntil"]
    assert await api.verdict(renewed["jwt"]) == "valid"
    assert await api.verdict(old["jwt"]) == "valid"  # the old one keeps its own validity

    status, page = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/registry/search",
        json={"learner": learner},
        headers=api.auth,
    )
    assert status == 200, page
    assert [i["renews"] for i in page["items"]] == [None, old["credentialId"]]
    # Renewed once: the newest credential is the one to renew.
    status, problem = await renew(renews=old["credentialId"])
    assert status == 409 and renewed["credentialId"] in problem["detail"], problem

    # A revoked credential is not renewed.
    status, _ = await change_status(api, renewed["credentialId"], "revocation", True, None)
    assert status == 200

    async def known_revoked() -> bool:
        status, page = await api.call(
            "POST",
            f"{api.stack.url('issuer')}/registry/search",
            json={"learner": learner, "status": "revoked"},
            headers=api.auth,
        )
        return status == 200 and len(page["items"]) == 1

    assert await until(known_revoked, within=10.0)
    status, problem = await renew(renews=renewed["credentialId"])
    assert status == 409 and "revoked" in problem["detail"], problem


async def test_renewals_at_the_same_moment_renew_a_credential_once(api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    learner = {"studentId": "FL-90"}
    old = await api.issue(achievement_id, recipient=learner, key="renew-once-0")

    async def renew(n: int) -> tuple[int, Any]:
        body = {
            "achievementId": achievement_id,
            "recipient": learner,
            "score": 97,
            "renews": old["credentialId"],
        }
        headers = {**api.auth, "Idempotency-Key": f"renew-once-{n}"}
        return await api.call(
            "POST", f"{api.stack.url('issuer')}/awards", json=body, headers=headers
        )

    answers = await asyncio.gather(*(renew(n) for n in range(1, 7)))
    assert sorted(status for status, _ in answers) == [201] + [409] * 5, answers
    status, page = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/registry/search",
        json={"learner": learner},
        headers=api.auth,
    )
    assert status == 200 and [i["renews"] for i in page["items"]] == [
        None,
        old["credentialId"],
    ], page


async def job(api: Api, body: Json, key: str | None = None) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    return await api.call(
        "POST", f"{api.stack.url('revocation')}/status-jobs", json=body, headers=headers
    )


async def finished_job(api: Api, job_id: str, *, within: float = 30.0) -> Json:
    seen: list[int] = []

    async def done() -> Json | None:
        try:
            status, view = await api.call(
                "GET", f"{api.stack.url('revocation')}/status-jobs/{job_id}", headers=api.auth
            )
        except aiohttp.ClientError:  # a restarted service
            return None
        if status != 200:
            return None
        seen.append(view["progress"]["done"])
        return dict(view) if view["state"] == "finished" else None

    view = await until(done, within=within, interval=0.05)
    assert view, f"job {job_id} never finished"
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    return view


async def test_bulk_suspend_and_revoke_jobs(stack: Stack, api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    issued = [
        await api.issue(achievement_id, recipient={"id": f"did:example:j{i}"}, key=f"job-{i}")
        for i in range(12)
    ]
    ids = [c["credentialId"] for c in issued]

    # A selection is resolved from what the revocation service learnt of
    # credentials.issued over Kafka: wait until it knows all twelve (a status
    # history answers once its credential arrived).
    async def all_known() -> bool:
        return all([(await history(api, i))[0] == 200 for i in ids])

    assert await until(all_known), "the revocation service never learnt the credentials"

    # Bad jobs: both or neither of ids and selection, an empty selection.
    for bad in (
        {"action": "suspend"},
        {"action": "suspend", "credentialIds": ids[:1], "selection": {"achievementId": "x"}},
        {"action": "suspend", "selection": {"achievementId": "urn:uuid:nothing"}},
        {"action": "explode", "credentialIds": ids[:1]},
    ):
        status, problem = await job(api, bad)
        assert status == 422, (bad, problem)

    # Suspend the whole achievement (a selection), crash mid-job, resume.
    reason = {"code": "investigation", "text": "Exam leak under review", "public": True}
    body = {"action": "suspend", "selection": {"achievementId": achievement_id}, "reason": reason}
    status, submitted = await job(api, body, key="suspend-all")
    assert status == 202, submitted
    assert submitted["progress"]["total"] == 12
    stack.services["revocation"].kill()  # kill -9, whatever it had done
    stack.start("revocation")
    view = await finished_job(api, submitted["id"])
    assert view["progress"] == {
        "total": 12,
        "done": 12,
        "changed": 12,
        "unchanged": 0,
        "refused": 0,
    }, view
    status, again = await job(api, body, key="suspend-all")  # a retried submission
    assert status == 200 and again["id"] == submitted["id"]
    # Exactly one StatusChanged per credential, however often the job ran.
    changes = [
        decode_event(r.value)
        for r in await read_topic(stack.kafka_bootstrap, stack.topic("status.changes"))
    ]
    ours = [c for c in changes if isinstance(c, StatusChanged) and c.credential_id in ids]
    assert sorted(c.credential_id for c in ours) == sorted(ids)
    assert all(c.idempotency_key == f"job:{submitted['id']}:{c.credential_id}" for c in ours)
    details = await state_details(api, issued[3]["jwt"], "suspended")
    assert details["reason"] == {"code": "investigation", "text": reason["text"]}

    # Revoke a list of ids, one unknown and one the other tenant's view cannot see.
    unknown = "urn:uuid:00000000-0000-4000-8000-00000000abcd"
    status, submitted = await job(api, {"action": "revoke", "credentialIds": [*ids[:2], unknown]})
    assert status == 202, submitted
    view = await finished_job(api, submitted["id"])
    outcomes = {item["credentialId"]: item["outcome"] for item in view["items"]}
    assert outcomes[ids[0]] == outcomes[ids[1]] == "changed"
    assert outcomes[unknown].startswith("refused")
    assert await api.reaches(issued[0]["jwt"], "revoked")
    status, _ = await api.as_tenant("other-token").call(
        "GET",
        f"{stack.url('revocation')}/status-jobs/{submitted['id']}",
        headers=api.as_tenant("other-token").auth,
    )
    assert status == 404


@dataclass
class Receiver:
    """A real HTTP server receiving webhooks; fails the first `failures`
    attempts of each delivery (by its Microcred-Delivery id)."""

    failures: int = 2
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((request.path, dict(request.headers), body))
        delivery = request.headers.get("Microcred-Delivery", "")
        self.attempts[delivery] = self.attempts.get(delivery, 0) + 1
        status = 500 if self.attempts[delivery] <= self.failures else 204
        self.answered.append(status)
        return web.Response(status=status)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The documented recipe: HMAC-SHA256(secret, "<t>." + body), t recent."""
    fields = dict(part.split("=", 1) for part in headers["Microcred-Signature"].split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(
        bytes.fromhex(secret), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return abs(time.time() - timestamp) < 300 and hmac.compare_digest(expected, fields["v1"])


async def test_webhooks_signed_retried_logged_and_per_tenant(stack: Stack, api: Api) -> None:
    receiver = Receiver()
    hooks = f"{stack.url('issuer')}/webhooks"
    other = api.as_tenant("other-token")
    async with webhook_receiver(stack, receiver.handle) as base:
        # Not https, credentials in the URL, an unknown event: refused.
        for bad in (
            {"url": "http://hooks.example/x"},
            {"url": "https://user:pw@hooks.example/x"},
            {"url": f"{base}/a", "events": ["credential.exploded"]},
        ):
            status, problem = await api.call("POST", hooks, json=bad, headers=api.auth)
            assert status == 422, (bad, problem)

        status, hook = await api.call("POST", hooks, json={"url": f"{base}/ours"}, headers=api.auth)
        assert status == 201 and len(hook["secret"]) == 64, hook
        status, theirs = await other.call(
            "POST", hooks, json={"url": f"{base}/theirs"}, headers=other.auth
        )
        assert status == 201, theirs
        # https, but to a loopback address: the SSRF guard refuses each attempt.
        status, guarded = await api.call(
            "POST",
            hooks,
            json={"url": "https://127.0.0.1:9/hook", "events": ["credential.issued"]},
            headers=api.auth,
        )
        assert status == 201, guarded

        achievement_id = await api.achievement(await api.accredited_issuer())
        credential = await api.issue(achievement_id, key="webhook-1")
        reason = {"code": "issued_in_error", "text": "Wrong cohort", "public": False}
        status, _ = await change_status(api, credential["credentialId"], "revocation", True, reason)
        assert status == 200

        wanted = {"credential.issued", "credential.revoked"}

        async def both_delivered() -> bool:
            # Each wanted event through: its delivery answered past the failures
            # (a credential.expiring delivery may get through in between).
            through = {
                json.loads(body)["type"]
                for path, headers, body in receiver.received
                if path == "/ours" and receiver.attempts[headers["Microcred-Delivery"]] > 2
            }
            return wanted <= through

        assert await until(both_delivered, within=30.0), receiver.answered
        assert receiver.answered[:2] == [500, 500]  # the receiver failed twice first
        kinds = {
            headers["Microcred-Delivery"]: headers["Microcred-Event"]
            for _, headers, _ in receiver.received
        }
        notified = [n for d, n in receiver.attempts.items() if kinds[d] != "credential.expiring"]
        assert notified == [3, 3]  # then each delivery got through
        for path, headers, body in receiver.received:
            assert path == "/ours", "the other tenant's webhook got our records"
            assert verified(hook["secret"], headers, body), headers
            assert not verified(theirs["secret"], headers, body)
        events = {json.loads(b)["type"]: json.loads(b) for _, _, b in receiver.received}
        assert events["credential.issued"]["data"]["credentialId"] == credential["credentialId"]
        assert events["credential.revoked"]["data"]["reason"]["code"] == "issued_in_error"
        assert all(json.loads(b)["tenant"] == stack.tenant for _, _, b in receiver.received)

        async def log_shows(outcome: str, path: str) -> list[Json] | None:
            status, log = await api.call("GET", f"{stack.url('issuer')}/{path}", headers=api.auth)
            assert status == 200, log
            found = [e for e in log["items"] if e["outcome"] == outcome]
            return found or None

        async def both_logged() -> list[Json] | None:
            # A delivery is logged once its end is recorded on Kafka, a moment
            # after the receiver answered.
            found = await log_shows("delivered", "webhook-deliveries") or []
            return found if wanted <= {e["type"] for e in found} else None

        delivered = await until(both_logged)
        assert delivered and all(e["attempts"] == 3 for e in delivered)  # 2 failures, then ok
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["at"]) for e in delivered)
        assert {"credential.issued", "credential.revoked"} <= {e["type"] for e in delivered}
        dead = await until(lambda: log_shows("dead", "webhook-dead-letters"), within=30.0)
        assert dead and dead[0]["webhookId"] == guarded["id"] and dead[0]["attempts"] == 4
        assert "non-public" in dead[0]["errors"][0], dead[0]
        # Tenant isolation of the views.
        status, log = await other.call(
            "GET", f"{stack.url('issuer')}/webhook-deliveries", headers=other.auth
        )
        assert status == 200 and log["items"] == []
        status, listed = await other.call("GET", hooks, headers=other.auth)
        assert [h["id"] for h in listed["items"]] == [theirs["id"]]
        status, _ = await other.call("DELETE", f"{hooks}/{hook['id']}", headers=other.auth)
        assert status == 404

        # Refused (an inbound assessment below the threshold) and expiring.
        refusal = AssessmentPassed(
            tenant=stack.tenant,
            achievement_id=achievement_id,
            learner={"id": "did:example:low"},
            score=10,
            idempotency_key="inbound-low",
        )
        await produce_raw(
            stack.kafka_bootstrap,
            stack.topic("issuer.assessments"),
            [("did:example:low", encode_event(refusal))],
        )
        status, expiring = await api.call(
            "POST",
            f"{stack.url('catalog')}/achievements",
            json={
                "issuerDid": credential["credential"]["issuer"]["id"],
                "name": "First Aid at Work",
                "description": "Give first aid in a workplace emergency.",
                "criteria": {"narrative": "Pass the practical assessment."},
                "masteryThreshold": 0.9,
                "microCredential": {"validityPeriod": "P10D"},
            },
            headers=api.auth,
        )
        assert status == 201, expiring
        soon = await api.issue(expiring["id"], key="webhook-expiring")

        def ours(kind: str) -> list[Json]:
            bodies = [json.loads(b) for p, _, b in receiver.received if p == "/ours"]
            return [b for b in bodies if b["type"] == kind]

        async def more_delivered() -> bool:
            refused = [b for b in ours("credential.refused") if b["data"]["eventId"] == refusal.id]
            soon_ids = [b["data"]["credentialId"] for b in ours("credential.expiring")]
            return bool(refused) and soon["credentialId"] in soon_ids

        assert await until(more_delivered, within=30.0), [b for _, _, b in receiver.received]
        (refused,) = {b["id"]: b for b in ours("credential.refused")}.values()
        assert "threshold" in refused["data"]["reason"]["title"].lower(), refused
        await asyncio.sleep(2.5)  # two more scans: still notified once
        notices = [
            b
            for b in ours("credential.expiring")
            if b["data"]["credentialId"] == soon["credentialId"]
        ]
        assert len({b["id"] for b in notices}) == 1


async def test_formative_attempts_and_refusals_are_recorded_found_and_notified(
    stack: Stack, api: Api
) -> None:
    receiver = Receiver(failures=0)
    issuer = stack.url("issuer")
    learner = {"email": "ada@example.org"}
    async with webhook_receiver(stack, receiver.handle) as base:
        status, hook = await api.call(
            "POST",
            f"{issuer}/webhooks",
            json={
                "url": f"{base}/attempts",
                "events": ["credential.refused", "attempt.recorded"],
            },
            headers=api.auth,
        )
        assert status == 201, hook
        achievement_id = await api.achievement(await api.accredited_issuer())
        await api.issuer_knows(achievement_id)
        practice = {"achievementId": achievement_id, "recipient": learner, "score": 60}
        headers = {**api.auth, "Idempotency-Key": "practice-1"}
        status, attempt = await api.call(
            "POST", f"{issuer}/attempts", json=practice, headers=headers
        )
        assert status == 201, attempt
        assert (attempt["kind"], attempt["metThreshold"]) == ("formative", False)
        status, again = await api.call("POST", f"{issuer}/attempts", json=practice, headers=headers)
        assert (status, again["id"]) == (200, attempt["id"])
        # Formative over Kafka, and an award refused over HTTP: recorded too.
        inbound = AssessmentPassed(
            tenant=stack.tenant,
            achievement_id=achievement_id,
            learner=learner,
            score=95,
            formative=True,
        )
        await produce_raw(
            stack.kafka_bootstrap,
            stack.topic("issuer.assessments"),
            [("ada", encode_event(inbound))],
        )
        status, problem = await api.award(achievement_id, recipient=learner, score=40, key="exam")
        assert status == 422, problem

        async def ada_attempts() -> list[Json] | None:
            status, page = await api.call(
                "POST",
                f"{issuer}/attempts/search",
                json={"learner": learner, "achievementId": achievement_id},
                headers=api.auth,
            )
            assert status == 200, page
            return page["items"] if len(page["items"]) == 3 else None

        found = await until(ada_attempts, within=15.0)
        assert found is not None, "three attempts of this learner never found"
        assert {(a["kind"], a["source"], a["metThreshold"]) for a in found} == {
            ("refused", "api", None),
            ("formative", "kafka", True),
            ("formative", "api", False),
        }
        times = [a["recordedAt"] for a in found]
        assert times == sorted(times, reverse=True)  # newest first
        (refusal,) = [a for a in found if a["kind"] == "refused"]
        assert "threshold" in refusal["reason"]["title"].lower()
        status, _ = await api.award(achievement_id, recipient=learner, score=95, key="exam")
        assert status == 201  # the refusal left the key free for the corrected result
        other = api.as_tenant("other-token")
        status, theirs = await other.call(
            "POST", f"{issuer}/attempts/search", json={"learner": learner}, headers=other.auth
        )
        assert status == 200 and theirs["items"] == []

        def notified() -> dict[str, list[Json]]:
            bodies = [json.loads(b) for p, _, b in receiver.received if p == "/attempts"]
            return {
                kind: [b["data"] for b in bodies if b["type"] == kind]
                for kind in ("credential.refused", "attempt.recorded")
            }

        async def all_notified() -> bool:
            seen = notified()
            ids = {d["attemptId"] for kind in seen.values() for d in kind}
            return {a["id"] for a in found} <= ids

        assert await until(all_notified, within=15.0), notified()
        refused = [d for d in notified()["credential.refused"] if d["attemptId"] == refusal["id"]]
        assert refused[0]["source"] == "api" and refused[0]["idempotencyKey"] == "exam"
