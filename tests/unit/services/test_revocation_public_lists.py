"""Public status list reads: memory first, one look-up per id, Redis use bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from services.revocation.served import PublicLists
from shared.events import StatusListPublished


def snapshot(list_id: str, sequence: int) -> StatusListPublished:
    return StatusListPublished(
        list_id=list_id,
        list_url=f"http://127.0.0.1/status-lists/{list_id}",
        issuer_did="did:example:issuer",
        purpose="revocation",
        sequence=sequence,
        credential_jwt="jwt",
    )


class FakePublishing:
    """Counts look-ups and how many run at once (each standing for Redis reads)."""

    def __init__(self) -> None:
        self.on_signed: list[Callable[[StatusListPublished], None]] = []
        self.calls = 0
        self.running = 0
        self.most_at_once = 0

    async def served(self, list_id: str, require_caught_up: Callable[[], None]) -> Any:
        self.calls += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.01)
        self.running -= 1
        return snapshot(list_id, 1) if list_id.startswith("known") else None


async def test_reads_come_from_memory_and_share_look_ups() -> None:
    publishing = FakePublishing()
    lists = PublicLists(publishing, fresh_seconds=60, redis_readers=4)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(lists.latest("known-1", lambda: None) for _ in range(100)))
    assert all(a is not None and a.sequence == 1 for a in answers)
    assert publishing.calls == 1
    unknown = await asyncio.gather(*(lists.latest(f"random-{i}", lambda: None) for i in range(300)))
    assert unknown == [None] * 300
    assert publishing.most_at_once <= 4  # never more Redis users than readers
    await lists.latest("random-1", lambda: None)  # remembered as missing
    assert publishing.calls == 301


async def test_a_snapshot_signed_here_is_served_at_once() -> None:
    publishing = FakePublishing()
    lists = PublicLists(publishing, fresh_seconds=60)  # type: ignore[arg-type]
    assert (await lists.latest("known-2", lambda: None)).sequence == 1  # type: ignore[union-attr]
    for listener in publishing.on_signed:
        listener(snapshot("known-2", 7))
    assert (await lists.latest("known-2", lambda: None)).sequence == 7  # type: ignore[union-attr]
