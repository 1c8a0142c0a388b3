"""Random, never-shared status list indexes (architecture invariant 1).

Bitstring Status List v1.0 §6.1 (privacy): indexes SHOULD be assigned at
random so that a list does not reveal issuance order. Each list has a Redis
bitmap of the indexes already handed out; a Lua script claims a free one
atomically, so several issuer instances sharing Redis never collide.

The bitmaps are rebuilt from `credentials.issued` before the issuer is ready.
A sentinel key, written only once that replay has caught up, guards against a
Redis wipe at run time: without it the script refuses to allocate, so an
emptied Redis can never hand out an index a second time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import cast

import redis.asyncio as redis

from shared.redis_keys import (
    STATUS_ALLOC,
    STATUS_ALLOC_COUNT,
    STATUS_LIST_CURRENT,
    redis_key,
    replayed_key,
)
from shared.status_lists import LIST_SIZE, list_id_for, parse_list_id

# Open the next list once half the entries are taken: random probing stays
# cheap and every list keeps a large anonymity set.
FILL_LIMIT = LIST_SIZE // 2
CANDIDATES_PER_TRY = 16

_CLAIM = """
-- KEYS: bitmap, counter, sentinel; ARGV: candidate indexes
if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end
for _, index in ipairs(ARGV) do
  if redis.call('GETBIT', KEYS[1], index) == 0 then
    redis.call('SETBIT', KEYS[1], index, 1)
    redis.call('INCR', KEYS[2])
    return tonumber(index)
  end
end
return -1
"""


class AllocatorNotReady(RuntimeError):
    """Redis lost its allocation state; the issuer must replay before issuing."""


@dataclass(frozen=True)
class Allocation:
    purpose: str
    list_id: str
    list_number: int
    index: int


class StatusAllocator:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._claim = client.register_script(_CLAIM)

    @property
    def sentinel_key(self) -> str:
        """Written by `shared.service.replay_guard` once the replay caught up."""
        return replayed_key(self._prefix)

    async def mark_ready(self) -> None:
        await self._redis.set(self.sentinel_key, "1")

    async def is_ready(self) -> bool:
        return bool(await self._redis.exists(self.sentinel_key))

    async def allocate(self, issuer_did: str, purpose: str) -> Allocation:
        number = await self._current_list(issuer_did, purpose)
        while True:
            list_id = list_id_for(issuer_did, purpose, number)
            index = await self._claim_in(list_id)
            if index is not None:
                return Allocation(purpose, list_id, number, index)
            number = await self._advance_list(issuer_did, purpose, number)

    async def record(self, list_id: str, index: int, issuer_did: str, purpose: str) -> None:
        """Replay: mark an index seen in `credentials.issued` as taken."""
        bitmap, counter = self._list_keys(list_id)
        if not await self._redis.setbit(bitmap, index, 1):
            await self._redis.incr(counter)
        name = parse_list_id(list_id)
        number = name.number if name is not None else 0
        current = self._current_key(issuer_did, purpose)
        # Lists only move forward: keep the highest list number seen.
        await self._redis.eval(
            "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
            1,
            current,
            number,
        )

    async def _claim_in(self, list_id: str) -> int | None:
        bitmap, counter = self._list_keys(list_id)
        taken = int(await self._redis.get(counter) or 0)
        if taken >= FILL_LIMIT:
            return None
        for _ in range(8):
            candidates = [secrets.randbelow(LIST_SIZE) for _ in range(CANDIDATES_PER_TRY)]
            result = cast(
                int, await self._claim(keys=[bitmap, counter, self.sentinel_key], args=candidates)
            )
            if result == -2:
                raise AllocatorNotReady("status allocation state is being rebuilt")
            if result >= 0:
                return result
        return None

    async def _current_list(self, issuer_did: str, purpose: str) -> int:
        return int(await self._redis.get(self._current_key(issuer_did, purpose)) or 0)

    async def _advance_list(self, issuer_did: str, purpose: str, seen: int) -> int:
        key = self._current_key(issuer_did, purpose)
        # Compare-and-set so that concurrent issuers advance the list once.
        script = (
            "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if c == tonumber(ARGV[1]) then redis.call('SET', KEYS[1], c + 1) return c + 1 end "
            "return c"
        )
        return int(cast(int, await self._redis.eval(script, 1, key, seen)))

    def _list_keys(self, list_id: str) -> tuple[str, str]:
        return (
            redis_key(self._prefix, STATUS_ALLOC, list_id),
            redis_key(self._prefix, STATUS_ALLOC_COUNT, list_id),
        )

    def _current_key(self, issuer_did: str, purpose: str) -> str:
        return redis_key(self._prefix, STATUS_LIST_CURRENT, issuer_did, purpose)
