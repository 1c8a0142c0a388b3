"""Withdrawn accreditations revoke the operator's endorsements of them.

The issuer embeds in every credential of an accredited provider the
operator's EndorsementCredential, with a revocation entry in the operator's
status lists (`AccreditationStatusAssigned` on `issuer.endorsements`). When
the operator withdraws the accreditation, the record on `catalog.providers`
says so, and this sets the entry of each endorsement of that accreditation
(Bitstring Status List v1.0 §2.1: revocation is permanent, and the catalog
keeps a withdrawal final), so a verifier that knows nothing of our registry
sees the withdrawal in the signed list. A provider's own status (which the
operator may lift again) and suspensions set nothing: the verifier's
`trust` check reports those from our registry.

The bits are derived state, like everything in Redis here: replaying both
topics sets the same bits, in whichever order their records come, since
each side checks the other when it arrives (invariant 3).
"""

from __future__ import annotations

import redis.asyncio as redis

from services.revocation.lists import ListInfo
from services.revocation.publishing import ListPublisher
from shared.events import AccreditationStatusAssigned, ProviderPublished
from shared.redis_events import EventHash
from shared.redis_keys import (
    ACCREDITATION_ENDORSEMENTS,
    ACCREDITATION_STATUS,
    WITHDRAWN_ACCREDITATIONS,
    redis_key,
)
from shared.status_lists import parse_list_id


def _accreditation(provider_id: str, accreditation_id: str) -> str:
    return f"{provider_id}|{accreditation_id}"


class AccreditationRevocations:
    def __init__(self, client: redis.Redis, prefix: str, publishing: ListPublisher) -> None:
        self._redis = client
        self._prefix = prefix
        self._publishing = publishing
        self._assigned = EventHash(
            client, redis_key(prefix, ACCREDITATION_STATUS), AccreditationStatusAssigned
        )
        self._withdrawn = redis_key(prefix, WITHDRAWN_ACCREDITATIONS)

    def _endorsements_key(self, accreditation: str) -> str:
        return redis_key(self._prefix, ACCREDITATION_ENDORSEMENTS, accreditation)

    async def assigned(self, event: AccreditationStatusAssigned) -> None:
        """An endorsement's entry: its list is tracked (and the next one opened
        ahead, as for credentials); set at once if already withdrawn."""
        entry = event.entry
        await self._assigned.put(event.endorsement_id, event)
        accreditation = _accreditation(event.provider_id, event.accreditation_id)
        await self._redis.sadd(self._endorsements_key(accreditation), event.endorsement_id)
        info = ListInfo(entry.list_id, entry.list_url, event.operator_did, entry.purpose)
        await self._publishing.track(info)
        name = parse_list_id(entry.list_id)
        if name is not None:
            await self._publishing.lists.note_used(event.operator_did, name.purpose, name.number)
            await self._publishing.open(event.operator_did, name.next())
        if await self._redis.sismember(self._withdrawn, accreditation):
            await self._revoke(event)

    async def provider(self, event: ProviderPublished) -> None:
        """Revoke the endorsements of every accreditation withdrawn."""
        for accreditation in event.accreditations:
            if accreditation.status != "withdrawn":
                continue
            key = _accreditation(event.provider_id, accreditation.accreditation_id)
            await self._redis.sadd(self._withdrawn, key)
            for raw in await self._redis.smembers(self._endorsements_key(key)):
                endorsement_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                found = await self._assigned.get(endorsement_id)
                if found is not None:
                    await self._revoke(found)

    async def _revoke(self, event: AccreditationStatusAssigned) -> None:
        entry = event.entry
        lists = self._publishing.lists
        await lists.ensure_list(
            ListInfo(entry.list_id, entry.list_url, event.operator_did, entry.purpose)
        )
        if await lists.set_bit(entry.list_id, entry.index, 1) != 1:
            await lists.mark_dirty(entry.list_id)
            self._publishing.changed.set()
