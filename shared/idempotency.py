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
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
import orjson
import redis.asyncio as redis

from shared.errors import Conflict, IdempotencyKeyReused, Rebuilding
from shared.kafka.offsets import ReplayedState
from shared.redis_keys import (
    IDEMPOTENCY,
    IDEMPOTENCY_LOCK,
    generation_key,
    redis_key,
    replayed_key,
)
from shared.redis_scripts import (
    ACQUIRE_LEASES,
    HMGET_REPLAYED,
    NOT_REPLAYED,
    RELEASE_LEASES,
    RENEW_LEASES,
)
from shared.redis_writes import Writes

T = TypeVar("T")
LEASE_SECONDS = 5.0
WAIT_SECONDS = 30.0
RETRY_SECONDS = 0.1  # a held lease is asked for again after this


def fingerprint(request: object) -> str:
    """A stable hash of a request (a msgspec Struct or JSON-like value)."""
    canonical = orjson.dumps(msgspec.to_builtins(request), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@contextlib.asynccontextmanager
async def lease(
    client: redis.Redis, name: str, *, wait: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold the lease `name` (`leases` of one)."""
    async with leases(client, [name], wait=wait):
        yield


@contextlib.asynccontextmanager
async def leases(
    client: redis.Redis, names: Sequence[str], *, wait: float = WAIT_SECONDS
) -> AsyncIterator[None]:
    """Hold every lease in `names` (taken all at once, or none), each for
    `LEASE_SECONDS` and renewed while the body runs; a holder that dies frees
    them within the lease. Raises `Conflict` when another holder keeps one of
    them for longer than `wait`."""
    token, ms = secrets.token_hex(16), int(LEASE_SECONDS * 1000)
    acquire = client.register_script(ACQUIRE_LEASES)
    deadline = time.monotonic() + wait
    while not await acquire(keys=names, args=[token, ms]):
        if time.monotonic() >= deadline:
            raise Conflict("another request holds this resource; retry later")
        await asyncio.sleep(RETRY_SECONDS)

    held = True

    async def renew() -> None:
        extend = client.register_script(RENEW_LEASES)
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            if not held:
                return
            with contextlib.suppress(Exception):  # a blip: the next round, or the lease ends
                await extend(keys=names, args=[token, ms])

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        # Never waited for: a cancellation that reaches the renewal inside a
        # Redis call can be lost there (seen with redis-py 8.1 under load; a
        # bulk batch then hung until its timeout), so `held` ends the loop
        # too. A renewal that lands after the release changes nothing: it
        # extends only leases that still hold this token.
        held = False
        renewing.cancel()
        with contextlib.suppress(Exception):  # unreachable Redis: the leases run out
            await client.register_script(RELEASE_LEASES)(keys=names, args=[token])


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
        self._hmget = client.register_script(HMGET_REPLAYED)
        self._state = ReplayedState(client, prefix)

    def _hash(self, tenant: str) -> str:
        return redis_key(self._prefix, IDEMPOTENCY, self._scope, tenant)

    async def first_use(self, tenant: str, key: str) -> FirstUse | None:
        (found,) = await self.first_uses(tenant, [key])
        return found

    async def first_uses(self, tenant: str, keys: Sequence[str]) -> list[FirstUse | None]:
        """What each key was first used for (None: never), in one call."""
        if not keys:
            return []
        state = [generation_key(self._prefix), replayed_key(self._prefix)]
        found = await self._hmget(keys=[*state, self._hash(tenant)], args=list(keys))
        if found == NOT_REPLAYED:
            raise Rebuilding()
        return [None if raw is None else FirstUse(*orjson.loads(raw)) for raw in found]

    async def remember(self, tenant: str, key: str, request: str, answer: str) -> None:
        """Record the key's first use (`request`: its fingerprint); a later
        record of the same key (a replay) keeps the first."""
        await self._redis.hsetnx(self._hash(tenant), key, orjson.dumps([request, answer]))

    def remember_in(self, writes: Writes, tenant: str, key: str, request: str, answer: str) -> None:
        """`remember`, as one of the caller's writes."""
        writes.hsetnx(self._hash(tenant), key, orjson.dumps([request, answer]))

    @contextlib.asynccontextmanager
    async def claim(self, tenant: str, key: str, request: str) -> AsyncIterator[str | None]:
        """Hold the key's lease and yield the first answer given to it (None:
        first use, go ahead and `remember` the answer before leaving)."""
        async with self.claim_many(tenant, [key]) as (earlier,):
            if earlier is not None and earlier.fingerprint != request:
                raise IdempotencyKeyReused()
            yield None if earlier is None else earlier.answer

    @contextlib.asynccontextmanager
    async def claim_many(
        self, tenant: str, keys: Sequence[str]
    ) -> AsyncIterator[list[FirstUse | None]]:
        """Hold the leases of distinct `keys` (e.g. a bulk job's batch) and
        yield each key's first use; the caller compares the fingerprints."""
        if not keys:
            yield []
            return
        if len(set(keys)) != len(keys):
            raise ValueError("claim_many needs distinct keys")
        names = [redis_key(self._prefix, IDEMPOTENCY_LOCK, self._scope, tenant, k) for k in keys]
        async with leases(self._redis, names):
            yield await self.first_uses(tenant, keys)

    async def once(
        self,
        tenant: str,
        key: str | None,
        request: str,
        create: Callable[[str | None, str | None], Awaitable[T]],
        replay: Callable[[str], Awaitable[T | None]],
    ) -> tuple[T, bool]:
        """`create(key, request)` once per key (it records the key with its
        event); a retry gets `replay(first answer)`, the record the answer
        names. Without a key, `create(None, None)`. The result and whether it
        was made now."""
        if key is None:
            return await create(None, None), True
        async with self.claim(tenant, key, request) as earlier:
            if earlier is not None:
                replayed = await replay(earlier)
                if replayed is None:  # stored with the key (or before it)
                    await self._state.missing(f"the record of key {key!r}")
                return replayed, False
            return await create(key, request), True
