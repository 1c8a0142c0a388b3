"""A bulk file's physical lines: each at most MAX_LINE_BYTES, however the body is chunked."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from services.issuer import bulk
from services.issuer.bulk import MAX_LINE_BYTES, MAX_LINES, _lines
from services.issuer.domain.errors import BulkFileTooLarge


async def lines_of(*chunks: bytes) -> list[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [line async for line in _lines(stream(), hashlib.sha256())]


async def test_lines_without_their_ends_across_chunks() -> None:
    assert await lines_of(b"a,b\r\nc", b",d\n", b"e") == [b"a,b", b"c,d", b"e"]


async def test_a_line_of_the_limit_passes_with_or_without_cr() -> None:
    line = b"x" * MAX_LINE_BYTES
    assert await lines_of(line + b"\r\n" + line) == [line, line]


@pytest.mark.parametrize(
    "chunks",
    [
        (b"h\n" + b"x" * (MAX_LINE_BYTES + 1) + b"\nlast\n",),  # a whole long line in one chunk
        (b"x" * 40_000, b"x" * 40_000 + b"\n"),  # completed by a later chunk
        (b"x" * (MAX_LINE_BYTES + 1),),  # the last line, without a line end
        (b"x" * (MAX_LINE_BYTES + 2),),  # still open
    ],
)
async def test_a_longer_line_is_refused(chunks: tuple[bytes, ...]) -> None:
    with pytest.raises(BulkFileTooLarge, match="longer than"):
        await lines_of(*chunks)


async def test_blank_lines_count_towards_the_line_limit() -> None:
    with pytest.raises(BulkFileTooLarge, match="lines, blank ones included"):
        await lines_of(b"h\n", b"\n" * MAX_LINES)


async def test_the_decoded_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "MAX_FILE_BYTES", 1000)
    assert len(await lines_of(b"x\n" * 500)) == 500
    with pytest.raises(BulkFileTooLarge, match="MiB"):
        await lines_of(b"x\n" * 500, b"x")


async def test_other_tasks_run_between_chunks() -> None:
    turns = 0

    async def other() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen = []
    running = asyncio.create_task(other())
    try:
        async for _ in bulk._lines(chunked(b"\n" * 1000, 10), hashlib.sha256()):
            seen.append(turns)
    finally:
        running.cancel()
    assert seen[-1] >= 9, seen  # the other task ran after each chunk


async def chunked(data: bytes, parts: int) -> AsyncIterator[bytes]:
    size = len(data) // parts
    for start in range(0, len(data), size):
        yield data[start : start + size]
