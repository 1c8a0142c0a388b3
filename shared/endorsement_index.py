"""Endorsements of achievements, rebuilt from `issuer.endorsements`: each
endorsement by id, and the active ones of each achievement (issuer: to
embed them in awarded credentials; catalog: to publish them with the
achievement)."""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import EndorsementPublished
from shared.redis_events import EventHash
from shared.redis_keys import ACHIEVEMENT_ENDORSEMENTS, ENDORSEMENTS, redis_key


class EndorsementIndex:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._events = EventHash(client, redis_key(prefix, ENDORSEMENTS), EndorsementPublished)

    async def save(self, event: EndorsementPublished) -> None:
        await self._events.put(event.endorsement_id, event)
        members = redis_key(self._prefix, ACHIEVEMENT_ENDORSEMENTS, event.achievement_id)
        if event.status == "active":
            await self._client.sadd(members, event.endorsement_id)
        else:
            await self._client.srem(members, event.endorsement_id)

    async def get(self, endorsement_id: str) -> EndorsementPublished | None:
        return await self._events.get(endorsement_id)

    async def of_achievement(self, achievement_id: str) -> list[EndorsementPublished]:
        """The achievement's active endorsements, in a stable order."""
        members = redis_key(self._prefix, ACHIEVEMENT_ENDORSEMENTS, achievement_id)
        ids = sorted(
            m.decode() if isinstance(m, bytes) else str(m)
            for m in await self._client.smembers(members)
        )
        found = [await self._events.get(i) for i in ids]
        return [e for e in found if e is not None]
