"""Read-your-writes across services: wait briefly for a record to arrive.

A client that creates something in one service (an issuer, an achievement)
and uses it in another a moment later races the Kafka replication between
them; a short, bounded wait turns that race into a little latency instead of
a spurious 404.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05


async def wait_for_record(
    lookup: Callable[[], Awaitable[T | None]], wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> T | None:
    """`lookup()` until it finds something or `wait_seconds` have passed."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await lookup()
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(POLL_SECONDS)
