"""The newest signed status list credential of each list, served over HTTP."""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import StatusListPublished
from shared.redis_events import EventHash
from shared.redis_keys import SIGNED_LISTS, redis_key


class SignedLists:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._lists = EventHash(client, redis_key(prefix, SIGNED_LISTS), StatusListPublished)

    async def save(self, event: StatusListPublished) -> None:
        await self._lists.put_newest(event.list_id, event, lambda e: e.sequence)

    async def latest(self, list_id: str) -> StatusListPublished | None:
        return await self._lists.get(list_id)
