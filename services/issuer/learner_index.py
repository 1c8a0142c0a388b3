"""Which credentials each learner holds, by learner key (shared.learner_keys),
and which learners hold each achievement: rebuilt from `credentials.issued`,
read by stacking (services.issuer.stacking)."""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import CredentialIssued
from shared.pathways import Earned
from shared.redis_keys import ACHIEVEMENT_LEARNERS, LEARNER_CREDENTIALS, redis_key
from shared.redis_writes import Writes


def earned_of(event: CredentialIssued) -> Earned:
    """When the credential became valid (`validFrom`, VC Data Model 2.0 §4.9)."""
    document = event.credential_ldp or {}
    valid_from = document.get("validFrom")
    return Earned(
        valid_from=valid_from if isinstance(valid_from, str) else event.occurred_at,
        credential_id=event.credential_id,
        achievement_id=event.achievement_id,
    )


class LearnerIndex:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, learner_key: str) -> str:
        return redis_key(self._prefix, LEARNER_CREDENTIALS, learner_key)

    async def add(self, event: CredentialIssued) -> None:
        """Index the credential under its learner (idempotent; none: no key)."""
        await self.add_many([event])

    async def add_many(self, events: list[CredentialIssued]) -> None:
        """`add` for each, in one transaction."""
        if not events:
            return
        writes = Writes()
        for event in events:
            self.add_in(writes, event)
        await writes.apply(self._client)

    def add_in(self, writes: Writes, event: CredentialIssued) -> None:
        """`add`, as some of the caller's writes."""
        if event.learner_key is None:
            return
        earned = earned_of(event)
        field = f"{earned.achievement_id}|{earned.credential_id}"
        writes.hset(self._key(event.learner_key), field, earned.valid_from)
        holders = redis_key(self._prefix, ACHIEVEMENT_LEARNERS, earned.achievement_id)
        writes.sadd(holders, event.learner_key)

    async def holders(self, achievement_ids: list[str]) -> list[str]:
        """The learner keys holding any of these achievements, sorted."""
        keys = [redis_key(self._prefix, ACHIEVEMENT_LEARNERS, a) for a in achievement_ids]
        found = await self._client.sunion(keys) if keys else set()
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in found)

    async def held(self, learner_key: str) -> list[Earned]:
        found = await self._client.hgetall(self._key(learner_key))
        held: list[Earned] = []
        for raw_field, raw_value in found.items():
            field = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
            value = raw_value.decode() if isinstance(raw_value, bytes) else str(raw_value)
            achievement_id, _, credential_id = field.rpartition("|")
            held.append(Earned(value, credential_id, achievement_id))
        return held
