"""Formative attempts and refused awards (issue 9), on fakeredis: recorded as
`AttemptRecorded` events, never issued, found again by learner, rebuilt by
replay, notified as webhooks; a refusal retried is the same attempt."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import msgspec
import pytest
from prometheus_client import CollectorRegistry

from services.issuer.attempts import AttemptIndex, AttemptQuery, Attempts
from services.issuer.awards import Issuance, refuses_the_assessment
from services.issuer.consumers import on_issuer_event
from services.issuer.domain.awarding import AwardIn, EvidenceIn, RecipientIn
from services.issuer.domain.errors import (
    AchievementNotFound,
    AchievementRetired,
    BelowThreshold,
    InvalidRecipient,
    InvalidScore,
)
from services.issuer.domain.webhook_events import outbound
from services.issuer.registry import LearnerQuery
from shared.errors import Conflict, IdempotencyKeyReused, InvalidField, Rebuilding, Unavailable
from shared.events import AttemptRecorded, CredentialIssued, Event
from shared.kafka.producer import Published
from shared.learner_keys import LearnerKeys
from shared.web.metrics import Outcomes
from tests.unit.services.fakes import Recorded, replayed
from tests.unit.services.test_application import (
    ACHIEVEMENT_ID,
    PREFIX,
    TENANT,
    IssuerWorld,
    award,
)
from tests.unit.services.test_application import issuer as issuer  # the fixture

LEARNER = "did:example:learner"


@dataclasses.dataclass
class World:
    issuer: IssuerWorld
    issuance: Issuance
    attempts: Attempts
    published: Recorded


@pytest.fixture
async def world(issuer: IssuerWorld) -> AsyncIterator[World]:
    keys = LearnerKeys(bytes(32))  # the issuance's too: one learner key
    attempts = Attempts(
        store=issuer.issuance.store,
        index=AttemptIndex(issuer.redis, PREFIX, keys),
        publisher=issuer.published,
        topic="issuer.attempts",
        learner_keys=keys,
        outcomes=Outcomes.create(CollectorRegistry()),
        require_caught_up=issuer.gate.require_caught_up,
    )
    issuance = dataclasses.replace(issuer.issuance, attempts=attempts)
    yield World(issuer, issuance, attempts, issuer.published)


def recorded(world: World) -> list[AttemptRecorded]:
    return [e for e in world.published.events if isinstance(e, AttemptRecorded)]


async def search(world: World, tenant: str = TENANT, **query: object) -> list[dict[str, object]]:
    page = await world.attempts.index.search(tenant, AttemptQuery(**query))  # type: ignore[arg-type]
    return page.items


async def test_a_formative_attempt_is_recorded_and_never_issued(world: World) -> None:
    low, created = await world.attempts.formative(TENANT, award(score=60), None)
    high, _ = await world.attempts.formative(TENANT, award(score=95), None)
    assert created and low["kind"] == "formative" and low["source"] == "api"
    assert (low["metThreshold"], high["metThreshold"]) == (False, True)
    assert world.published.of(CredentialIssued) == []  # not even the one that met it
    mine = await search(world, learner=LearnerQuery(id=LEARNER))
    assert [a["id"] for a in mine] == [high["id"], low["id"]]  # newest first
    assert await search(world, learner=LearnerQuery(id="did:example:other")) == []
    assert await search(world, tenant="another-tenant") == []


async def test_a_formative_attempt_is_checked_like_an_award(world: World) -> None:
    with pytest.raises(InvalidScore):
        await world.attempts.formative(TENANT, award(score=120), None)
    with pytest.raises(AchievementNotFound):  # another tenant's achievement: not found
        await world.attempts.formative("another-tenant", award(), None)
    bad_evidence = msgspec.structs.replace(award(), evidence=[EvidenceIn(id="not a url")])
    with pytest.raises(InvalidField, match=r"\$\.evidence"):
        await world.attempts.formative(TENANT, bad_evidence, None)
    renewal = msgspec.structs.replace(award(), renews="urn:uuid:1")
    with pytest.raises(InvalidField, match=r"\$\.renews"):
        await world.attempts.formative(TENANT, renewal, None)
    world.issuer.gate.open = False
    with pytest.raises(Rebuilding):
        await world.attempts.formative(TENANT, award(), None)
    assert recorded(world) == []


async def test_a_formative_attempt_keeps_its_idempotency_key(world: World) -> None:
    first, created = await world.attempts.formative(TENANT, award(score=70), "practice-1")
    again, created_again = await world.attempts.formative(TENANT, award(score=70), "practice-1")
    assert created and not created_again and again == first
    with pytest.raises(IdempotencyKeyReused):
        await world.attempts.formative(TENANT, award(score=71), "practice-1")
    assert len(recorded(world)) == 1


async def test_a_refused_award_is_recorded_once_with_why(world: World) -> None:
    for _ in range(2):  # a client retrying the same request with the same key
        with pytest.raises(BelowThreshold):
            await world.issuance.award(TENANT, award(score=50), "exam-7", source="bulk")
    first, second = recorded(world)
    assert first.id == second.id  # the same attempt: indexed and notified once
    assert (first.kind, first.source, first.score) == ("refused", "bulk", 50)
    assert first.reason_title == BelowThreshold.title and "90%" in (first.reason_detail or "")
    (found,) = await search(world, learner=LearnerQuery(id=LEARNER), kind="refused")
    assert found["reason"] == {"title": first.reason_title, "detail": first.reason_detail}
    # The refusal does not bind the key: the corrected result is awarded under it.
    event, created = await world.issuance.award(TENANT, award(score=95), "exam-7")
    assert created and isinstance(event, CredentialIssued)


async def test_what_refuses_the_request_not_the_assessment_is_not_recorded(
    world: World,
) -> None:
    world.issuer.gate.open = False
    with pytest.raises(Rebuilding):
        await world.issuance.award(TENANT, award(score=50), None)
    assert recorded(world) == []
    assert not refuses_the_assessment(Conflict("a concurrent retry holds the key"))
    assert not refuses_the_assessment(IdempotencyKeyReused())
    assert refuses_the_assessment(AchievementRetired("retired"))  # a Conflict subclass


async def test_attempts_are_rebuilt_by_replay(world: World) -> None:
    await world.attempts.formative(TENANT, award(score=70), "practice-1")
    with pytest.raises(BelowThreshold):
        await world.issuance.award(TENANT, award(score=10), None)
    before = await search(world)
    client = world.issuer.redis
    await client.flushall()
    handle = on_issuer_event(
        world.issuance.store, world.issuance.allocator, attempts=world.attempts.index
    )
    for event in recorded(world):
        await handle(event, None)  # type: ignore[arg-type]
    await replayed(client, PREFIX)
    assert await search(world) == before and len(before) == 2
    again, created = await world.attempts.formative(TENANT, award(score=70), "practice-1")
    assert not created and again["id"] == before[1]["id"]  # the key rebuilt too


def test_attempts_are_notified_to_their_tenant() -> None:
    refused = AttemptRecorded(
        tenant=TENANT,
        kind="refused",
        source="kafka",
        achievement_id=ACHIEVEMENT_ID,
        reason_title="Assessment below the mastery threshold",
        reason_detail="score 10/100 is below the mastery threshold of 90%",
        inbound_event_id="evt-1",
    )
    assert outbound(refused) == (
        TENANT,
        "credential.refused",
        {
            "attemptId": refused.id,
            "source": "kafka",
            "eventId": "evt-1",
            "idempotencyKey": None,
            "achievementId": ACHIEVEMENT_ID,
            "reason": {"title": refused.reason_title, "detail": refused.reason_detail},
        },
    )
    formative = msgspec.structs.replace(refused, kind="formative", score=70.0, met_threshold=False)
    tenant, kind, data = outbound(formative) or ("", "", {})
    assert (tenant, kind, data["metThreshold"], data["score"]) == (
        TENANT,
        "attempt.recorded",
        False,
        70.0,
    )


async def test_a_refusal_without_a_usable_learner_is_kept(world: World) -> None:
    nobody = AwardIn(achievementId=ACHIEVEMENT_ID, recipient=RecipientIn(), score=95)
    with pytest.raises(InvalidRecipient):
        await world.issuance.award(TENANT, nobody, None)
    (refusal,) = recorded(world)
    assert refusal.learner_key is None and refusal.reason_title == InvalidRecipient.title
    assert [a["id"] for a in await search(world, kind="refused")] == [refusal.id]


class KafkaDown(Recorded):
    async def publish(self, topic: str, event: Event, *, key: str) -> Published:
        raise Unavailable("Kafka is unreachable")


async def test_with_kafka_down_a_refusal_is_a_503_and_recorded_once_back(world: World) -> None:
    """The refusal's record is written before the 4xx: with Kafka away the
    caller gets a 503 (retry), nothing is half recorded, and the retry once
    Kafka is back is refused and recorded once."""
    down = dataclasses.replace(world.attempts, publisher=KafkaDown())
    with pytest.raises(Unavailable):
        await dataclasses.replace(world.issuance, attempts=down).award(
            TENANT, award(score=50), "exam-9"
        )
    assert recorded(world) == [] and await search(world) == []
    with pytest.raises(BelowThreshold):
        await world.issuance.award(TENANT, award(score=50), "exam-9")
    assert len(recorded(world)) == 1 and len(await search(world)) == 1
