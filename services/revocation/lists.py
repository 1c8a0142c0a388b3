"""Status list state in Redis: one bitmap per list, rebuilt from Kafka.

Redis bitmaps number bits from the most significant bit of the first byte,
which is the order Bitstring Status List v1.0 §4.1 prescribes ("the first
index ... is located at the left-most bit in the bitstring"), so a list's
bytes are the bitstring itself, ready to compress and encode.

Every Redis key of this module is built with `shared.redis_keys`; the state
is rebuilt by replaying `credentials.issued` and `status.changes`. Reading a
bit to decide a change, and snapshotting a list to sign it, refuse while
that replay has not caught up (`Rebuilding`): a half-rebuilt list would
undo revocations.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import cast

import msgspec
import orjson
import redis.asyncio as redis

from shared.errors import Rebuilding
from shared.events import StatusEntryRef
from shared.idempotency import lease, leases
from shared.kafka.offsets import ReplayedState
from shared.redis_keys import (
    CREDENTIALS,
    STATUS_BITS,
    STATUS_CHANGE_LOCK,
    STATUS_DIRTY,
    STATUS_LISTS,
    STATUS_LISTS_USED,
    STATUS_PUBLISH_LOCK,
    STATUS_SEQUENCE,
    generation_key,
    redis_key,
    replayed_key,
)
from shared.redis_scripts import GET_STATUS_BIT, NOT_REPLAYED, RAISE_TO, SNAPSHOT_STATUS_LIST
from shared.status_lists import LIST_SIZE


@dataclass(frozen=True)
class ListInfo:
    list_id: str
    list_url: str
    issuer_did: str
    purpose: str


class CredentialRecord(msgspec.Struct, frozen=True):
    credential_id: str
    tenant: str
    issuer_did: str
    entries: tuple[StatusEntryRef, ...]

    def entry_for(self, purpose: str) -> StatusEntryRef | None:
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
        self.state = ReplayedState(client, prefix)
        self._snapshot_script = client.register_script(SNAPSHOT_STATUS_LIST)
        self._get_bit = client.register_script(GET_STATUS_BIT)
        self._raise_to = client.register_script(RAISE_TO)
        self._state = [generation_key(prefix), replayed_key(prefix)]

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
        """The entry's value; `Rebuilding` until the list is replayed."""
        bit = await self._get_bit(
            keys=[*self._state, self._key(STATUS_BITS, list_id)], args=[index]
        )
        if bit == NOT_REPLAYED:
            raise Rebuilding()
        return int(bit)

    async def snapshot(self, info: ListInfo) -> Snapshot:
        """The list's bits with a fresh, strictly increasing sequence number.

        The sequence is time-based (microseconds) and never below the last
        one + 1, so it keeps increasing across a Redis wipe too: verifiers
        keep the snapshot with the highest sequence."""
        result = await self._snapshot_script(
            keys=[
                *self._state,
                self._key(STATUS_SEQUENCE, info.list_id),
                self._key(STATUS_BITS, info.list_id),
            ],
            args=[time.time_ns() // 1000],
        )
        if result == NOT_REPLAYED:
            raise Rebuilding()
        sequence, raw = result
        bits = (raw or b"").ljust(LIST_SIZE // 8, b"\0")
        return Snapshot(info, int(sequence), bits)

    @asynccontextmanager
    async def publishing(self, list_id: str) -> AsyncIterator[None]:
        """Serialise snapshot publication of one list across instances, so
        snapshots reach the compacted topic in sequence order."""
        async with lease(self._redis, self._key(STATUS_PUBLISH_LOCK, list_id)):
            yield

    @asynccontextmanager
    async def changing(self, *list_ids: str) -> AsyncIterator[None]:
        """One status change per list at a time, across instances (the lists'
        leases are taken all at once, so two changes never wait on each other)."""
        async with leases(self._redis, [self._key(STATUS_CHANGE_LOCK, i) for i in list_ids]):
            yield

    async def mark_dirty(self, list_id: str) -> None:
        await self._redis.sadd(self._key(STATUS_DIRTY), list_id)

    async def clear_dirty(self, list_id: str) -> None:
        await self._redis.srem(self._key(STATUS_DIRTY), list_id)

    async def note_used(self, issuer_did: str, purpose: str, number: int) -> None:
        """Remember the highest list number a credential of this issuer uses."""
        await self._raise_to(
            keys=[self._key(STATUS_LISTS_USED, issuer_did, purpose)], args=[number, -1]
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
            self._key(CREDENTIALS), record.credential_id, msgspec.json.encode(record)
        )

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        raw = await self._redis.hget(self._key(CREDENTIALS), credential_id)
        return None if raw is None else msgspec.json.decode(raw, type=CredentialRecord)

    async def credentials(self, credential_ids: list[str]) -> dict[str, CredentialRecord]:
        """The known ones of these credentials, by id (one call)."""
        if not credential_ids:
            return {}
        raw = await self._redis.hmget(self._key(CREDENTIALS), credential_ids)
        return {
            credential_id: msgspec.json.decode(value, type=CredentialRecord)
            for credential_id, value in zip(credential_ids, raw, strict=True)
            if value is not None
        }
