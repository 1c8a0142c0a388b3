"""Signing and publishing status list snapshots (`status.lists`, compacted).

Each snapshot is a `BitstringStatusListCredential` (Bitstring Status List
v1.0 §2.2) signed by the credential issuer's own key, since §3.2 of the spec
has verifiers check that the list's issuer is the credential's: twice, as a
VC-JWT and with an embedded eddsa-rdfc-2022 proof (JSON-LD), for JOSE and
Data Integrity verifiers alike (`representations.py` serves either).
Snapshots of one list are published one at a time (a Redis lease across
instances) with a strictly increasing sequence, so the compacted topic's last
record is always the newest state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.revocation.issuers import IssuerKeys
from services.revocation.lists import ListInfo, StatusListStore
from services.revocation.signed import SignedLists
from shared.credentials.data_integrity import sign_data_integrity, signs_data_integrity
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.status_list import BitstringStatusList, status_list_credential
from shared.events import StatusListPublished
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.status_lists import PURPOSES, ListName, issuer_slug, list_url, parse_list_id

_log = get_logger("revocation.publishing")


@dataclass(frozen=True)
class ListPublisher:
    lists: StatusListStore
    signed: SignedLists
    issuer_keys: IssuerKeys
    publisher: Publisher
    topic: str  # status.lists, with the deployment's prefix
    status_base_url: str
    ttl_ms: int
    # Set when a list needs a new snapshot (the background publisher waits on it).
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Told of every snapshot signed here (the in-memory public reads, `served.py`).
    on_signed: list[Callable[[StatusListPublished], None]] = field(default_factory=list)

    async def publish(self, info: ListInfo) -> StatusListPublished:
        """Sign the list's current bits and publish them; acknowledged by Kafka on return."""
        async with self.lists.publishing(info.list_id):
            snapshot = await self.lists.snapshot(info)
            encoded = BitstringStatusList.from_bytes(snapshot.bits).encode()
            credential = status_list_credential(
                info.list_url,
                info.issuer_did,
                info.purpose,
                encoded,
                datetime.now(UTC).replace(microsecond=0),
                ttl=self.ttl_ms,
            )
            key = await self.issuer_keys.signing_key(info.issuer_did)
            event = StatusListPublished(
                list_id=info.list_id,
                list_url=info.list_url,
                issuer_did=info.issuer_did,
                purpose=info.purpose,
                sequence=snapshot.sequence,
                credential_jwt=sign_vc_jwt(credential, key),
                # an RSA issuer's lists are VC-JWTs only (no RSA cryptosuite)
                credential_ldp=sign_data_integrity(credential, key)
                if signs_data_integrity(key)
                else None,
            )
            await self.publisher.publish(self.topic, event, key=info.list_url)
            await self.signed.save(event)
            for listener in self.on_signed:
                listener(event)
            await self.lists.clear_dirty(info.list_id)
        _log.info("status_list.published", list_id=info.list_id, sequence=snapshot.sequence)
        return event

    async def track(self, info: ListInfo) -> None:
        """Record a list (all clear until an entry is set); a new one is queued
        for its first snapshot, so verifiers have it before a credential uses it."""
        if await self.lists.ensure_list(info):
            await self.lists.mark_dirty(info.list_id)
            self.changed.set()

    async def open(self, issuer_did: str, name: ListName) -> ListInfo:
        """Track `name`, a list of `issuer_did` served under our status base URL."""
        info = ListInfo(
            name.list_id, list_url(self.status_base_url, name.list_id), issuer_did, name.purpose
        )
        await self.track(info)
        return info

    async def served(
        self, list_id: str, require_caught_up: Callable[[], None]
    ) -> StatusListPublished | None:
        """The newest snapshot of a list, for the public GET. A known issuer's
        list not published yet is all clear by definition (no entry was ever
        set), so it is signed now: only up to the one after the highest in
        use (no unbounded signing by callers). Unknown issuers answer None at
        once: a public GET never waits holding a Redis connection."""
        latest = await self.signed.latest(list_id)
        name = parse_list_id(list_id)
        if latest is not None or name is None:
            return latest
        require_caught_up()
        issuer_did = await self.issuer_keys.did_for_slug(name.slug)
        if issuer_did is None:
            return None
        if name.number > await self.lists.highest_used(issuer_did, name.purpose) + 1:
            return None
        try:
            return await self.publish(await self.open(issuer_did, name))
        except LookupError:  # the issuer's signing key is not known here (yet)
            return None

    async def resign(self, issuer_did: str) -> None:
        """Queue every list of the issuer in use (and the next) for a new
        snapshot, signed with its current key. Lists signed before keep
        verifying: the old method stays in the DID document."""
        slug = issuer_slug(issuer_did)
        for purpose in PURPOSES:
            for number in range(await self.lists.highest_used(issuer_did, purpose) + 2):
                list_id = ListName(slug, purpose, number).list_id
                if await self.lists.list_info(list_id) is not None:
                    await self.lists.mark_dirty(list_id)
        self.changed.set()

    async def publish_dirty(self) -> int:
        """Publish every list changed since its last snapshot; the count published."""
        published = 0
        for list_id in await self.lists.dirty_lists():
            info = await self.lists.list_info(list_id)
            if info is None:
                continue
            try:
                await self.publish(info)
                published += 1
            except LookupError as error:  # the issuer's profile has not arrived yet
                _log.warning("status_list.not_published", list_id=list_id, reason=str(error))
        return published
