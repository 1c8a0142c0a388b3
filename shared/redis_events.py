"""A Redis hash of events by entity id: the replicas services keep of Kafka.

Events are stored in their wire form (`encode_event`), so what a service
keeps is exactly what it read and a replay writes the same bytes again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import redis.asyncio as redis

from shared.events import Event, decode_event, encode_event
from shared.redis_scripts import HEXISTS_MANY
from shared.redis_writes import Writes

E = TypeVar("E", bound=Event)


class EventHash(Generic[E]):
    def __init__(self, client: redis.Redis, key: str, event_type: type[E]) -> None:
        self._redis = client
        self._key = key
        self._type = event_type
        self._hexists = client.register_script(HEXISTS_MANY)

    async def get(self, entity_id: str) -> E | None:
        raw = await self._redis.hget(self._key, entity_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, self._type) else None

    async def values(self) -> list[E]:
        """Every stored event (a small registry; not for large hashes)."""
        raw = await self._redis.hgetall(self._key)
        found = [decode_event(value) for value in raw.values()]
        return [event for event in found if isinstance(event, self._type)]

    async def get_many(self, entity_ids: list[str]) -> list[E]:
        """The stored events of these ids (missing ones left out)."""
        if not entity_ids:
            return []
        raw = await self._redis.hmget(self._key, entity_ids)
        found = [decode_event(value) for value in raw if value is not None]
        return [event for event in found if isinstance(event, self._type)]

    async def stored(self, entity_ids: list[str]) -> list[bool]:
        """Whether each id has a stored event (one call)."""
        if not entity_ids:
            return []
        found = await self._hexists(keys=[self._key], args=entity_ids)
        return [bool(each) for each in found]

    async def put(self, entity_id: str, event: E) -> None:
        await self._redis.hset(self._key, entity_id, encode_event(event))

    def put_in(self, writes: Writes, entity_id: str, event: E) -> None:
        """`put`, as one of the caller's writes."""
        writes.hset(self._key, entity_id, encode_event(event))

    async def put_newest(self, entity_id: str, event: E, version: Callable[[E], int]) -> None:
        """Keep `event` unless a newer version is already stored (replays are idempotent)."""
        current = await self.get(entity_id)
        if current is None or version(current) <= version(event):
            await self.put(entity_id, event)
