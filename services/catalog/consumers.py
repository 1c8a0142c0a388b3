"""Kafka handlers: the catalog's replica of issuers, its own achievements and
providers, and the endorsements of its achievements."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from services.catalog.store import CatalogStore
from shared.events import (
    AchievementPublished,
    EndorsementPublished,
    Event,
    IssuerProfilePublished,
    PathwayPublished,
    ProviderPublished,
)
from shared.kafka.consumer import Handler


def on_catalog_event(store: CatalogStore) -> Handler:
    async def handle(event: Event, record: ConsumerRecord) -> None:
        match event:
            case IssuerProfilePublished() if event.role == "issuer":
                await store.remember_issuer(event.did, event.tenant)
                if event.self_hosted:
                    await store.remember_self_hosted(event.did, event.tenant)
            case AchievementPublished():
                await store.save_achievement(event)
            case ProviderPublished():
                await store.save_provider(event)
            case EndorsementPublished():
                await store.endorsements.save(event)
            case PathwayPublished():
                await store.pathways.save(event)
            case _:
                pass

    return handle
