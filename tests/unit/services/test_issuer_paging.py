"""Keyset paging: a page continues right after the last item shown, whatever
landed meanwhile (fakeredis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest

from services.issuer import paging
from services.issuer.paging import Cursor, SortedIndex
from shared.errors import InvalidField


@pytest.fixture
async def client() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


async def _page(index: SortedIndex, after: Cursor | None, size: int) -> list[Cursor]:
    """Up to `size` items after `after`, as a search page takes them."""
    page: list[Cursor] = []
    async for found in index.rounds(after):
        page += found[: size - len(page)]
        if len(page) == size:
            break
    return page


@pytest.mark.parametrize("newest_first", [False, True])
async def test_items_landing_between_pages_shift_nothing(
    client: fakeredis.FakeAsyncRedis, newest_first: bool
) -> None:
    # ties on purpose: several items share a millisecond
    first = {f"c{n:02}": 1000 + n // 3 for n in range(12)}
    await client.zadd("index", first)
    index = SortedIndex(client, "index", newest_first=newest_first)
    seen: list[str] = []
    after: Cursor | None = None
    landed = 0
    while page := await _page(index, after, 4):
        seen += [at.member for at in page]
        after = Cursor.decode(page[-1].encode())  # as the client sends it back
        if landed < 3:  # newer and older ones land, some in the millisecond the page ended on
            landed += 1
            await client.zadd("index", {f"new-{landed}": 2000 + landed, f"old-{landed}": 10})
            await client.zadd("index", {f"a-tie-{landed}": page[-1].score})
    originals = [m for m in seen if m.startswith("c")]
    expected = sorted(first, key=lambda m: (first[m], m), reverse=newest_first)
    assert originals == expected  # each once, in order
    assert len(seen) == len(set(seen))


async def test_reads_in_rounds_within_the_scores_asked(
    client: fakeredis.FakeAsyncRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "ROUND", 4)
    await client.zadd("index", {f"c{n:02}": n for n in range(20)})
    index = SortedIndex(client, "index")
    rounds = [[at.member for at in found] async for found in index.rounds(None, 5, 14)]
    assert [len(r) for r in rounds] == [4, 4, 2]
    assert [member for r in rounds for member in r] == [f"c{n:02}" for n in range(5, 15)]
    after = Cursor("c07", 7)
    rest = [at.member async for found in index.rounds(after, 5, 14) for at in found]
    assert rest == [f"c{n:02}" for n in range(8, 15)]
    # a cursor whose member is gone (a rebuild under way) goes on after its score
    await client.zrem("index", "c07")
    rest = [at.member async for found in index.rounds(after, 5, 14) for at in found]
    assert rest == [f"c{n:02}" for n in range(8, 15)]


@pytest.mark.parametrize("bad", ["x", "12", "!!", "WzEsMl0", "WyJhIiwiYiJd", "a" * 3000])
def test_a_cursor_not_returned_by_a_search_is_refused(bad: str) -> None:
    with pytest.raises(InvalidField) as raised:
        Cursor.decode(bad)
    assert raised.value.extra["errors"][0]["path"] == "$.cursor"
