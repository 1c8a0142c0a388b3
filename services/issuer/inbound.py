"""Awards from institutions' systems over Kafka (topic `issuer.assessments`).

An `AssessmentPassed` event goes through the same path as `POST /awards`:
the mastery gate, status allocation, signing, `credentials.issued`. The
event's idempotency key (or else its id) makes a redelivered record return
the first credential instead of a second one (invariant 6). A record that can
never become a credential (score below the threshold, unknown achievement,
bad recipient, `assessed_at` without an offset, outside 1900-9999 UTC or in
the future) goes to `issuer.assessments.dlq` with the reason, where the
institution's system reads its rejections (invariant 8).

A fetched batch of records is awarded together (`on_assessments`, through
`Issuance.award_many`, a group per tenant); a record it cannot award so
(a refusal, a formative or malformed assessment, a key repeated in the
batch) is left to `on_assessment`, one by one, which dead-letters what it
refuses. A record the batch refused for good (`RefusedInBatch`) is
dead-lettered with that refusal at once: awarded again, each would wait
out its unknown achievement again (3 s), one after another, holding up
every tenant's inbound awards.

Producers are authenticated by Kafka itself (SASL and ACLs in production, one
principal per tenant); the `tenant` in the event must be the producer's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import msgspec
from aiokafka.structs import ConsumerRecord

from services.issuer.attempts import Attempts
from services.issuer.awards import Issuance
from services.issuer.domain.awarding import AwardIn, EvidenceList, RecipientIn
from shared.errors import DomainError
from shared.events import AssessmentPassed, Event, PoisonMessage
from shared.kafka.consumer import BatchHandler, Handler
from shared.logging import get_logger
from shared.timestamps import TimestampError, parse_timestamp

_log = get_logger("issuer.inbound")


def _award_request(event: AssessmentPassed) -> AwardIn:
    try:
        recipient = msgspec.convert(event.learner, RecipientIn)
    except msgspec.ValidationError as error:
        raise PoisonMessage(f"invalid learner: {error}") from None
    try:
        evidence = msgspec.convert(event.evidence, EvidenceList)
    except msgspec.ValidationError as error:
        raise PoisonMessage(f"invalid evidence: {error}") from None
    try:
        assessed = parse_timestamp(event.assessed_at) if event.assessed_at else None
    except TimestampError as error:
        raise PoisonMessage(f"invalid assessed_at: {error}") from None
    return AwardIn(
        achievementId=event.achievement_id,
        recipient=recipient,
        score=event.score,
        maxScore=event.max_score,
        assessedAt=assessed,
        evidence=evidence,
    )


def _award_key(event: AssessmentPassed) -> str:
    """The award's Idempotency-Key: the event's own, else one from its id."""
    return event.idempotency_key or f"event:{event.id}"


RecordId = tuple[str, int, int]  # topic, partition, offset


@dataclass
class RefusedInBatch:
    """The records of the current batch `on_assessments` refused for good,
    for `on_assessment` to dead-letter with the same refusal."""

    errors: dict[RecordId, DomainError] = field(default_factory=dict)


def _record_id(record: ConsumerRecord) -> RecordId:
    return (record.topic, record.partition, record.offset)


def on_assessment(
    issuance: Issuance,
    caught_up: Callable[[], Awaitable[None]],
    attempts: Attempts | None = None,
    refused: RefusedInBatch | None = None,
) -> Handler:
    """Refusals (below threshold, unknown achievement...) are domain errors:
    the consumer loop dead-letters them with the reason, and retries
    transient ones (the state still rebuilding, Redis or Kafka away). Each
    final refusal is recorded as an attempt (services/issuer/attempts.py:
    the registrar's view, the tenant's webhooks), and so is a formative
    assessment (`formative: true`), which is never issued."""

    async def handle(event: Event, record: ConsumerRecord) -> None:
        if not isinstance(event, AssessmentPassed):
            raise PoisonMessage(f"{type(event).__name__} does not belong on this topic")
        if refused is not None and (error := refused.errors.pop(_record_id(record), None)):
            raise error  # refused, and recorded as an attempt, by the batch
        await caught_up()  # the replay comes first
        key = _award_key(event)
        try:
            request = _award_request(event)
        except PoisonMessage as poison:
            if attempts is not None:
                await attempts.refused(
                    event.tenant,
                    None,
                    "Invalid assessment",
                    poison.reason,
                    source="kafka",
                    key=key,
                    inbound=event,
                )
            raise
        if event.formative:
            if attempts is None:
                raise PoisonMessage("formative assessments are not recorded here")
            await attempts.formative(event.tenant, request, key, source="kafka", inbound=event)
            _log.info("assessment.recorded_formative", event_id=event.id)
            return
        try:
            issued, created = await issuance.award(
                event.tenant, request, key, source="kafka", inbound=event
            )
        except DomainError as error:
            if not error.transient:
                issuance.outcomes.count("inbound_assessment", "rejected")
            raise
        _log.info("assessment.awarded", credential_id=issued.credential_id, replayed=not created)

    return handle


def on_assessments(
    issuance: Issuance,
    caught_up: Callable[[], Awaitable[None]],
    refused: RefusedInBatch | None = None,
) -> BatchHandler:
    """`on_assessment` for a batch: its plain awards through `award_many`, a
    group per tenant with distinct keys; every other record, and every award
    that did not go through, left to `on_assessment`."""

    async def handle(batch: list[tuple[Event, ConsumerRecord]]) -> Sequence[ConsumerRecord]:
        await caught_up()  # the replay comes first
        if refused is not None:
            refused.errors.clear()  # the last batch's are handled (or never will be)
        left: list[ConsumerRecord] = []
        groups: dict[str, dict[str, tuple[AwardIn, AssessmentPassed, ConsumerRecord]]] = {}
        for event, record in batch:
            if not isinstance(event, AssessmentPassed) or event.formative:
                left.append(record)
                continue
            key = _award_key(event)
            group = groups.setdefault(event.tenant, {})
            try:
                request = _award_request(event)
            except PoisonMessage:  # dead-lettered one by one, with its reason
                left.append(record)
                continue
            if key in group:  # the same key twice: the second one by one
                left.append(record)
            else:
                group[key] = (request, event, record)
        for tenant, group in groups.items():
            outcomes = await issuance.award_many(
                tenant,
                [(request, key) for key, (request, _, _) in group.items()],
                source="kafka",
                inbound=[event for _, event, _ in group.values()],
            )
            for (_, _, record), outcome in zip(group.values(), outcomes, strict=True):
                if isinstance(outcome, Exception):
                    left.append(record)
                    if isinstance(outcome, DomainError) and not outcome.transient:
                        issuance.outcomes.count("inbound_assessment", "rejected")
                        if refused is not None:
                            refused.errors[_record_id(record)] = outcome
                else:
                    issued, created = outcome
                    _log.info(
                        "assessment.awarded",
                        credential_id=issued.credential_id,
                        replayed=not created,
                    )
        return sorted(left, key=lambda record: record.offset)

    return handle
