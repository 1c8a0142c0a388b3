"""Idempotency-Key records of status changes (docs/api.md, invariant 6).

A retry with the same key and request gets the first answer and changes
nothing, even after a later request set the entry back. Keys of requests that
changed something are rebuilt from the `idempotency_key` of `StatusChanged`
events; keys of no-op requests live only in Redis.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson
import redis.asyncio as redis

from shared.redis_keys import STATUS_IDEMPOTENCY, redis_key


@dataclass(frozen=True)
class KeyedChange:
    """What a key was first used for, and the answer it got."""

    credential_id: str
    purpose: str
    value: int
    changed: bool

    def same_request(self, credential_id: str, purpose: str, value: int) -> bool:
        return (self.credential_id, self.purpose, self.value) == (credential_id, purpose, value)


class StatusKeys:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _hash(self, tenant: str) -> str:
        return redis_key(self._prefix, STATUS_IDEMPOTENCY, tenant)

    async def first_use(self, tenant: str, key: str) -> KeyedChange | None:
        raw = await self._redis.hget(self._hash(tenant), key)
        return KeyedChange(**orjson.loads(raw)) if raw else None

    async def remember(self, tenant: str, key: str, change: KeyedChange) -> None:
        """Record the key's first use; later ones (replays) keep the first."""
        await self._redis.hsetnx(self._hash(tenant), key, orjson.dumps(asdict(change)))
