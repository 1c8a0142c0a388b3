"""Assessment results that do not become credentials (issue 9).

Two kinds, one record: a **formative** attempt (practice, recorded by design
and never issued, with whether it would have met the mastery threshold) and
a **refused** award (below the threshold, an unknown or retired achievement,
a bad recipient, a policy profile unmet...) with the problem's title and
detail, whichever way it came in: `POST /awards`, a bulk row, an assessment
on Kafka or the VC-API.

Each is an `AttemptRecorded` event on the history topic `issuer.attempts`
(Kafka keeps the record, invariant 3). The issuer's replica indexes them per
tenant and learner key (shared/learner_keys.py, never the identity in clear)
for the registrar's `POST /attempts/search`; the webhook consumer turns them
into `attempt.recorded` and `credential.refused` deliveries.

A refusal retried with the same Idempotency-Key and request is the same
attempt (its id derives from both): recorded and notified once. A formative
attempt's key is an Idempotency-Key like any other write's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import orjson
import redis.asyncio as redis

from services.issuer.domain.assessment import (
    check_assessed_at,
    check_evidence,
    checked_subject,
    mastery_met,
)
from services.issuer.domain.awarding import AwardIn, RecipientError, learner_key
from services.issuer.paging import Cursor, SortedIndex
from services.issuer.registry import (
    PAGE_MAX,
    LearnerQuery,
    Page,
    learner_key_of,
    stamp_ms,
)
from services.issuer.store import IssuerStore
from shared.errors import InvalidField
from shared.events import AssessmentPassed, AttemptRecorded
from shared.idempotency import IdempotencyRecords, fingerprint
from shared.kafka.producer import Publisher
from shared.learner_keys import LearnerKeys
from shared.redis_keys import ATTEMPT_ENTRY, ATTEMPTS, ATTEMPTS_LEARNER, redis_key
from shared.web.metrics import Outcomes

Source = Literal["api", "bulk", "kafka", "vc-api"]
_REFUSALS = uuid.UUID("5d1f4a52-0c3e-4f7e-9b1d-2a6c8e0f4b37")


class AttemptQuery(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /attempts/search` (docs/api.md)."""

    learner: LearnerQuery | None = None
    achievementId: str | None = None
    kind: Literal["formative", "refused"] | None = None
    limit: int = 100
    cursor: str | None = None


def view(event: AttemptRecorded) -> dict[str, Any]:
    """An attempt as the API shows it."""
    reason = (
        {"title": event.reason_title, "detail": event.reason_detail}
        if event.kind == "refused"
        else None
    )
    return {
        "id": event.id,
        "kind": event.kind,
        "source": event.source,
        "achievementId": event.achievement_id,
        "score": event.score,
        "maxScore": event.max_score,
        "metThreshold": event.met_threshold,
        "assessedAt": event.assessed_at,
        "recordedAt": event.occurred_at,
        "evidence": event.evidence,
        "reason": reason,
    }


class AttemptIndex:
    """A tenant's attempts by time and by learner key: derived from
    `issuer.attempts` (a replay writes the same members)."""

    def __init__(self, client: redis.Redis, prefix: str, learner_keys: LearnerKeys) -> None:
        self._client = client
        self._prefix = prefix
        self._learner_keys = learner_keys
        self.idempotency = IdempotencyRecords(client, prefix, "attempts")

    def _key(self, entity: str, *parts: str) -> str:
        return redis_key(self._prefix, entity, *parts)

    async def recorded(self, event: AttemptRecorded) -> None:
        at = {event.id: stamp_ms(event.occurred_at)}
        entry = {"tenant": event.tenant, **view(event)}
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(ATTEMPT_ENTRY), event.id, orjson.dumps(entry))
            pipe.zadd(self._key(ATTEMPTS, event.tenant), at)
            if event.learner_key:
                pipe.zadd(self._key(ATTEMPTS_LEARNER, event.tenant, event.learner_key), at)
            await pipe.execute()
        # The attempt first: an idempotency key never points at nothing. A
        # refusal has no request hash: its key stays free for the award.
        if event.idempotency_key and event.request_hash:
            await self.idempotency.remember(
                event.tenant, event.idempotency_key, event.request_hash, event.id
            )

    async def entry(self, tenant: str, attempt_id: str) -> dict[str, Any] | None:
        raw = await self._client.hget(self._key(ATTEMPT_ENTRY), attempt_id)
        found = orjson.loads(raw) if raw is not None else None
        if found is None or found.pop("tenant") != tenant:
            return None
        return dict(found)

    async def search(self, tenant: str, query: AttemptQuery) -> Page:
        """One page of the tenant's attempts, newest first."""
        if not 1 <= query.limit <= PAGE_MAX:
            raise InvalidField("$.limit", f"must be between 1 and {PAGE_MAX}")
        index = (
            self._key(ATTEMPTS_LEARNER, tenant, learner_key_of(self._learner_keys, query.learner))
            if query.learner is not None
            else self._key(ATTEMPTS, tenant)
        )
        items: list[dict[str, Any]] = []
        last: Cursor | None = None
        newest_first = SortedIndex(self._client, index, newest_first=True)
        async for found in newest_first.rounds(Cursor.decode(query.cursor)):
            raws = await self._client.hmget(self._key(ATTEMPT_ENTRY), [at.member for at in found])
            for at, raw in zip(found, raws, strict=True):
                entry = orjson.loads(raw) if raw is not None else None
                if entry is None or entry.pop("tenant") != tenant or not _wanted(entry, query):
                    continue
                if last is not None and len(items) == query.limit:
                    return Page(items, last.encode())
                items.append(entry)
                last = at
        return Page(items, None)


def _wanted(entry: dict[str, Any], query: AttemptQuery) -> bool:
    return (query.achievementId is None or entry["achievementId"] == query.achievementId) and (
        query.kind is None or entry["kind"] == query.kind
    )


@dataclass(frozen=True)
class Attempts:
    """Recording attempts (the use case), with its dependencies made explicit."""

    store: IssuerStore
    index: AttemptIndex
    publisher: Publisher
    topic: str  # issuer.attempts, with the deployment's prefix
    learner_keys: LearnerKeys
    outcomes: Outcomes
    require_caught_up: Callable[[], None]  # raises Rebuilding

    async def formative(
        self,
        tenant: str,
        body: AwardIn,
        key: str | None,
        *,
        source: Source = "api",
        inbound: AssessmentPassed | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Record a formative attempt (never issued); its view and whether it
        was recorded now (False: a retry with the same Idempotency-Key)."""
        self.require_caught_up()
        await self.store.state.require()
        if body.renews is not None:
            raise InvalidField("$.renews", "a formative attempt renews no credential")

        async def record(key: str | None, request: str | None) -> dict[str, Any]:
            event = await self._formative(tenant, body, source, inbound, key, request)
            await self._publish(event)
            self.outcomes.count("attempt", "formative")
            return view(event)

        async def replay(attempt_id: str) -> dict[str, Any] | None:
            return await self.index.entry(tenant, attempt_id)

        return await self.index.idempotency.once(tenant, key, fingerprint(body), record, replay)

    async def _formative(
        self,
        tenant: str,
        body: AwardIn,
        source: Source,
        inbound: AssessmentPassed | None,
        key: str | None,
        request: str | None,
    ) -> AttemptRecorded:
        check_assessed_at(body, datetime.now(UTC))
        checked_subject(body)
        check_evidence(body)  # kept with the attempt and shown to the registrar
        achievement = await self.store.tenant_achievement(tenant, body.achievementId)
        met = mastery_met(body, achievement.mastery_threshold)
        return AttemptRecorded(
            **_result_fields(self.learner_keys, tenant, body, source, inbound),
            kind="formative",
            met_threshold=met,
            idempotency_key=key,
            request_hash=request,
        )

    async def refused(
        self,
        tenant: str,
        body: AwardIn | None,
        title: str,
        detail: str,
        *,
        source: Source,
        key: str | None = None,
        inbound: AssessmentPassed | None = None,
    ) -> None:
        """Record an award refused for good (`body` None: an inbound
        assessment too malformed to read as one)."""
        fields = (
            _result_fields(self.learner_keys, tenant, body, source, inbound)
            if body is not None
            else {
                "tenant": tenant,
                "source": source,
                "achievement_id": inbound.achievement_id if inbound else "",
                "inbound_event_id": inbound.id if inbound else None,
            }
        )
        request = fingerprint(body) if body is not None else (inbound.id if inbound else "")
        same = key or (f"event:{inbound.id}" if inbound else None)
        attempt_id = (
            str(uuid.uuid5(_REFUSALS, f"{tenant}|{same}|{request}|{title}"))
            if same is not None
            else str(uuid.uuid4())
        )
        event = AttemptRecorded(
            **fields,
            id=attempt_id,
            kind="refused",
            reason_title=title,
            reason_detail=detail[:1000],
            idempotency_key=key,
        )
        await self._publish(event)
        self.outcomes.count("attempt", "refused")

    async def _publish(self, event: AttemptRecorded) -> None:
        await self.publisher.publish(self.topic, event, key=event.id)
        await self.index.recorded(event)  # searchable at once on this instance too


def _result_fields(
    keys: LearnerKeys,
    tenant: str,
    body: AwardIn,
    source: Source,
    inbound: AssessmentPassed | None,
) -> dict[str, Any]:
    """The assessment result's part of an attempt record."""
    try:
        learner: str | None = learner_key(keys, body.recipient)
    except RecipientError:
        learner = None
    return {
        "tenant": tenant,
        "source": source,
        "achievement_id": body.achievementId,
        "learner_key": learner,
        "score": body.score,
        "max_score": body.maxScore,
        "assessed_at": body.assessedAt.isoformat() if body.assessedAt else None,
        "evidence": [
            {k: v for k, v in msgspec.to_builtins(item).items() if v is not None}
            for item in body.evidence
        ],
        "inbound_event_id": inbound.id if inbound else None,
    }
