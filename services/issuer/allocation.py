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
from collections.abc import Sequence

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
from shared.redis_scripts import (
    ADVANCE_LIST,
    CLAIM_STATUS_ENTRIES,
    LIST_FULL,
    NOT_REPLAYED,
    RECORD_STATUS_ENTRIES,
)
from shared.status_lists import LIST_SIZE, PURPOSES, list_id_for, list_url, parse_list_id

# Open the next list once half the entries are taken: random probing stays
# cheap and every list keeps a large anonymity set.
FILL_LIMIT = LIST_SIZE // 2
CANDIDATES_PER_TRY = 16


def _by_list(list_ids: list[str]) -> tuple[list[str], list[int]]:
    """The distinct lists (in order of first use) and each item's list among
    them, from 1: a script names each list's keys once, however many
    entries of a batch it holds."""
    places: dict[str, int] = {}
    of_items = [places.setdefault(list_id, len(places) + 1) for list_id in list_ids]
    return list(places), of_items


class StatusAllocator:
    """Claims take one Redis call for all of an award's entries; the number
    of each issuer's current list is remembered here (lists only move
    forward: a number found full is advanced in Redis, compare-and-set)."""

    def __init__(self, client: redis.Redis, prefix: str, status_base_url: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._base_url = status_base_url
        self._claim = client.register_script(CLAIM_STATUS_ENTRIES)
        self._record = client.register_script(RECORD_STATUS_ENTRIES)
        self._advance = client.register_script(ADVANCE_LIST)
        self._current: dict[tuple[str, str], int] = {}  # (issuer, purpose): list number

    def _state_keys(self) -> list[str]:
        return [generation_key(self._prefix), replayed_key(self._prefix)]

    async def entries(self, issuer_did: str) -> tuple[list[StatusEntryRef], str]:
        """A free entry for each purpose (Bitstring Status List v1.0 §2.1: one
        entry per purpose), and the state generation they were claimed in."""
        (entries,), generation = await self.entries_for_many(issuer_did, 1)
        return entries, generation

    async def entries_for_many(
        self, issuer_did: str, credentials: int
    ) -> tuple[list[list[StatusEntryRef]], str]:
        """`entries` for each of `credentials` credentials, in one call (a bulk batch)."""
        claimed, generation = await self._claim_entries(issuer_did, list(PURPOSES) * credentials)
        per = len(PURPOSES)
        return [claimed[i : i + per] for i in range(0, len(claimed), per)], generation

    async def allocate(self, issuer_did: str, purpose: str) -> tuple[StatusEntryRef, str]:
        """A free entry and its generation; `Rebuilding` until the bitmaps are complete."""
        (entry,), generation = await self._claim_entries(issuer_did, [purpose])
        return entry, generation

    async def still_current(self, generation: str) -> None:
        """Raise `Rebuilding` unless claims made in `generation` still stand:
        it is the current, replayed one (no wipe since they were made)."""
        current, replayed = await self._redis.mget(self._state_keys())
        if current != replayed or current != generation.encode():
            raise Rebuilding()

    async def record(self, issuer_did: str, entries: Sequence[StatusEntryRef]) -> None:
        """Replay: mark the entries seen in `credentials.issued` as taken."""
        await self.record_many([(issuer_did, entries)])

    async def record_many(self, issued: Sequence[tuple[str, Sequence[StatusEntryRef]]]) -> None:
        """`record` for each (issuer, entries), in one call."""
        entries = [(issuer_did, entry) for issuer_did, each in issued for entry in each]
        if not entries:
            return
        lists, places = _by_list([entry.list_id for _, entry in entries])
        owners = {entry.list_id: (issuer_did, entry.purpose) for issuer_did, entry in entries}
        keys: list[str] = []
        numbers: list[int] = []
        for list_id in lists:
            name = parse_list_id(list_id)
            keys += [*self._list_keys(list_id), self._current_key(*owners[list_id])]
            numbers.append(name.number if name is not None else 0)
        indexes = [entry.index for _, entry in entries]
        pairs = [value for pair in zip(places, indexes, strict=True) for value in pair]
        await self._record(keys=keys, args=[*numbers, *pairs])

    async def _claim_entries(
        self, issuer_did: str, purposes: list[str]
    ) -> tuple[list[StatusEntryRef], str]:
        """A free entry for each item of `purposes` (repeats claim distinct
        entries), all in one Redis call unless a list fills up meanwhile."""
        numbers = {p: await self._list_number(issuer_did, p) for p in set(purposes)}
        claimed: list[StatusEntryRef | None] = [None] * len(purposes)
        generation: bytes | None = None
        while pending := [i for i, entry in enumerate(claimed) if entry is None]:
            ids = [list_id_for(issuer_did, purposes[i], numbers[purposes[i]]) for i in pending]
            lists, places = _by_list(ids)
            keys = self._state_keys() + [key for each in lists for key in self._list_keys(each)]
            # §6.1: candidates from the system's CSPRNG, drawn in one read
            drawn = secrets.token_bytes(4 * CANDIDATES_PER_TRY * len(pending))
            args: list[int | bytes] = [FILL_LIMIT, CANDIDATES_PER_TRY, LIST_SIZE, drawn, *places]
            result = await self._claim(keys=keys, args=args)
            if result == NOT_REPLAYED:
                raise Rebuilding("status allocation state is being rebuilt; retry shortly")
            if generation not in (None, result[0]):  # a wipe between two tries
                raise Rebuilding("status allocation state is being rebuilt; retry shortly")
            generation, *indexes = result
            full: set[str] = set()
            for i, list_id, index in zip(pending, ids, indexes, strict=True):
                purpose = purposes[i]
                if index >= 0:
                    url = list_url(self._base_url, list_id)
                    claimed[i] = StatusEntryRef(
                        purpose=purpose, list_id=list_id, list_url=url, index=int(index)
                    )
                elif index == LIST_FULL:
                    full.add(purpose)
                # else every candidate was taken: another try with new ones
            for purpose in full:
                numbers[purpose] = await self._advance_list(issuer_did, purpose, numbers[purpose])
        assert generation is not None
        return [entry for entry in claimed if entry is not None], generation.decode()

    async def _list_number(self, issuer_did: str, purpose: str) -> int:
        number = self._current.get((issuer_did, purpose))
        if number is None:
            stored = await self._redis.get(self._current_key(issuer_did, purpose))
            number = self._current[(issuer_did, purpose)] = int(stored or 0)
        return number

    async def _advance_list(self, issuer_did: str, purpose: str, seen: int) -> int:
        key = self._current_key(issuer_did, purpose)
        number = int(await self._advance(keys=[key], args=[seen]))
        self._current[(issuer_did, purpose)] = number
        return number

    def _list_keys(self, list_id: str) -> tuple[str, str]:
        return (
            redis_key(self._prefix, STATUS_ALLOC, list_id),
            redis_key(self._prefix, STATUS_ALLOC_COUNT, list_id),
        )

    def _current_key(self, issuer_did: str, purpose: str) -> str:
        return redis_key(self._prefix, STATUS_LIST_CURRENT, issuer_did, purpose)
