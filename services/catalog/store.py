"""The catalog's Redis state: issuers it learnt from Kafka and its achievements.

Everything here is rebuilt by replaying `issuer.profiles` and
`catalog.achievements` (architecture invariant 3).
"""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import AchievementPublished, decode_event, encode_event
from shared.redis_keys import redis_key


class CatalogStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._issuers = redis_key(prefix, "issuer-tenants")
        self._achievements = redis_key(prefix, "achievements")

    async def remember_issuer(self, did: str, tenant: str) -> None:
        await self._redis.hset(self._issuers, did, tenant)

    async def issuer_tenant(self, did: str) -> str | None:
        tenant = await self._redis.hget(self._issuers, did)
        return tenant.decode() if isinstance(tenant, bytes) else tenant

    async def save_achievement(self, event: AchievementPublished) -> None:
        """Keep the newest revision only; replays are idempotent."""
        current = await self.achievement(event.achievement_id)
        if current is None or current.revision <= event.revision:
            await self._redis.hset(self._achievements, event.achievement_id, encode_event(event))

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        raw = await self._redis.hget(self._achievements, achievement_id)
        if raw is None:
            return None
        event = decode_event(raw)
        return event if isinstance(event, AchievementPublished) else None
