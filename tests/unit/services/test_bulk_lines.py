"""A bulk file's physical lines: each at most MAX_LINE_BYTES, however the body is chunked."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from services.issuer.bulk import MAX_LINE_BYTES, _lines
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
