import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.producer import EventProducer
from shared.kafka.topics import TopicSpec, dlq_topic, ensure_topics, topic_partitions

pytestmark = pytest.mark.integration

MakeTopic = Callable[..., Awaitable[str]]


async def wait_until(predicate: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def prefix() -> str:
    return f"it-{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def make_topic(kafka_bootstrap: str, prefix: str) -> AsyncIterator[MakeTopic]:
    """Create uniquely named topics (and DLQs); delete them afterwards."""
    created: list[str] = []

    async def make(base: str = "events", partitions: int = 3, compacted: bool = False) -> str:
        spec = TopicSpec(prefix + base, partitions=partitions, compacted=compacted)
        await ensure_topics(kafka_bootstrap, [spec])
        created.extend([spec.name, dlq_topic(spec.name)])
        return spec.name

    yield make
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        if created:
            await admin.delete_topics(created)
    finally:
        await admin.close()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    p = EventProducer(kafka_bootstrap, client_id="it-platform")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def redis_client(redis_url: str, prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def read_all(bootstrap: str, topic: str, expected: int) -> list[ConsumerRecord]:
    """Read `expected` records from every partition of `topic` (from the start)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await topic_partitions(bootstrap, [topic])
        tps = [TopicPartition(topic, p) for p in partitions[topic]]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + 15
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()
