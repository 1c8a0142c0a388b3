"""Read-your-writes across services: wait briefly for a record to arrive.

A client that creates something in one service (an issuer, an achievement)
and uses it in another a moment later races the Kafka replication between
them; a short, bounded wait turns that race into a little latency instead of
a spurious 404.

The wait is for the caller's own records only: a lookup answers None for
another tenant's record, so "someone else's" and "missing" both wait out the
same deadline and end at the same moment (no timing side channel across
tenants, docs/internals.md invariant 7).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K")

DEFAULT_WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05


async def wait_for_record(
    lookup: Callable[[], Awaitable[T | None]], wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> T | None:
    """`lookup()` until it finds something or `wait_seconds` have passed;
    None exactly at the deadline (not at the next poll after it)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await lookup()
        remaining = deadline - time.monotonic()
        if found is not None or remaining <= 0:
            return found
        await asyncio.sleep(min(POLL_SECONDS, remaining))


async def wait_for_records(
    lookup: Callable[[list[K]], Awaitable[dict[K, T]]],
    keys: Sequence[K],
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> dict[K, T]:
    """`wait_for_record` for many keys at once: `lookup(missing)` (what it
    finds of those keys, by key) until every key is found or `wait_seconds`
    have passed. The unknown ones wait out one deadline together, not one
    after another."""
    deadline = time.monotonic() + wait_seconds
    found: dict[K, T] = {}
    missing = list(dict.fromkeys(keys))
    while True:
        if missing:
            found.update(await lookup(missing))
            missing = [k for k in missing if k not in found]
        remaining = deadline - time.monotonic()
        if not missing or remaining <= 0:
            return found
        await asyncio.sleep(min(POLL_SECONDS, remaining))
