"""Fetch discipline for documents other parties serve (status lists, DID documents).

- `SingleFlight`: at most one fetch per URL at a time; concurrent callers of
  the same URL share its outcome (success or error), so a burst of requests
  naming one list costs one GET.
- `NegativeCache`: a failed fetch is remembered for a short while and
  answered at once, so an unreachable origin is not asked again by every
  request that names it.

The positive cache (per `Cache-Control: max-age`, bounded) is the fetcher's
own (`shared.web.safe_fetch`).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """One in-flight call per key; the others await the same result.

    The call runs as its own task, shielded: a caller that goes away (its
    client disconnected) does not cancel the fetch the others wait for; the
    fetch itself is bounded by the fetcher's timeout."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
            # retrieved here, so an error nobody awaited any more is not logged as lost
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(task)

    @property
    def in_flight(self) -> int:
        return len(self._running)


class NegativeCache:
    """Recent failures by key, each remembered for `seconds` (bounded LRU)."""

    def __init__(self, seconds: float, entries: int = 1024) -> None:
        self.seconds = seconds
        self._entries = entries
        self._failures: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def failure(self, key: str) -> str | None:
        """The remembered failure's message while it is fresh, else None."""
        found = self._failures.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self._failures[key]
            return None
        return found[1]

    def remember(self, key: str, message: str) -> None:
        if self.seconds <= 0:
            return
        self._failures[key] = (time.monotonic() + self.seconds, message)
        self._failures.move_to_end(key)
        while len(self._failures) > self._entries:
            self._failures.popitem(last=False)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)
