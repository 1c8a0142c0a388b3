"""Public reads of the signed status lists, from memory.

`GET /status-lists/{id}` is public and cheap to send, so it must not be able
to use up the Redis pool the authenticated writes need (issue 7: 300
concurrent GETs of random ids gave 14,297 answers of 500 and failed the
revocations sent meanwhile). Each answer, a signed snapshot or "no such
list", is kept in memory for `fresh_seconds` (bounded LRU); concurrent reads
of one id share one look-up (single-flight); and at most `redis_readers`
look-ups touch Redis at once, the others waiting their turn (at most
`wait_seconds`, then 503 with Retry-After). Snapshots this instance signs
are put in memory at once; those of other instances show within
`fresh_seconds`. The HTTP cache headers (ETag, Cache-Control, 304) are the
route's.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from services.revocation.publishing import ListPublisher
from shared.errors import Unavailable
from shared.events import StatusListPublished
from shared.web.fetch_cache import SingleFlight


class PublicLists:
    def __init__(
        self,
        publishing: ListPublisher,
        *,
        fresh_seconds: float = 1.0,
        redis_readers: int = 8,
        wait_seconds: float = 2.0,
        entries: int = 10_000,
    ) -> None:
        self._publishing = publishing
        self._fresh = fresh_seconds
        self._readers = asyncio.Semaphore(redis_readers)
        self._wait = wait_seconds
        self._entries = entries
        self._known: OrderedDict[str, tuple[float, StatusListPublished | None]] = OrderedDict()
        self._flights: SingleFlight[StatusListPublished | None] = SingleFlight()
        publishing.on_signed.append(self.remember)

    def remember(self, event: StatusListPublished) -> None:
        """A snapshot this instance just signed (newer than anything in memory)."""
        self._put(event.list_id, event)

    async def latest(
        self, list_id: str, require_caught_up: Callable[[], None]
    ) -> StatusListPublished | None:
        """The newest signed snapshot of `list_id`, or None for no such list."""
        found = self._known.get(list_id)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        return await self._flights.run(list_id, lambda: self._look_up(list_id, require_caught_up))

    async def _look_up(
        self, list_id: str, require_caught_up: Callable[[], None]
    ) -> StatusListPublished | None:
        try:
            await asyncio.wait_for(self._readers.acquire(), self._wait)
        except TimeoutError:
            raise Unavailable("too many status list reads at once; retry shortly") from None
        try:
            latest = await self._publishing.served(list_id, require_caught_up)
        finally:
            self._readers.release()
        self._put(list_id, latest)
        return latest

    def _put(self, list_id: str, event: StatusListPublished | None) -> None:
        self._known[list_id] = (time.monotonic() + self._fresh, event)
        self._known.move_to_end(list_id)
        while len(self._known) > self._entries:
            self._known.popitem(last=False)
