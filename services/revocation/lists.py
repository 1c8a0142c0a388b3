"""Status list state in Redis: one bitmap per list, rebuilt from Kafka.

Redis bitmaps number bits from the most significant bit of the first byte,
which is the order Bitstring Status List v1.0 §4.1 prescribes ("the first
index ... is located at the left-most bit in the bitstring"), so a list's
bytes are the bitstring itself, ready to compress and encode.

Every Redis key of this module is built with `shared.redis_keys`; the state
is rebuilt by replaying `credentials.issued` and `status.changes`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import cast

import orjson
import redis.asyncio as redis

from shared.redis_keys import (
    CREDENTIALS,
    STATUS_BITS,
    STATUS_CHANGE_LOCK,
    STATUS_DIRTY,
    STATUS_LISTS,
    STATUS_LISTS_USED,
    STATUS_PUBLISH_LOCK,
    STATUS_SEQUENCE,
    redis_key,
)
from shared.status_lists import LIST_SIZE

_SNAPSHOT = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local sequence = math.max(tonumber(ARGV[1]), last + 1)
redis.call('SET', KEYS[1], string.format('%d', sequence))
return {sequence, redis.call('GET', KEYS[2])}
"""


@dataclass(frozen=True)
class ListInfo:
    list_id: str
    list_url: str
    issuer_did: str
    purpose: str


@dataclass(frozen=True)
class EntryRecord:
    purpose: str
    list_id: str
    index: int


@dataclass(frozen=True)
class CredentialRecord:
    credential_id: str
    tenant: str
    issuer_did: str
    entries: tuple[EntryRecord, ...]

    def entry_for(self, purpose: str) -> EntryRecord | None:
        return next((entry for entry in self.entries if entry.purpose == purpose), None)


@dataclass(frozen=True)
class Snapshot:
    info: ListInfo
    sequence: int
    bits: bytes


class StatusListStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._snapshot_script = client.register_script(_SNAPSHOT)

    def _key(self, entity: str, *parts: str) -> str:
        return redis_key(self._prefix, entity, *parts)

    async def ensure_list(self, info: ListInfo) -> bool:
        """Record a list; True when it was not known before."""
        created = await self._redis.hsetnx(
            self._key(STATUS_LISTS), info.list_id, orjson.dumps(asdict(info))
        )
        return bool(created)

    async def list_info(self, list_id: str) -> ListInfo | None:
        raw = await self._redis.hget(self._key(STATUS_LISTS), list_id)
        return ListInfo(**orjson.loads(raw)) if raw else None

    async def set_bit(self, list_id: str, index: int, value: int) -> int:
        """Set one entry; returns its previous value."""
        if not 0 <= index < LIST_SIZE:
            raise ValueError(f"status list index {index} out of range")
        return int(await self._redis.setbit(self._key(STATUS_BITS, list_id), index, value))

    async def get_bit(self, list_id: str, index: int) -> int:
        return int(await self._redis.getbit(self._key(STATUS_BITS, list_id), index))

    async def snapshot(self, info: ListInfo) -> Snapshot:
        """The list's bits with a fresh, strictly increasing sequence number.

        The sequence is time-based (microseconds) and never below the last
        one + 1, so it keeps increasing across a Redis wipe too: verifiers
        keep the snapshot with the highest sequence."""
        sequence, raw = await self._snapshot_script(
            keys=[
                self._key(STATUS_SEQUENCE, info.list_id),
                self._key(STATUS_BITS, info.list_id),
            ],
            args=[time.time_ns() // 1000],
        )
        bits = (raw or b"").ljust(LIST_SIZE // 8, b"\0")
        return Snapshot(info, int(sequence), bits)

    @asynccontextmanager
    async def publishing(self, list_id: str) -> AsyncIterator[None]:
        """Serialise snapshot publication of one list across instances, so
        snapshots reach the compacted topic in sequence order."""
        lock = self._redis.lock(
            self._key(STATUS_PUBLISH_LOCK, list_id), timeout=30, blocking_timeout=30
        )
        async with lock:
            yield

    @asynccontextmanager
    async def changing(self, list_id: str) -> AsyncIterator[None]:
        """One status change per list at a time, across instances."""
        lock = self._redis.lock(
            self._key(STATUS_CHANGE_LOCK, list_id), timeout=30, blocking_timeout=30
        )
        async with lock:
            yield

    async def mark_dirty(self, list_id: str) -> None:
        await self._redis.sadd(self._key(STATUS_DIRTY), list_id)

    async def clear_dirty(self, list_id: str) -> None:
        await self._redis.srem(self._key(STATUS_DIRTY), list_id)

    async def note_used(self, issuer_did: str, purpose: str, number: int) -> None:
        """Remember the highest list number a credential of this issuer uses."""
        await self._redis.eval(
            "local c = tonumber(redis.call('GET', KEYS[1]) or '-1') "
            "if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
            1,
            self._key(STATUS_LISTS_USED, issuer_did, purpose),
            number,
        )

    async def highest_used(self, issuer_did: str, purpose: str) -> int:
        """The highest list number in use, -1 when the issuer has no credentials yet."""
        raw = await self._redis.get(self._key(STATUS_LISTS_USED, issuer_did, purpose))
        return int(raw) if raw is not None else -1

    async def is_dirty(self, list_id: str) -> bool:
        return bool(await self._redis.sismember(self._key(STATUS_DIRTY), list_id))

    async def dirty_lists(self) -> list[str]:
        members = await self._redis.smembers(self._key(STATUS_DIRTY))
        return sorted(member.decode() for member in cast(set[bytes], members))

    async def remember_credential(self, record: CredentialRecord) -> None:
        await self._redis.hset(
            self._key(CREDENTIALS), record.credential_id, orjson.dumps(asdict(record))
        )

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        raw = await self._redis.hget(self._key(CREDENTIALS), credential_id)
        if raw is None:
            return None
        data = orjson.loads(raw)
        entries = tuple(EntryRecord(**entry) for entry in data.pop("entries"))
        return CredentialRecord(entries=entries, **data)
