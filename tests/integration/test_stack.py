"""The local stack is a real Apache Kafka broker and a real Redis server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

pytestmark = pytest.mark.integration

MESSAGES = 50


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def fresh_topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    """A new single-partition topic, deleted afterwards."""
    name = f"test.stack.{uuid.uuid4().hex}"
    await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    yield name
    await admin.delete_topics([name])


async def _produce(bootstrap: str, topic: str) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        offsets = []
        for i in range(MESSAGES):
            meta = await producer.send_and_wait(topic, f"value-{i}".encode(), key=f"k{i}".encode())
            offsets.append(meta.offset)
        return offsets
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes, int]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        seen: list[tuple[bytes, bytes, int]] = []
        for _ in range(100):
            batches = await consumer.getmany(partition, timeout_ms=200)
            seen.extend((r.key, r.value, r.offset) for r in batches.get(partition, []))
            if len(seen) >= count:
                break
        return seen
    finally:
        await consumer.stop()


async def test_idempotent_produce_and_consume_back(kafka_bootstrap: str, fresh_topic: str) -> None:
    offsets = await _produce(kafka_bootstrap, fresh_topic)
    assert offsets == list(range(MESSAGES))  # acks=all, each acknowledged in order

    records = await _consume(kafka_bootstrap, fresh_topic, MESSAGES)
    expected = [(f"k{i}".encode(), f"value-{i}".encode(), i) for i in range(MESSAGES)]
    assert records == expected


async def _topic_configs(admin: AIOKafkaAdminClient, name: str) -> dict[str, str]:
    """The topic's configs, polled until the broker's metadata has the new topic."""
    resource = ConfigResource(ConfigResourceType.TOPIC, name, None)
    for _ in range(50):
        described = await admin.describe_configs([resource])
        error_code, _message, _type, _name, entries = described[0].resources[0][:5]
        if error_code == 0:
            return {entry[0]: entry[1] for entry in entries}
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {name} not described (error code {error_code})")


async def test_broker_keeps_topic_configs(admin: AIOKafkaAdminClient) -> None:
    name = f"test.stack.compacted.{uuid.uuid4().hex}"
    topic = NewTopic(
        name, num_partitions=3, replication_factor=1, topic_configs={"cleanup.policy": "compact"}
    )
    await admin.create_topics([topic])
    try:
        configs = await _topic_configs(admin, name)
        assert configs["cleanup.policy"] == "compact"
        metadata = await admin.describe_topics([name])
        assert len(metadata[0]["partitions"]) == 3
    finally:
        await admin.delete_topics([name])


async def test_redis_round_trip_with_aof(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    key = f"test:stack:{uuid.uuid4().hex}"
    try:
        await client.set(key, b"\x00payload\xff", ex=60)
        assert await client.get(key) == b"\x00payload\xff"
        assert await client.config_get("appendonly") == {"appendonly": "yes"}
        info = await client.info("server")
        assert str(info["redis_version"]).split(".")[0].isdigit()
    finally:
        await client.delete(key)
        await client.aclose()


def _command_lines() -> list[list[str]]:
    lines = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if raw:
            lines.append(raw.decode(errors="replace").rstrip("\0").split("\0"))
    return lines


def test_real_kafka_jvm_and_redis_server_are_running(kafka_bootstrap: str, redis_url: str) -> None:
    commands = _command_lines()
    port = kafka_bootstrap.split(",")[0].rpartition(":")[2]
    kafka = [c for c in commands if Path(c[0]).name == "java" and "kafka.Kafka" in c]
    assert kafka, "no `java ... kafka.Kafka` process found"
    configs = [Path(c[c.index("kafka.Kafka") + 1]) for c in kafka]
    assert any(f":{port}" in p.read_text() for p in configs if p.is_file())

    redis_port = urlsplit(redis_url).port or 6379
    redis_titles = [" ".join(c) for c in commands if c[0].startswith("redis-server")]
    assert any(t.endswith(f":{redis_port}") for t in redis_titles), redis_titles
