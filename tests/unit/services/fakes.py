"""What the application-service unit tests run on instead of Kafka: a
publisher that records, and the replica consumer's "caught up" mark."""

from __future__ import annotations

from dataclasses import dataclass, field

import fakeredis

from shared.events import Event
from shared.kafka.offsets import RedisOffsetStore
from shared.kafka.producer import Headers, Published


@dataclass
class Recorded:
    """A Publisher that keeps what it was given (Kafka's role in these tests)."""

    events: list[Event] = field(default_factory=list)

    async def publish(self, topic: str, event: Event, *, key: str) -> Published:
        self.events.append(event)
        return Published(topic, 0, len(self.events) - 1)

    async def publish_raw(
        self, topic: str, value: bytes | None, *, key: str | bytes | None, headers: Headers = ()
    ) -> Published:
        raise AssertionError("not used here")

    def of(self, kind: type[Event]) -> list[Event]:
        return [event for event in self.events if isinstance(event, kind)]


async def replayed(client: fakeredis.FakeAsyncRedis, prefix: str) -> None:
    """What the replica consumer does once caught up: mark its generation."""
    store = RedisOffsetStore(client, prefix)
    await store.open([])
    await store.replayed()
