"""Kafka handlers: status list state from issuance and status change events."""

from __future__ import annotations

from aiohttp import web
from aiokafka.structs import ConsumerRecord

from services.revocation.idempotency import KeyedChange, StatusKeys
from services.revocation.keys import ISSUER_KEYS, LISTS, LISTS_CHANGED, REVOCATION_SETTINGS
from services.revocation.lists import CredentialRecord, EntryRecord, ListInfo
from services.revocation.publishing import open_list, track_list
from shared.events import CredentialIssued, Event, IssuerProfilePublished, StatusChanged
from shared.kafka.consumer import Handler
from shared.service import REDIS
from shared.status_lists import PURPOSES, ListName, issuer_slug, parse_list_id


def on_revocation_event(app: web.Application) -> Handler:
    status_keys = StatusKeys(app[REDIS], app[REVOCATION_SETTINGS].common.redis_prefix)

    async def handle(event: Event, record: ConsumerRecord) -> None:
        lists = app[LISTS]
        match event:
            case IssuerProfilePublished():
                await app[ISSUER_KEYS].remember(event)
                for purpose in PURPOSES:  # each issuer's first lists, before any use
                    await open_list(app, event.did, ListName(issuer_slug(event.did), purpose, 0))
            case CredentialIssued():
                await lists.remember_credential(
                    CredentialRecord(
                        event.credential_id,
                        event.tenant,
                        event.issuer_did,
                        tuple(
                            EntryRecord(e.purpose, e.list_id, e.index) for e in event.status_entries
                        ),
                    )
                )
                for entry in event.status_entries:
                    info = ListInfo(entry.list_id, entry.list_url, event.issuer_did, entry.purpose)
                    await track_list(app, info)
                    name = parse_list_id(entry.list_id)
                    if name is not None:  # keep the issuer's next list published ahead
                        await lists.note_used(event.issuer_did, name.purpose, name.number)
                        await open_list(app, event.issuer_did, name.next())
            case StatusChanged():
                info = ListInfo(event.list_id, event.list_url, event.issuer_did, event.purpose)
                await lists.ensure_list(info)
                if await lists.set_bit(event.list_id, event.index, event.value) != event.value:
                    await lists.mark_dirty(event.list_id)
                    app[LISTS_CHANGED].set()
                if event.idempotency_key:  # rebuild: a retry still gets the first answer
                    change = KeyedChange(event.credential_id, event.purpose, event.value, True)
                    await status_keys.remember(event.tenant, event.idempotency_key, change)
            case _:
                pass

    return handle
