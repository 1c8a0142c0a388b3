"""Idempotency-Key (IETF httpapi draft): one mechanism for every write.

A key's first use is recorded with a fingerprint of the request and the
answer it got. A retry with the same key and request gets that answer and
changes nothing (invariant 6); the same key with another request is a 422.
The records are derived state: each write's event on Kafka carries its key
and fingerprint, and replaying the topic rebuilds them; until the replay has
caught up, a lookup refuses (`Rebuilding`) rather than read "never used".

While a request with a key runs, it holds a short lease on the key (renewed
while the work runs), so a concurrent retry waits for the first answer, and
a retry after a crash waits only until the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import msgspec
import orjson
import redis.asyncio as redis
from redis.asyncio.client import Pipeline
from redis.exceptions import LockError

from shared.errors import Conflict, IdempotencyKeyReused, Rebuilding
from shared.redis_keys import (
    IDEMPOTENCY,
    IDEMPOTENCY_LOCK,
    generation_key,
    redis_key,
    replayed_key,
)
from shared.redis_scripts import HGET_REPLAYED, NOT_REPLAYED

T = TypeVar("T")
LEASE_SECONDS = 5.0
WAIT_SECONDS = 30.0


def fingerprint(request: object) -> str:
    """A stable hash of a request (a msgspec Struct or JSON-like value)."""
    canonical = orjson.dumps(msgspec.to_builtins(request), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@contextlib.asynccontextmanager
async def lease(
    client: redis.Redis, name: str, *, wait: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold the Redis lock `name` with a `LEASE_SECONDS` lease, renewed while
    the body runs; a holder that dies frees it within the lease. Raises
    `Conflict` when another holder keeps it for longer than `wait`."""
    lock = client.lock(name, timeout=LEASE_SECONDS, blocking_timeout=wait)
    if not await lock.acquire():
        raise Conflict("another request holds this resource; retry later")

    async def renew() -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            await lock.reacquire()

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError, LockError, Exception):
            await renewing
        with contextlib.suppress(LockError):  # expired meanwhile (e.g. a Redis blip)
            await lock.release()


@dataclass(frozen=True)
class FirstUse:
    """What a key was first used for, and the answer it got."""

    fingerprint: str
    answer: str


class IdempotencyRecords:
    """The records of one kind of write (`scope`: awards, status, ...)."""

    def __init__(self, client: redis.Redis, prefix: str, scope: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._scope = scope
        self._hget = client.register_script(HGET_REPLAYED)

    def _hash(self, tenant: str) -> str:
        return redis_key(self._prefix, IDEMPOTENCY, self._scope, tenant)

    async def first_use(self, tenant: str, key: str) -> FirstUse | None:
        state = [generation_key(self._prefix), replayed_key(self._prefix)]
        raw = await self._hget(keys=[*state, self._hash(tenant)], args=[key])
        if raw == NOT_REPLAYED:
            raise Rebuilding()
        if raw is None:
            return None
        found, answer = orjson.loads(raw)
        return FirstUse(found, answer)

    async def remember(self, tenant: str, key: str, request: str, answer: str) -> None:
        """Record the key's first use (`request`: its fingerprint); a later
        record of the same key (a replay) keeps the first."""
        await self._redis.hsetnx(self._hash(tenant), key, orjson.dumps([request, answer]))

    def remember_in(self, pipe: Pipeline, tenant: str, key: str, request: str, answer: str) -> None:
        """`remember`, as one command of the caller's pipeline."""
        pipe.hsetnx(self._hash(tenant), key, orjson.dumps([request, answer]))

    @contextlib.asynccontextmanager
    async def claim(self, tenant: str, key: str, request: str) -> AsyncIterator[str | None]:
        """Hold the key's lease and yield the first answer given to it (None:
        first use, go ahead and `remember` the answer before leaving)."""
        async with lease(
            self._redis, redis_key(self._prefix, IDEMPOTENCY_LOCK, self._scope, tenant, key)
        ):
            earlier = await self.first_use(tenant, key)
            if earlier is not None and earlier.fingerprint != request:
                raise IdempotencyKeyReused()
            yield None if earlier is None else earlier.answer

    async def once(
        self,
        tenant: str,
        key: str | None,
        request: str,
        create: Callable[[str | None, str | None], Awaitable[T]],
        replay: Callable[[str], Awaitable[T]],
    ) -> tuple[T, bool]:
        """`create(key, request)` once per key (it records the key with its
        event); a retry gets `replay(first answer)`. Without a key,
        `create(None, None)`. The result and whether it was made now."""
        if key is None:
            return await create(None, None), True
        async with self.claim(tenant, key, request) as earlier:
            if earlier is not None:
                return await replay(earlier), False
            return await create(key, request), True
