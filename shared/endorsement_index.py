"""Endorsements of achievements, rebuilt from `issuer.endorsements`: each
endorsement by id, and the active ones of each achievement (issuer: to
embed them in awarded credentials; catalog: to publish them with the
achievement).

An endorser has one endorsement of an achievement: a newer one supersedes
its earlier ones (the issuer withdraws those when it publishes the newer;
`current_endorsements` holds the rule on any replay, even before those
withdrawals arrive). A credential carries at most
`MAX_EMBEDDED_ENDORSEMENTS`, the newest, since the verifier checks no more.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as redis

from shared.events import EndorsementPublished
from shared.redis_events import EventHash
from shared.redis_keys import ACHIEVEMENT_ENDORSEMENTS, ENDORSEMENTS, redis_key

# The most endorsements one credential carries, its issuer profile's and its
# achievement's together: the verifier checks no more (each is a full
# verification) and the issuer embeds no more.
MAX_EMBEDDED_ENDORSEMENTS = 20


def current_endorsements(
    active: Iterable[EndorsementPublished], limit: int = MAX_EMBEDDED_ENDORSEMENTS
) -> list[EndorsementPublished]:
    """Of the active endorsements of an achievement, each endorser's newest,
    and of those the newest `limit`, newest first (ties by id: the same
    answer whatever order they were replayed in)."""
    newest: dict[str, EndorsementPublished] = {}
    for event in sorted(active, key=lambda e: (e.occurred_at, e.endorsement_id), reverse=True):
        newest.setdefault(event.endorser, event)
    return list(newest.values())[: max(limit, 0)]


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

    async def active(self, achievement_id: str) -> list[EndorsementPublished]:
        """Every active endorsement of the achievement, superseded ones
        whose withdrawal has not arrived included."""
        members = redis_key(self._prefix, ACHIEVEMENT_ENDORSEMENTS, achievement_id)
        ids = sorted(
            m.decode() if isinstance(m, bytes) else str(m)
            for m in await self._client.smembers(members)
        )
        return [e for e in await self._events.get_many(ids) if e.status == "active"]

    async def of_achievement(
        self, achievement_id: str, limit: int = MAX_EMBEDDED_ENDORSEMENTS
    ) -> list[EndorsementPublished]:
        """The achievement's endorsements in force (`current_endorsements`):
        one per endorser, at most `limit`, newest first."""
        return current_endorsements(await self.active(achievement_id), limit)
