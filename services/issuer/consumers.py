"""Kafka handlers: rebuild the issuer's state from its own and the catalog's topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka.structs import ConsumerRecord

from services.issuer.allocation import StatusAllocator
from services.issuer.attempts import AttemptIndex
from services.issuer.bulk_store import BulkJobStore
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
    webhooks: Webhooks | None = None,
    attempts: AttemptIndex | None = None,
) -> Handler:
    """`bulk`, `webhooks`, `attempts`: their stores (None in
    tests of the other records)."""

    apply_issued = on_credentials_issued(store, allocator)

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
                await apply_issued([event])
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


def on_credentials_issued(
    store: IssuerStore, allocator: StatusAllocator
) -> Callable[[list[CredentialIssued]], Awaitable[None]]:
    """Apply issued credentials (a run of a batch: three Redis calls for all)."""

    async def apply(events: list[CredentialIssued]) -> None:
        # Invariant 1: every index handed out before stays taken, also when
        # the credential itself was saved by its award (a wipe may have come
        # between the award's claim and its save).
        await allocator.record_many([(e.issuer_did, e.status_entries) for e in events])
        await store.save_credentials(await store.unsaved(events))

    return apply
