"""Where replica consumers remember how far they read, by state generation.

The next offsets live next to the state they produced (same Redis), under a
generation: a random id written when a rebuild starts (architecture
invariant 3). Offsets are loaded and saved only under the generation they
belong to (one Lua step), so a consumer that outlives a Redis wipe can never
plant offsets in the emptied Redis; it finds its generation gone
(`StateLost`), and restarts, replaying its topics from the beginning into a
new generation. The generation's "replayed" mark, set once the consumer
caught up, is what state-dependent writes check (`shared.redis_scripts`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import NoReturn, Protocol, cast

from redis.asyncio import Redis

from shared.errors import Rebuilding
from shared.redis_keys import generation_key, offsets_key, replayed_key
from shared.redis_scripts import LOAD_OFFSETS, MARK_REPLAYED, OPEN_GENERATION, SAVE_OFFSETS


class StateLost(Exception):
    """The derived state under a consumer's offsets is gone (Redis wiped):
    the consumer must replay from the beginning."""


class OffsetStore(Protocol):
    """Next offset to read per topic partition, and the state they belong to."""

    async def open(self, topics: Sequence[str]) -> bool:
        """Begin a (re)start; True when the state is new and must be replayed."""
        ...

    async def load(self, topic: str) -> dict[int, int]:
        """partition -> next offset; empty when nothing was stored."""
        ...

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        """Record partition -> next offset for the given partitions."""
        ...

    async def replayed(self) -> None:
        """The consumer caught up: the state is complete."""
        ...

    async def check(self) -> None:
        """Raise `StateLost` when the state went away under the consumer."""
        ...


class MemoryOffsetStore:
    """An in-process store (tests, or the verifier's replica, which replays
    at every start and so cannot lose its state to anyone else)."""

    def __init__(self) -> None:
        self._offsets: dict[str, dict[int, int]] = {}

    async def open(self, topics: Sequence[str]) -> bool:
        return not self._offsets

    async def load(self, topic: str) -> dict[int, int]:
        return dict(self._offsets.get(topic, {}))

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        self._offsets.setdefault(topic, {}).update(offsets)

    async def replayed(self) -> None:
        return None

    async def check(self) -> None:
        return None


class RedisOffsetStore:
    """One Redis hash per topic (`<prefix>:offsets:<topic>`, field =
    partition) under the generation in `<prefix>:generation`."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._generation: str | None = None
        self._open = redis.register_script(OPEN_GENERATION)
        self._load = redis.register_script(LOAD_OFFSETS)
        self._save = redis.register_script(SAVE_OFFSETS)
        self._mark = redis.register_script(MARK_REPLAYED)

    def __repr__(self) -> str:
        return f"RedisOffsetStore(key_prefix={self._prefix!r}, generation={self._generation!r})"

    @property
    def generation(self) -> str | None:
        return self._generation

    def key(self, topic: str) -> str:
        return offsets_key(self._prefix, topic)

    def _state_keys(self) -> list[str]:
        return [generation_key(self._prefix), replayed_key(self._prefix)]

    async def open(self, topics: Sequence[str]) -> bool:
        keys = [*self._state_keys(), *(self.key(topic) for topic in topics)]
        generation, new = await self._open(keys=keys, args=[uuid.uuid4().hex])
        self._generation = generation.decode() if isinstance(generation, bytes) else generation
        return bool(new)

    def _current(self) -> str:
        if self._generation is None:
            raise RuntimeError("RedisOffsetStore.open() must be awaited first")
        return self._generation

    async def load(self, topic: str) -> dict[int, int]:
        generation = self._current()
        raw = await self._load(
            keys=[generation_key(self._prefix), self.key(topic)], args=[generation]
        )
        if raw == -1:
            raise StateLost(f"generation {generation} is gone")
        pairs = cast(list[bytes], raw)
        return {int(pairs[i]): int(pairs[i + 1]) for i in range(0, len(pairs), 2)}

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        if not offsets:
            return
        generation = self._current()
        args: list[str] = [generation]
        for partition, offset in offsets.items():
            args += [str(partition), str(offset)]
        saved = await self._save(keys=[generation_key(self._prefix), self.key(topic)], args=args)
        if not saved:
            raise StateLost(f"generation {generation} is gone")

    async def replayed(self) -> None:
        generation = self._current()
        if not await self._mark(keys=self._state_keys(), args=[generation]):
            raise StateLost(f"generation {generation} is gone")

    async def check(self) -> None:
        generation = self._current()
        current = await self._redis.get(generation_key(self._prefix))
        if current is None or current != generation.encode():
            raise StateLost(f"generation {generation} is gone")


class ReplayedState:
    """Whether a service's Redis state is complete: its generation replayed.

    Checked in Redis itself, so it also sees a wipe the consumer has not
    noticed yet; a lookup that finds nothing asks it before answering 404
    (a record missing only because of a rebuild is a 503, not a 404)."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._keys = [generation_key(key_prefix), replayed_key(key_prefix)]

    async def require(self) -> None:
        """Raise `Rebuilding` unless the current generation has been replayed."""
        generation, replayed = await self._redis.mget(self._keys)
        if generation is None or generation != replayed:
            raise Rebuilding()

    async def missing(self, what: str) -> NoReturn:
        """For a record stored with (or before) the one that named it, and
        not found: missing only because Redis was wiped in between, so
        `Rebuilding` (a 503 to retry); with the state complete, a broken
        invariant."""
        await self.require()
        raise RuntimeError(f"{what} was stored and is not found")
