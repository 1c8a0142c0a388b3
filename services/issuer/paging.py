"""Keyset paging over a Redis sorted set (the registrar's and the attempts'
time indexes).

A page's cursor names the last item it showed (its member and score), and
the next page starts right after that member's rank at the time it is read:
items that land meanwhile, also between items already shown, never shift a
page nor show an item twice, as an offset would. Each round of a long read
(an export) is placed the same way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import orjson
import redis.asyncio as redis

from shared.errors import InvalidField

ROUND = 1000  # members read per round
_MAX_CURSOR = 2048


@dataclass(frozen=True)
class Cursor:
    member: str
    score: float

    def encode(self) -> str:
        raw = orjson.dumps([self.member, self.score])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor a page returned (None: the start); 422 at `$.cursor` otherwise."""
        if text is None:
            return None
        try:
            if len(text) > _MAX_CURSOR:
                raise ValueError
            member, score = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(member, str) or type(score) not in (int, float):
                raise ValueError
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidField("$.cursor", "not a cursor this search returned") from None
        return cls(member, float(score))


def ids_of(members: list[Any]) -> list[str]:
    return [_text(member) for member in members]


def _text(member: Any) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)


@dataclass(frozen=True)
class SortedIndex:
    """One sorted set read in order, oldest first or `newest_first`."""

    client: redis.Redis
    key: str
    newest_first: bool = False

    async def rounds(
        self, after: Cursor | None, low: float | None = None, high: float | None = None
    ) -> AsyncIterator[list[Cursor]]:
        """The members (with their scores) after `after`, a round at a time;
        only scores within [low, high] when given (oldest first only)."""
        start = await self._start(after, low)
        while True:
            read = self.client.zrevrange if self.newest_first else self.client.zrange
            rows = cast(
                list[tuple[bytes, float]],
                await read(self.key, start, start + ROUND - 1, withscores=True),
            )
            found = [Cursor(_text(member), float(score)) for member, score in rows]
            if high is not None:
                found = [c for c in found if c.score <= high]
            if found:
                yield found
            if len(found) < ROUND:
                return
            start = await self._after(found[-1])

    async def _start(self, after: Cursor | None, low: float | None) -> int:
        start = 0 if after is None else await self._after(after)
        if low is not None:  # the first member scored `low` or more
            start = max(start, int(await self.client.zcount(self.key, "-inf", f"({low}")))
        return start

    async def _after(self, cursor: Cursor) -> int:
        """The rank right after the cursor's member (after its score, had it gone)."""
        rank_of = self.client.zrevrank if self.newest_first else self.client.zrank
        rank = cast(int | None, await rank_of(self.key, cursor.member))
        if rank is not None:
            return int(rank) + 1
        if self.newest_first:
            return int(await self.client.zcount(self.key, cursor.score, "+inf"))
        return int(await self.client.zcount(self.key, "-inf", cursor.score))
