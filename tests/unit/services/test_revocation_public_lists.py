"""Public status list reads: from memory; Redis only for an issuer's next list."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from services.revocation.served import PublicLists
from shared.events import StatusListPublished
from shared.status_lists import list_id_for

DID = "did:example:issuer"


def snapshot(list_id: str, sequence: int) -> StatusListPublished:
    return StatusListPublished(
        list_id=list_id,
        list_url=f"http://127.0.0.1/status-lists/{list_id}",
        issuer_did=DID,
        purpose="revocation",
        sequence=sequence,
        credential_jwt="jwt",
    )


class FakePublishing:
    """Counts on-demand look-ups (each stands for Redis reads) and their overlap."""

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
        return snapshot(list_id, 1)


def ready() -> None:
    return None


async def test_known_lists_and_strangers_never_reach_redis() -> None:
    publishing = FakePublishing()
    lists = PublicLists(publishing, redis_readers=4)  # type: ignore[arg-type]
    first = list_id_for(DID, "revocation", 0)
    lists.apply(snapshot(first, 3))
    answers = await asyncio.gather(*(lists.latest(first, ready) for _ in range(100)))
    assert {a.sequence for a in answers if a is not None} == {3}
    strangers = [secrets.token_hex(12) for _ in range(100)]
    strangers += [list_id_for(f"did:example:{i}", "revocation", 0) for i in range(100)]
    strangers += [list_id_for(DID, "revocation", 2 + i) for i in range(100)]  # far beyond
    assert await asyncio.gather(*(lists.latest(s, ready) for s in strangers)) == [None] * 300
    assert publishing.calls == 0


async def test_an_issuers_next_list_is_looked_up_once_at_a_time() -> None:
    publishing = FakePublishing()
    lists = PublicLists(publishing, redis_readers=2)  # type: ignore[arg-type]
    lists.apply(snapshot(list_id_for(DID, "revocation", 0), 1))
    following = list_id_for(DID, "revocation", 1)
    answers = await asyncio.gather(*(lists.latest(following, ready) for _ in range(50)))
    assert all(a is not None for a in answers)
    assert publishing.calls == 1
    await lists.latest(following, ready)  # now in memory
    assert publishing.calls == 1


async def test_a_snapshot_signed_here_is_served_at_once() -> None:
    publishing = FakePublishing()
    lists = PublicLists(publishing)  # type: ignore[arg-type]
    list_id = list_id_for(DID, "suspension", 0)
    for listener in publishing.on_signed:
        listener(snapshot(list_id, 7))
    found = await lists.latest(list_id, ready)
    assert found is not None and found.sequence == 7
