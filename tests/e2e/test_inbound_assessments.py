"""Institutions feed the issuer over Kafka: `AssessmentPassed` on `issuer.assessments`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from shared.events import AssessmentPassed, CredentialIssued, decode_event, encode_event
from tests.e2e.client import Api, produce_raw, read_topic, until
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def assessment(achievement_id: str, score: float, key: str, tenant: str) -> AssessmentPassed:
    return AssessmentPassed(
        tenant=tenant,
        achievement_id=achievement_id,
        learner={"email": "learner@example.org"},
        score=score,
        max_score=100,
        assessed_at="2026-11-20T10:00:00+00:00",
        idempotency_key=key,
    )


async def test_assessments_on_kafka_become_credentials_once(stack: Stack, api: Api) -> None:
    achievement_id = await api.achievement(await api.create_issuer())
    passed = assessment(achievement_id, 95, "lms-run-1", stack.tenant)
    failed = assessment(achievement_id, 40, "lms-run-2", stack.tenant)
    records = [(achievement_id, encode_event(e)) for e in (passed, passed, failed)]
    records.append((achievement_id, b"{not json"))
    await produce_raw(stack.kafka_bootstrap, stack.topic("issuer.assessments"), records)

    async def issued_for_key() -> list[CredentialIssued]:
        events = [
            decode_event(r.value)
            for r in await read_topic(stack.kafka_bootstrap, stack.topic("credentials.issued"))
        ]
        return [
            e
            for e in events
            if isinstance(e, CredentialIssued) and e.idempotency_key == "lms-run-1"
        ]

    issued = await until(issued_for_key, within=20)
    assert len(issued) == 1, "the passing assessment made no credential"

    async def rejections() -> list[bytes] | None:
        dlq = await read_topic(stack.kafka_bootstrap, stack.topic("issuer.assessments.dlq"))
        reasons = [dict(r.headers)["dlq.reason"] for r in dlq]
        return reasons if len(reasons) >= 2 else None

    reasons = await until(rejections, within=20)
    assert reasons is not None, "the failing and the malformed records were not dead-lettered"
    assert any(b"mastery threshold" in reason for reason in reasons), reasons
    assert any(b"JSON" in reason or b"json" in reason for reason in reasons), reasons

    # The duplicate was handled after the first: still exactly one credential.
    assert len(await issued_for_key()) == 1
    credential = orjson.loads(orjson.dumps(issued[0].credential_ldp))
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["hashed"] is True  # the email is stored hashed
    code, report = await api.verify(issued[0].credential_jwt)
    assert code == 200 and report["verified"], report


async def test_a_batch_of_assessments_is_issued_once_each_and_refusals_dead_lettered(
    stack: Stack, api: Api
) -> None:
    """Records fetched together (all readable: no poison sends the batch one
    by one) are awarded together: each passing assessment once, a key
    repeated in the batch once, a refusal dead-lettered with its reason."""
    achievement_id = await api.achievement(await api.create_issuer())
    passing = [assessment(achievement_id, 95, f"batch-{n}", stack.tenant) for n in range(30)]
    events = [*passing, passing[0], assessment(achievement_id, 10, "batch-low", stack.tenant)]
    records = [(achievement_id, encode_event(e)) for e in events]
    await produce_raw(stack.kafka_bootstrap, stack.topic("issuer.assessments"), records)

    async def issued() -> list[CredentialIssued] | None:
        found = [
            e
            for e in (
                decode_event(r.value)
                for r in await read_topic(stack.kafka_bootstrap, stack.topic("credentials.issued"))
            )
            if isinstance(e, CredentialIssued) and (e.idempotency_key or "").startswith("batch-")
        ]
        return found if len(found) >= 30 else None

    found = await until(issued, within=30)
    assert found is not None, "the passing assessments were not all issued"

    async def refused() -> list[bytes] | None:
        dlq = await read_topic(stack.kafka_bootstrap, stack.topic("issuer.assessments.dlq"))
        mine = [r for r in dlq if r.key == achievement_id.encode()]  # not the other test's
        return [dict(r.headers)["dlq.reason"] for r in mine] or None

    reasons = await until(refused, within=20)
    assert reasons is not None and len(reasons) == 1, reasons
    assert b"mastery threshold" in reasons[0], reasons
    final = await issued()
    assert final is not None
    assert sorted(e.idempotency_key for e in final) == sorted(f"batch-{n}" for n in range(30))
