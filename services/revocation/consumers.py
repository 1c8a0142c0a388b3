"""Kafka handlers: status list state from issuance and status change events."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from services.revocation.accreditations import AccreditationRevocations
from services.revocation.changes import CHANGED, change_fingerprint
from services.revocation.history import StatusHistory
from services.revocation.issuers import IssuerKeys
from services.revocation.jobs import JobStore
from services.revocation.lists import CredentialRecord, ListInfo
from services.revocation.publishing import ListPublisher
from shared.events import (
    AccreditationStatusAssigned,
    CredentialIssued,
    Event,
    IssuerProfilePublished,
    ProviderPublished,
    StatusChanged,
    StatusJobRecorded,
)
from shared.idempotency import IdempotencyRecords
from shared.kafka.consumer import Handler
from shared.status_lists import PURPOSES, ListName, issuer_slug, parse_list_id


def on_revocation_event(
    publishing: ListPublisher,
    issuer_keys: IssuerKeys,
    status_idempotency: IdempotencyRecords,
    accreditations: AccreditationRevocations,
    history: StatusHistory,
    jobs: JobStore | None = None,
) -> Handler:
    lists = publishing.lists

    async def handle(event: Event, record: ConsumerRecord) -> None:
        match event:
            # Issuers' lists, and the operator's (its accreditation endorsements);
            # endorsers' endorsements carry no status.
            case IssuerProfilePublished() if event.role in ("issuer", "operator"):
                await issuer_keys.remember(event)
                for purpose in PURPOSES:  # each issuer's first lists, before any use
                    await publishing.open(event.did, ListName(issuer_slug(event.did), purpose, 0))
                if event.revision > 0:  # a rotated key: re-sign the lists with it
                    await publishing.resign(event.did)
            case CredentialIssued():
                await lists.remember_credential(
                    CredentialRecord(
                        event.credential_id,
                        event.tenant,
                        event.issuer_did,
                        tuple(event.status_entries),
                    )
                )
                if jobs is not None:  # bulk jobs select by achievement and date
                    await jobs.issued(event)
                for entry in event.status_entries:
                    info = ListInfo(entry.list_id, entry.list_url, event.issuer_did, entry.purpose)
                    await publishing.track(info)
                    name = parse_list_id(entry.list_id)
                    if name is not None:  # keep the issuer's next list published ahead
                        await lists.note_used(event.issuer_did, name.purpose, name.number)
                        await publishing.open(event.issuer_did, name.next())
            case StatusChanged():
                info = ListInfo(event.list_id, event.list_url, event.issuer_did, event.purpose)
                await lists.ensure_list(info)
                if await lists.set_bit(event.list_id, event.index, event.value) != event.value:
                    await lists.mark_dirty(event.list_id)
                    publishing.changed.set()
                await history.record(event)  # the audit trail, also after a wipe
                if event.idempotency_key:  # rebuild: a retry still gets the first answer
                    request = change_fingerprint(event.credential_id, event.purpose, event.value)
                    await status_idempotency.remember(
                        event.tenant, event.idempotency_key, request, CHANGED
                    )
            case StatusJobRecorded() if jobs is not None:
                await jobs.recorded(event)
            case AccreditationStatusAssigned():
                await accreditations.assigned(event)
            case ProviderPublished():
                await accreditations.provider(event)
            case _:
                pass

    return handle
