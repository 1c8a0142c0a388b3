"""The newest signed status list credential of each list, served over HTTP."""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import StatusListPublished, decode_event, encode_event
from shared.redis_keys import redis_key


class SignedLists:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._hash = redis_key(prefix, "signed-lists")

    async def save(self, event: StatusListPublished) -> None:
        await self._redis.hset(self._hash, event.list_id, encode_event(event))

    async def latest(self, list_id: str) -> StatusListPublished | None:
        raw = await self._redis.hget(self._hash, list_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, StatusListPublished) else None
