"""Kafka handlers: the catalog's replica of issuers and its own achievements."""

from __future__ import annotations

from aiohttp import web
from aiokafka.structs import ConsumerRecord

from services.catalog.keys import STORE
from shared.events import AchievementPublished, Event, IssuerProfilePublished
from shared.kafka.consumer import Handler


def on_catalog_event(app: web.Application) -> Handler:
    async def handle(event: Event, record: ConsumerRecord) -> None:
        store = app[STORE]
        match event:
            case IssuerProfilePublished():
                await store.remember_issuer(event.did, event.tenant)
            case AchievementPublished():
                await store.save_achievement(event)
            case _:
                pass

    return handle
