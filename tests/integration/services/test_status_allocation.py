"""Invariant 1: no two credentials ever share a status list entry."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from services.issuer.allocation import FILL_LIMIT, StatusAllocator
from shared.errors import Rebuilding
from shared.events import StatusEntryRef
from shared.kafka.offsets import RedisOffsetStore
from shared.redis_keys import generation_key, replayed_key
from shared.redis_scripts import CLAIM_STATUS_ENTRIES
from shared.status_lists import LIST_SIZE, list_id_for

pytestmark = [pytest.mark.integration]

DID = "did:key:z6MkexampleIssuer"
BASE = "https://status.example/lists"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{secrets.token_hex(6)}:issuer"


async def replayed(client: redis.Redis, prefix: str) -> None:
    """What the replica consumer does: open a generation, catch up, mark it."""
    store = RedisOffsetStore(client, prefix)
    await store.open([])
    await store.replayed()


async def wipe(client: redis.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)


async def test_concurrent_instances_never_share_an_index(
    client: redis.Redis, prefix: str, redis_url: str
) -> None:
    other_instance = redis.Redis.from_url(redis_url)
    first, second = (
        StatusAllocator(client, prefix, BASE),
        StatusAllocator(other_instance, prefix, BASE),
    )
    await replayed(client, prefix)
    gate = asyncio.Semaphore(64)

    async def claim(n: int) -> StatusEntryRef:
        async with gate:
            entry, _ = await (first if n % 2 else second).allocate(DID, "revocation")
            return entry

    claims = await asyncio.gather(*(claim(n) for n in range(3000)))
    await other_instance.aclose()
    seen = {(claim.list_id, claim.index) for claim in claims}
    assert len(seen) == 3000
    assert all(claim.list_id == list_id_for(DID, "revocation", 0) for claim in claims)
    # Random assignment: indexes are spread over the list, not handed out in order.
    indexes = sorted(claim.index for claim in claims)
    assert indexes[-1] - indexes[0] > 100_000
    await wipe(client, prefix)


async def test_a_wiped_redis_refuses_until_replayed(client: redis.Redis, prefix: str) -> None:
    allocator = StatusAllocator(client, prefix, BASE)
    await replayed(client, prefix)
    claims = [await allocator.allocate(DID, "revocation") for _ in range(50)]
    issued = [entry for entry, _ in claims]
    generation = claims[0][1]
    await allocator.still_current(generation)
    await wipe(client, prefix)

    with pytest.raises(Rebuilding):
        await allocator.allocate(DID, "revocation")
    with pytest.raises(Rebuilding):  # claimed before the wipe: not to be published
        await allocator.still_current(generation)

    for claim in issued:  # what replaying credentials.issued does
        await allocator.record(DID, [claim])
    with pytest.raises(Rebuilding):  # a new generation, not caught up yet
        await allocator.allocate(DID, "revocation")
    await replayed(client, prefix)
    fresh = [(await allocator.allocate(DID, "revocation"))[0] for _ in range(500)]
    taken = {(c.list_id, c.index) for c in issued}
    assert not taken & {(c.list_id, c.index) for c in fresh}
    await wipe(client, prefix)


async def test_a_half_full_list_moves_on_to_the_next(client: redis.Redis, prefix: str) -> None:
    allocator = StatusAllocator(client, prefix, BASE)
    await replayed(client, prefix)
    list_zero = list_id_for(DID, "suspension", 0)
    await client.set(f"{prefix}:status-alloc-count:{list_zero}", FILL_LIMIT)
    claim, _ = await allocator.allocate(DID, "suspension")
    assert claim.list_id == list_id_for(DID, "suspension", 1)
    await wipe(client, prefix)


async def test_candidates_are_random_words_modulo_the_list_size(
    client: redis.Redis, prefix: str
) -> None:
    """The claim script reads each candidate as 4 big-endian bytes modulo the
    list size (a power of two dividing 2**32: every index equally likely),
    and takes an entry's first free candidate."""
    assert LIST_SIZE & (LIST_SIZE - 1) == 0 and 2**32 % LIST_SIZE == 0
    await replayed(client, prefix)
    claim = client.register_script(CLAIM_STATUS_ENTRIES)
    bitmap, counter = f"{prefix}:bitmap", f"{prefix}:count"
    state = [generation_key(prefix), replayed_key(prefix)]
    await client.setbit(bitmap, 7, 1)  # taken: the second entry's first candidate
    words = [0xFFFFFFFF, 0x00000001, 0x00020007, 0x00060009]  # two candidates per entry
    drawn = b"".join(word.to_bytes(4, "big") for word in words)
    result = await claim(keys=[*state, bitmap, counter], args=[10, 2, LIST_SIZE, drawn, 1, 1])
    assert result[1:] == [LIST_SIZE - 1, 9]  # 0x20007 % LIST_SIZE = 7 was taken
    assert await client.get(counter) == b"2"
    assert [await client.getbit(bitmap, i) for i in (LIST_SIZE - 1, 1, 9)] == [1, 0, 1]
    await wipe(client, prefix)


async def test_a_batch_names_each_list_once_and_records_every_entry(
    client: redis.Redis, prefix: str
) -> None:
    allocator = StatusAllocator(client, prefix, BASE)
    await replayed(client, prefix)
    batch, _ = await allocator.entries_for_many(DID, 40)
    entries = [entry for each in batch for entry in each]
    assert len({(e.list_id, e.index) for e in entries}) == 80
    await wipe(client, prefix)
    await allocator.record_many([(DID, entries[:50]), (DID, entries[50:])])
    for purpose in ("revocation", "suspension"):
        list_id = list_id_for(DID, purpose, 0)
        assert await client.get(f"{prefix}:status-alloc-count:{list_id}") == b"40"
        for entry in (e for e in entries if e.purpose == purpose):
            assert await client.getbit(f"{prefix}:status-alloc:{list_id}", entry.index) == 1
    await wipe(client, prefix)
