"""Kafka handlers: rebuild the issuer's state from its own and the catalog's topics."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from services.issuer.allocation import StatusAllocator
from services.issuer.attempts import AttemptIndex
from services.issuer.bulk_store import BulkJobStore
from services.issuer.registry import RegistryIndex
from services.issuer.store import IssuerStore
from services.issuer.webhooks import Webhooks
from shared.events import (
    AccreditationStatusAssigned,
    AchievementPublished,
    AttemptRecorded,
    BulkJobChanged,
    CredentialIssued,
    CredentialShared,
    EndorsementPublished,
    Event,
    IssuerProfilePublished,
    PathwayPublished,
    ProviderPublished,
    WebhookDeliveryFinished,
    WebhookRegistered,
)
from shared.kafka.consumer import Handler


def on_issuer_event(
    store: IssuerStore,
    allocator: StatusAllocator,
    *,
    bulk: BulkJobStore | None = None,
    registry: RegistryIndex | None = None,
    webhooks: Webhooks | None = None,
    attempts: AttemptIndex | None = None,
) -> Handler:
    """`bulk`, `registry`, `webhooks`, `attempts`: their stores (None in
    tests of the other records)."""

    async def handle(event: Event, record: ConsumerRecord) -> None:
        match event:
            case IssuerProfilePublished():
                await store.save_issuer(event)
            case AchievementPublished():
                await store.save_achievement(event)
            case ProviderPublished():
                await store.save_provider(event)
            case EndorsementPublished():
                await store.save_endorsement(event)
            case PathwayPublished():
                await store.pathways.save(event)
            case AccreditationStatusAssigned():
                # Invariant 1 for the operator's lists too.
                await allocator.record(event.operator_did, [event.entry])
                await store.save_accreditation_status(event)
            case CredentialIssued():
                # Invariant 1: every index handed out before stays taken.
                await allocator.record(event.issuer_did, event.status_entries)
                await store.save_credential(event)
                if registry is not None:
                    await registry.issued(event)
            case WebhookRegistered() if webhooks is not None:
                await webhooks.remember(event)
            case WebhookDeliveryFinished() if webhooks is not None:
                await webhooks.finished(event)
            case CredentialShared():
                await store.save_share(event)
            case AttemptRecorded() if attempts is not None:
                await attempts.recorded(event)
            case BulkJobChanged() if bulk is not None:
                await bulk.apply(event)
            case _:
                pass

    return handle
