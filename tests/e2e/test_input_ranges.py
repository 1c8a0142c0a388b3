"""Dates and periods given to us are range-checked at the edge: 422, never 500.

`assessedAt` must carry an offset, lie within 1900-9999 once in UTC and not in
the future; `validityPeriod` is at most 100 years (shared/timestamps.py,
shared/durations.py). On Kafka, such an assessment is a dead letter.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.jws import sign_jws
from shared.durations import add_period
from shared.events import (
    AchievementPublished,
    AssessmentPassed,
    CredentialIssued,
    decode_event,
    encode_event,
)
from tests.e2e.client import Api, Json, produce_raw, read_topic, until
from tests.e2e.harness import Stack

FAR_PAST = "0001-01-01T00:00:00+14:00"  # UTC: year 0
FAR_FUTURE = "9999-12-31T23:59:59-14:00"  # UTC: year 10000


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


async def define(api: Api, issuer_did: str, **micro: Any) -> tuple[int, Json]:
    """POST /achievements with these `microCredential` members."""
    return await api.call(
        "POST",
        f"{api.stack.url('catalog')}/achievements",
        json={
            "issuerDid": issuer_did,
            "name": "Applied Data Protection",
            "description": "Apply GDPR principles to data processing in an SME.",
            "criteria": {"narrative": "Pass the final assessment with at least 90%."},
            "masteryThreshold": 0.9,
            "microCredential": micro,
        },
        headers=api.auth,
    )


async def award_assessed(api: Api, achievement_id: str, assessed_at: str) -> tuple[int, Json]:
    return await api.call(
        "POST",
        f"{api.stack.url('issuer')}/awards",
        json={
            "achievementId": achievement_id,
            "recipient": {"id": "did:example:learner-1"},
            "score": 95,
            "assessedAt": assessed_at,
        },
        headers=api.auth,
    )


def assert_refused_at(status: int, problem: Json, path: str, reason: str) -> None:
    assert status == 422, problem
    assert problem["errors"][0]["path"] == path, problem
    assert reason in problem["detail"], problem


@pytest.fixture
async def achievement_id(api: Api) -> str:
    return await api.achievement(await api.create_issuer())


@pytest.mark.parametrize(
    ("assessed_at", "reason"),
    [
        (FAR_PAST, "outside 1900"),
        (FAR_FUTURE, "outside 1900"),
        ("1899-12-31T23:59:59Z", "outside 1900"),
        ("2026-11-20T10:00:00", "timezone"),
        ("in an hour", "future"),  # the time is taken when the test runs
    ],
)
async def test_an_assessment_time_out_of_range_is_a_422(
    api: Api, achievement_id: str, assessed_at: str, reason: str
) -> None:
    # Not in the parameters: each pytest-xdist worker collects the tests and
    # they must agree on their ids, which a clock time in one would not.
    if assessed_at == "in an hour":
        assessed_at = iso(datetime.now(UTC) + timedelta(hours=1))
    status, problem = await award_assessed(api, achievement_id, assessed_at)
    assert_refused_at(status, problem, "$.assessedAt", reason)


async def test_a_normal_assessment_time_is_awarded(api: Api, achievement_id: str) -> None:
    assessed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    local = assessed.astimezone(timezone(timedelta(hours=5, minutes=30)))
    status, issued = await award_assessed(api, achievement_id, iso(local))
    assert status == 201, issued
    subject = issued["credential"]["credentialSubject"]
    assert subject["activityEndDate"] == iso(assessed).replace("+00:00", "Z")
    code, report = await api.verify(issued["jwt"])
    assert code == 200 and report["verified"], report


@pytest.mark.parametrize("period", ["P9999999Y", "P101Y", "P1201M", "P9999999999999999999Y"])
async def test_a_validity_period_over_100_years_is_a_422(api: Api, period: str) -> None:
    status, problem = await define(api, await api.create_issuer(), validityPeriod=period)
    assert_refused_at(status, problem, "$.microCredential.validityPeriod", "longer than 100 years")


async def test_a_100_year_validity_is_awarded(api: Api) -> None:
    status, body = await define(api, await api.create_issuer(), validityPeriod="P100Y")
    assert status == 201, body
    issued = await api.issue(body["id"])
    credential = issued["credential"]
    start = datetime.fromisoformat(credential["validFrom"])
    assert datetime.fromisoformat(credential["validUntil"]) == add_period(start, "P100Y")


async def test_a_stored_huge_validity_period_is_refused_not_a_500(stack: Stack, api: Api) -> None:
    # An achievement published before the catalog refused such periods.
    issuer_did = await api.create_issuer()
    status, body = await define(api, issuer_did)
    assert status == 201, body
    achievement_id = f"{body['id']}-{uuid.uuid4()}"
    event = AchievementPublished(
        tenant=stack.tenant,
        issuer_did=issuer_did,
        achievement_id=achievement_id,
        revision=1,
        achievement={**body["achievement"], "id": achievement_id, "validityPeriod": "P9999999Y"},
        mastery_threshold=0.9,
        status="active",
    )
    topic = stack.topic("catalog.achievements")
    await produce_raw(stack.kafka_bootstrap, topic, [(achievement_id, encode_event(event))])
    status, problem = await api.award(achievement_id)
    assert status == 409, problem
    assert "validityPeriod" in problem["detail"], problem


async def test_an_assessment_event_out_of_range_is_a_dead_letter(
    stack: Stack, api: Api, achievement_id: str
) -> None:
    def assessment(assessed_at: str, key: str) -> AssessmentPassed:
        return AssessmentPassed(
            tenant=stack.tenant,
            achievement_id=achievement_id,
            learner={"id": "did:example:learner-2"},
            score=95,
            assessed_at=assessed_at,
            idempotency_key=key,
        )

    future = iso(datetime.now(UTC) + timedelta(days=1))
    events = [
        assessment(FAR_PAST, "range-past"),
        assessment(FAR_FUTURE, "range-future"),
        assessment("2026-11-20T10:00:00", "range-naive"),
        assessment(future, "range-tomorrow"),
        assessment("2026-11-20T10:00:00+01:00", "range-ok"),
    ]
    topic = stack.topic("issuer.assessments")
    await produce_raw(
        stack.kafka_bootstrap, topic, [(achievement_id, encode_event(e)) for e in events]
    )

    async def rejections() -> list[str] | None:
        dlq = await read_topic(stack.kafka_bootstrap, f"{topic}.dlq")
        reasons = [dict(r.headers)["dlq.reason"].decode() for r in dlq]
        return reasons if len(reasons) >= 4 else None

    reasons = await until(rejections, within=20)
    assert reasons is not None and len(reasons) == 4, reasons
    assert sum("invalid assessed_at" in r and "outside 1900" in r for r in reasons) == 2, reasons
    assert sum("invalid assessed_at" in r and "timezone" in r for r in reasons) == 1, reasons
    assert sum("future" in r for r in reasons) == 1, reasons

    async def issued_ok() -> list[CredentialIssued]:
        records = await read_topic(stack.kafka_bootstrap, stack.topic("credentials.issued"))
        events = [decode_event(r.value) for r in records]
        return [
            e for e in events if isinstance(e, CredentialIssued) and e.idempotency_key == "range-ok"
        ]

    [issued] = await until(issued_ok, within=20)
    assert issued.credential_ldp is not None
    subject = issued.credential_ldp["credentialSubject"]
    assert isinstance(subject, dict) and subject["activityEndDate"] == "2026-11-20T09:00:00Z"


async def test_a_presentation_jwt_with_an_absurd_iat_is_refused_not_a_500(api: Api) -> None:
    holder = generate_ed25519()
    did = holder.kid.partition("#")[0]  # a did:key: the verifier resolves it itself
    claims = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "iss": did,
        "nonce": "c-1",
        "aud": "verifier.example",
        "iat": -1e20,
    }
    status, report = await api.call(
        "POST",
        f"{api.stack.url('verifier')}/presentations/verify",
        json={
            "verifiablePresentation": sign_jws(claims, holder, "vp+jwt"),
            "options": {"challenge": "c-1", "domain": "verifier.example"},
        },
    )
    assert status == 400, report
    assert report["verified"] is False
    assert "iat" in str(report["problemDetails"]), report
