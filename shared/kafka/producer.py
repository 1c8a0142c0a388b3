"""Publishing events: a send returns only once the broker acknowledged it.

acks="all" with idempotence: a record acknowledged to us is on every in-sync
replica (architecture invariant 2: hand out a credential only after that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer

from shared.events import Event, encode_event
from shared.logging import get_logger

Headers = Sequence[tuple[str, bytes]]
_log = get_logger("shared.kafka.producer")


@dataclass(frozen=True)
class Published:
    """Where the broker stored a record."""

    topic: str
    partition: int
    offset: int


class Publisher(Protocol):
    """What code that publishes needs (EventProducer, or a fake in unit tests)."""

    async def publish(self, topic: str, event: Event, *, key: str) -> Published: ...

    async def publish_raw(
        self, topic: str, value: bytes | None, *, key: str | bytes | None, headers: Headers = ()
    ) -> Published: ...


def _key_bytes(key: str | bytes | None) -> bytes | None:
    return key.encode() if isinstance(key, str) else key


class EventProducer:
    """An idempotent, acks=all Kafka producer for events and raw records."""

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "microcred",
        linger_ms: int = 2,
        request_timeout_ms: int = 30_000,
    ) -> None:
        self._client_id = client_id
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            request_timeout_ms=request_timeout_ms,
        )

    def __repr__(self) -> str:
        return f"EventProducer(client_id={self._client_id!r})"

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, event: Event, *, key: str) -> Published:
        """Send one event keyed by `key`; returns after the broker acknowledged it."""
        headers = [("event.type", event.TYPE.encode()), ("event.version", b"%d" % event.VERSION)]
        published = await self.publish_raw(topic, encode_event(event), key=key, headers=headers)
        _log.debug(
            "event.published",
            topic=topic,
            event_type=event.TYPE,
            event_id=event.id,
            partition=published.partition,
            offset=published.offset,
        )
        return published

    async def publish_raw(
        self, topic: str, value: bytes | None, *, key: str | bytes | None, headers: Headers = ()
    ) -> Published:
        """Send raw bytes (dead letters, tests); returns after the broker acknowledged it."""
        metadata = await self._producer.send_and_wait(
            topic, value=value, key=_key_bytes(key), headers=list(headers) or None
        )
        return Published(topic=metadata.topic, partition=metadata.partition, offset=metadata.offset)
