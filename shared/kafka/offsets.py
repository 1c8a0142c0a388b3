"""Where replica consumers remember how far they read.

Storing the next offset next to the state it produced (same Redis) makes a
rebuild trivial: wipe Redis and the store is empty too, so the consumer
replays its topics from the beginning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from redis.asyncio import Redis

from shared.redis_keys import offsets_key


class OffsetStore(Protocol):
    """Next offset to read, per topic partition."""

    async def load(self, topic: str) -> dict[int, int]:
        """partition -> next offset; empty when nothing was stored."""
        ...

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        """Record partition -> next offset for the given partitions."""
        ...


class MemoryOffsetStore:
    """An in-process store (tests, or consumers that always replay)."""

    def __init__(self) -> None:
        self._offsets: dict[str, dict[int, int]] = {}

    async def load(self, topic: str) -> dict[int, int]:
        return dict(self._offsets.get(topic, {}))

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        self._offsets.setdefault(topic, {}).update(offsets)


class RedisOffsetStore:
    """One Redis hash per topic: `<prefix>:offsets:<topic>`, field = partition."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = key_prefix

    def __repr__(self) -> str:
        return f"RedisOffsetStore(key_prefix={self._prefix!r})"

    def key(self, topic: str) -> str:
        return offsets_key(self._prefix, topic)

    async def load(self, topic: str) -> dict[int, int]:
        raw: Mapping[bytes | str, bytes | str] = await self._redis.hgetall(self.key(topic))
        return {int(partition): int(offset) for partition, offset in raw.items()}

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        if offsets:
            mapping = {str(p): str(o) for p, o in offsets.items()}
            await self._redis.hset(self.key(topic), mapping=mapping)  # type: ignore[arg-type]
