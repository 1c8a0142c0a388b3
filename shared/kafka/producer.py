"""Publishing events: a send returns only once the broker acknowledged it.

acks="all" with idempotence: a record acknowledged to us is on every in-sync
replica (architecture invariant 2: hand out a credential only after that).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer

from shared.errors import Unavailable, is_transient
from shared.events import Event, encode_event
from shared.logging import get_logger

Headers = Sequence[tuple[str, bytes]]
_log = get_logger("shared.kafka.producer")
CONNECT_MIN_SECONDS = 0.5
CONNECT_MAX_SECONDS = 10.0
# Bytes buffered per partition before a send waits for the sender. aiokafka's
# default (16 KiB) holds two signed credentials (about 6-8 KiB each), so a
# bulk group of 128 awards waited about 20 times per partition, and each drain
# woke every waiting send: 18% of the issuer's CPU during a bulk job. Below
# the broker's default message.max.bytes (1 MiB), with room for the overhead.
MAX_BATCH_BYTES = 512 * 1024


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
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    def __repr__(self) -> str:
        return f"EventProducer(client_id={self._client_id!r})"

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        """Connect once; raises when Kafka does not answer."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=self._request_timeout_ms,
        )
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer

    async def connect(self, prepare: Callable[[], Awaitable[None]] | None = None) -> None:
        """`prepare()` (e.g. create topics) and start, retrying with capped
        backoff until Kafka answers: a service starts before its broker does."""
        delay = CONNECT_MIN_SECONDS
        while True:
            try:
                if prepare is not None:
                    await prepare()
                await self.start()
                _log.info("kafka.connected", bootstrap=self._bootstrap)
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                _log.warning(
                    "kafka.unavailable", bootstrap=self._bootstrap, error=repr(error)[:300],
                    retry_in=delay,
                )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, CONNECT_MAX_SECONDS)

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

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
        if self._producer is None:
            raise Unavailable("Kafka is not connected yet")
        metadata = await self._producer.send_and_wait(
            topic, value=value, key=_key_bytes(key), headers=list(headers) or None
        )
        return Published(topic=metadata.topic, partition=metadata.partition, offset=metadata.offset)

    async def publish_batch(
        self, topic: str, records: Sequence[tuple[str | bytes, bytes]]
    ) -> list[Published]:
        """Send raw (key, value) records together (the producer batches them)
        and return, in order, once the broker acknowledged every one."""
        if self._producer is None:
            raise Unavailable("Kafka is not connected yet")
        pending = [
            await self._producer.send(topic, value=value, key=_key_bytes(key))
            for key, value in records
        ]
        acknowledged = await asyncio.gather(*pending)
        return [Published(m.topic, m.partition, m.offset) for m in acknowledged]
