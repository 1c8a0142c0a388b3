"""Kafka handler: every event on the verifier's topics goes into its replica."""

from __future__ import annotations

from aiohttp import web
from aiokafka.structs import ConsumerRecord

from services.verifier.app_keys import REPLICA
from shared.events import Event
from shared.kafka.consumer import Handler


def on_replica_event(app: web.Application) -> Handler:
    async def handle(event: Event, record: ConsumerRecord) -> None:
        app[REPLICA].apply(event)

    return handle
