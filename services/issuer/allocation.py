"""Random, never-shared status list indexes (architecture invariant 1).

Bitstring Status List v1.0 §6.1 (privacy): indexes SHOULD be assigned at
random so that a list does not reveal issuance order. Each list has a Redis
bitmap of the indexes already handed out; a Lua script claims a free one
atomically, so several issuer instances sharing Redis never collide.

The bitmaps are rebuilt from `credentials.issued` before any index is handed
out: the claim script refuses unless the state's current generation has
caught up with Kafka (`shared.redis_scripts`), so an emptied Redis can never
hand out an index a second time. A claim names the generation it was made
in; the award checks that it is still the replayed one just before it
publishes (`still_current`), so a wipe while it signed cannot slip through.
"""

from __future__ import annotations

import secrets

import redis.asyncio as redis

from shared.errors import Rebuilding
from shared.events import StatusEntryRef
from shared.redis_keys import (
    STATUS_ALLOC,
    STATUS_ALLOC_COUNT,
    STATUS_LIST_CURRENT,
    generation_key,
    redis_key,
    replayed_key,
)
from shared.redis_scripts import ADVANCE_LIST, CLAIM_STATUS_INDEX, NOT_REPLAYED, RAISE_TO
from shared.status_lists import LIST_SIZE, PURPOSES, list_id_for, list_url, parse_list_id

# Open the next list once half the entries are taken: random probing stays
# cheap and every list keeps a large anonymity set.
FILL_LIMIT = LIST_SIZE // 2
CANDIDATES_PER_TRY = 16


class StatusAllocator:
    def __init__(self, client: redis.Redis, prefix: str, status_base_url: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._base_url = status_base_url
        self._claim = client.register_script(CLAIM_STATUS_INDEX)
        self._raise_to = client.register_script(RAISE_TO)
        self._advance = client.register_script(ADVANCE_LIST)

    def _state_keys(self) -> list[str]:
        return [generation_key(self._prefix), replayed_key(self._prefix)]

    async def entries(self, issuer_did: str) -> tuple[list[StatusEntryRef], str]:
        """A free entry for each purpose (Bitstring Status List v1.0 §2.1: one
        entry per purpose), and the state generation they were claimed in."""
        claimed = [await self.allocate(issuer_did, purpose) for purpose in PURPOSES]
        generations = {generation for _, generation in claimed}
        if len(generations) != 1:  # a wipe between two claims
            raise Rebuilding()
        return [entry for entry, _ in claimed], generations.pop()

    async def allocate(self, issuer_did: str, purpose: str) -> tuple[StatusEntryRef, str]:
        """A free entry and its generation; `Rebuilding` until the bitmaps are complete."""
        number = await self._current_list(issuer_did, purpose)
        while True:
            list_id = list_id_for(issuer_did, purpose, number)
            claimed = await self._claim_in(list_id)
            if claimed is not None:
                index, generation = claimed
                url = list_url(self._base_url, list_id)
                entry = StatusEntryRef(purpose=purpose, list_id=list_id, list_url=url, index=index)
                return entry, generation
            number = await self._advance_list(issuer_did, purpose, number)

    async def still_current(self, generation: str) -> None:
        """Raise `Rebuilding` unless claims made in `generation` still stand:
        it is the current, replayed one (no wipe since they were made)."""
        current, replayed = await self._redis.mget(self._state_keys())
        if current != replayed or current != generation.encode():
            raise Rebuilding()

    async def record(self, list_id: str, index: int, issuer_did: str, purpose: str) -> None:
        """Replay: mark an index seen in `credentials.issued` as taken."""
        bitmap, counter = self._list_keys(list_id)
        if not await self._redis.setbit(bitmap, index, 1):
            await self._redis.incr(counter)
        name = parse_list_id(list_id)
        number = name.number if name is not None else 0
        # Lists only move forward: keep the highest list number seen.
        await self._raise_to(keys=[self._current_key(issuer_did, purpose)], args=[number, 0])

    async def _claim_in(self, list_id: str) -> tuple[int, str] | None:
        bitmap, counter = self._list_keys(list_id)
        taken = int(await self._redis.get(counter) or 0)
        if taken >= FILL_LIMIT:
            return None
        for _ in range(8):
            candidates = [secrets.randbelow(LIST_SIZE) for _ in range(CANDIDATES_PER_TRY)]
            result = await self._claim(keys=[*self._state_keys(), bitmap, counter], args=candidates)
            if result == NOT_REPLAYED:
                raise Rebuilding("status allocation state is being rebuilt; retry shortly")
            index, *generation = result
            if index >= 0:
                return int(index), generation[0].decode()
        return None

    async def _current_list(self, issuer_did: str, purpose: str) -> int:
        return int(await self._redis.get(self._current_key(issuer_did, purpose)) or 0)

    async def _advance_list(self, issuer_did: str, purpose: str, seen: int) -> int:
        return int(await self._advance(keys=[self._current_key(issuer_did, purpose)], args=[seen]))

    def _list_keys(self, list_id: str) -> tuple[str, str]:
        return (
            redis_key(self._prefix, STATUS_ALLOC, list_id),
            redis_key(self._prefix, STATUS_ALLOC_COUNT, list_id),
        )

    def _current_key(self, issuer_did: str, purpose: str) -> str:
        return redis_key(self._prefix, STATUS_LIST_CURRENT, issuer_did, purpose)
