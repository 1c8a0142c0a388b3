"""Public reads of the signed status lists, from memory.

`GET /status-lists/{id}` is public and cheap to send, so it must not be able
to use up the Redis pool the authenticated writes need (issue 7: 300
concurrent GETs of random ids gave 14,297 answers of 500 and failed the
revocations sent meanwhile). So every instance keeps the newest signed
snapshot of every list in memory, replayed from the compacted
`status.lists` topic (its own snapshots are put in at once, as signed), and
answers from there:

- a list in memory: its snapshot (the route adds ETag, Cache-Control, 304);
- an id that cannot be one of ours (its issuer is not on `issuer.profiles`),
  or a list beyond the one after the highest its issuer has published: 404
  at once, no Redis;
- the rare rest (an issuer's next list, not yet seen here): the on-demand
  path (`ListPublisher.served`), one look-up per id at a time
  (single-flight), at most `redis_readers` at once, a caller waiting at most
  `wait_seconds` for its turn (then 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka.structs import ConsumerRecord

from services.revocation.publishing import ListPublisher
from shared.errors import Unavailable
from shared.events import Event, IssuerProfilePublished, StatusListPublished
from shared.kafka.consumer import Handler
from shared.status_lists import PURPOSES, issuer_slug, parse_list_id
from shared.web.fetch_cache import SingleFlight


class PublicLists:
    def __init__(
        self, publishing: ListPublisher, *, redis_readers: int = 8, wait_seconds: float = 2.0
    ) -> None:
        self._publishing = publishing
        self._readers = asyncio.Semaphore(redis_readers)
        self._wait = wait_seconds
        self._lists: dict[str, StatusListPublished] = {}
        # (issuer slug, purpose) -> the highest list number published
        self._highest: dict[tuple[str, str], int] = {}
        self._flights: SingleFlight[StatusListPublished | None] = SingleFlight()
        publishing.on_signed.append(self.apply)

    def apply(self, event: StatusListPublished) -> None:
        """A snapshot from `status.lists` (in topic order), or one just signed here."""
        self._lists[event.list_id] = event
        name = parse_list_id(event.list_id)
        if name is not None:
            key = (name.slug, name.purpose)
            self._highest[key] = max(self._highest.get(key, -1), name.number)

    def handler(self) -> Handler:
        async def handle(event: Event, record: ConsumerRecord) -> None:
            match event:
                case StatusListPublished():
                    self.apply(event)
                case IssuerProfilePublished() if event.role == "issuer":
                    for purpose in PURPOSES:  # its list 0 may be asked for before it is seen
                        self._highest.setdefault((issuer_slug(event.did), purpose), -1)
                case _:
                    pass

        return handle

    async def latest(
        self, list_id: str, require_caught_up: Callable[[], None]
    ) -> StatusListPublished | None:
        """The newest signed snapshot of `list_id`, or None for no such list."""
        known = self._lists.get(list_id)
        if known is not None:
            return known
        name = parse_list_id(list_id)
        if name is None:
            return None
        highest = self._highest.get((name.slug, name.purpose))
        if highest is None or name.number > highest + 1:
            return None  # not an issuer of ours, or far beyond its lists
        return await self._flights.run(list_id, lambda: self._look_up(list_id, require_caught_up))

    async def _look_up(
        self, list_id: str, require_caught_up: Callable[[], None]
    ) -> StatusListPublished | None:
        try:
            await asyncio.wait_for(self._readers.acquire(), self._wait)
        except TimeoutError:
            raise Unavailable("too many status list look-ups at once; retry shortly") from None
        try:
            latest = await self._publishing.served(list_id, require_caught_up)
        finally:
            self._readers.release()
        if latest is not None:
            self.apply(latest)
        return latest
