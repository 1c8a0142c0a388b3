"""The catalog's Redis state: issuers it learnt from Kafka and its achievements.

Everything here, idempotency keys included, is rebuilt by replaying
`issuer.profiles` and `catalog.achievements` (architecture invariant 3).
"""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import AchievementPublished
from shared.idempotency import IdempotencyRecords
from shared.kafka.offsets import ReplayedState
from shared.redis_events import EventHash
from shared.redis_keys import ACHIEVEMENTS, ISSUER_TENANTS, redis_key


class CatalogStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self.state = ReplayedState(client, prefix)
        self.achievement_idempotency = IdempotencyRecords(client, prefix, "achievements")
        self._issuers = redis_key(prefix, ISSUER_TENANTS)
        self._achievements = EventHash(
            client, redis_key(prefix, ACHIEVEMENTS), AchievementPublished
        )

    async def remember_issuer(self, did: str, tenant: str) -> None:
        await self._redis.hset(self._issuers, did, tenant)

    async def issuer_tenant(self, did: str) -> str | None:
        tenant = await self._redis.hget(self._issuers, did)
        return tenant.decode() if isinstance(tenant, bytes) else tenant

    async def save_achievement(self, event: AchievementPublished) -> None:
        await self._achievements.put_newest(event.achievement_id, event, lambda e: e.revision)
        if event.idempotency_key and event.request_hash:
            await self.achievement_idempotency.remember(
                event.tenant, event.idempotency_key, event.request_hash, event.achievement_id
            )

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        return await self._achievements.get(achievement_id)
