"""Signing and publishing status list snapshots (`status.lists`, compacted).

Each snapshot is a `BitstringStatusListCredential` (Bitstring Status List
v1.0 §2.2) signed as a VC-JWT by the credential issuer's own key, since §3.2
of the spec has verifiers check that the list's issuer is the credential's.
Snapshots of one list are published one at a time (a Redis lock across
instances) with a strictly increasing sequence, so the compacted topic's last
record is always the newest state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from services.revocation.keys import (
    ISSUER_KEYS,
    LISTS,
    LISTS_CHANGED,
    REVOCATION_SETTINGS,
    SIGNED_LISTS,
)
from services.revocation.lists import ListInfo
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.status_list import BitstringStatusList, status_list_credential
from shared.events import StatusListPublished
from shared.kafka.topics import STATUS_LISTS, topic_name
from shared.logging import get_logger
from shared.service import PRODUCER
from shared.status_lists import ListName, list_url

_log = get_logger("revocation.publishing")


async def publish_list(app: web.Application, info: ListInfo) -> StatusListPublished:
    """Sign the list's current bits and publish them; acknowledged by Kafka on return."""
    lists = app[LISTS]
    settings = app[REVOCATION_SETTINGS]
    async with lists.publishing(info.list_id):
        snapshot = await lists.snapshot(info)
        encoded = BitstringStatusList.from_bytes(snapshot.bits).encode()
        credential = status_list_credential(
            info.list_url,
            info.issuer_did,
            info.purpose,
            encoded,
            datetime.now(UTC).replace(microsecond=0),
            ttl=settings.list_ttl_ms,
        )
        key = await app[ISSUER_KEYS].signing_key(info.issuer_did)
        event = StatusListPublished(
            list_id=info.list_id,
            list_url=info.list_url,
            issuer_did=info.issuer_did,
            purpose=info.purpose,
            sequence=snapshot.sequence,
            credential_jwt=sign_vc_jwt(credential, key),
        )
        topic = topic_name(settings.common, STATUS_LISTS)
        await app[PRODUCER].publish(topic, event, key=info.list_url)
        await app[SIGNED_LISTS].save(event)
        await lists.clear_dirty(info.list_id)
    _log.info("status_list.published", list_id=info.list_id, sequence=snapshot.sequence)
    return event


async def track_list(app: web.Application, info: ListInfo) -> None:
    """Record a list (all clear until an entry is set); a new one is queued
    for its first snapshot, so verifiers have it before a credential uses it."""
    if await app[LISTS].ensure_list(info):
        await app[LISTS].mark_dirty(info.list_id)
        app[LISTS_CHANGED].set()


async def open_list(app: web.Application, issuer_did: str, name: ListName) -> ListInfo:
    """Track `name`, a list of `issuer_did` served under our status base URL."""
    settings = app[REVOCATION_SETTINGS]
    info = ListInfo(
        name.list_id, list_url(settings.status_base_url, name.list_id), issuer_did, name.purpose
    )
    await track_list(app, info)
    return info


async def publish_dirty(app: web.Application) -> int:
    """Publish every list changed since its last snapshot; the count published."""
    lists = app[LISTS]
    published = 0
    for list_id in await lists.dirty_lists():
        info = await lists.list_info(list_id)
        if info is None:
            continue
        try:
            await publish_list(app, info)
            published += 1
        except LookupError as error:  # the issuer's profile has not arrived yet
            _log.warning("status_list.not_published", list_id=list_id, reason=str(error))
    return published
