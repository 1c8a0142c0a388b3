import asyncio
import time

import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import ConsumerRecord

from shared.events import Event, PathwayPublished, PoisonMessage, StatusListPublished, encode_event
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.offsets import RedisOffsetStore
from shared.kafka.producer import EventProducer
from shared.kafka.topics import dlq_topic

from .conftest import MakeTopic, read_all, wait_until

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event, record: ConsumerRecord) -> None:
        self.events.append(event)


def pathway(i: int) -> PathwayPublished:
    return PathwayPublished(tenant="u", pathway_id=f"p{i}", pathway={"i": i})


async def publish_many(producer: EventProducer, topic: str, events: list[PathwayPublished]) -> None:
    for e in events:
        await producer.publish(topic, e, key=e.pathway_id)


def loop_for(
    bootstrap: str, topic: str, handler: Recorder, producer: EventProducer, **kw: object
) -> ConsumerLoop:
    return ConsumerLoop(bootstrap, [topic], handler, dlq=producer, retry_backoff=0.01, **kw)  # type: ignore[arg-type]


async def test_replica_mode_resumes_from_redis_offsets_and_replays_after_wipe(
    kafka_bootstrap: str,
    make_topic: MakeTopic,
    producer: EventProducer,
    redis_client: aioredis.Redis,
    prefix: str,
) -> None:
    topic = await make_topic(partitions=3)
    first = [pathway(i) for i in range(6)]
    await publish_many(producer, topic, first)
    store = RedisOffsetStore(redis_client, prefix + "svc")

    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer, offsets=store)
    async with loop.running():
        await wait_until(lambda: loop.caught_up and len(seen.events) == 6)
    assert sorted(e.pathway_id for e in seen.events) == [f"p{i}" for i in range(6)]  # type: ignore[attr-defined]
    saved = await store.load(topic)
    assert sum(saved.values()) == 6
    assert await redis_client.exists(store.key(topic))

    # restart: only the new records are handled
    await publish_many(producer, topic, [pathway(6), pathway(7)])
    again = Recorder()
    loop = loop_for(kafka_bootstrap, topic, again, producer, offsets=store)
    async with loop.running():
        await wait_until(lambda: loop.caught_up and len(again.events) == 2)
        await asyncio.sleep(0.3)  # nothing older shows up late
    assert sorted(e.pathway_id for e in again.events) == ["p6", "p7"]  # type: ignore[attr-defined]

    # wiping Redis wipes the offsets: the next start replays everything
    await redis_client.delete(store.key(topic))
    replay = Recorder()
    loop = loop_for(kafka_bootstrap, topic, replay, producer, offsets=store)
    async with loop.running():
        await wait_until(lambda: loop.caught_up and len(replay.events) == 8)
    assert loop.progress()["handled"] == 8


async def test_a_batch_spans_the_partitions_of_a_poll_and_leaves_records_by_partition(
    kafka_bootstrap: str,
    make_topic: MakeTopic,
    producer: EventProducer,
    redis_client: aioredis.Redis,
    prefix: str,
) -> None:
    """What one poll fetched goes to the batch handler at once, every
    partition's records in their order; a record it leaves is that record
    (partitions share offsets), handled one by one; every offset is saved."""
    topic = await make_topic(partitions=3)
    await publish_many(producer, topic, [pathway(i) for i in range(12)])
    store = RedisOffsetStore(redis_client, prefix + "svc")
    batches: list[list[ConsumerRecord]] = []

    async def leave_partition_zero(
        batch: list[tuple[Event, ConsumerRecord]],
    ) -> list[ConsumerRecord]:
        batches.append([record for _, record in batch])
        return [record for _, record in batch if record.partition == 0]

    one_by_one = Recorder()
    loop = loop_for(
        kafka_bootstrap,
        topic,
        one_by_one,
        producer,
        offsets=store,
        batch_handler=leave_partition_zero,
    )
    async with loop.running():
        await wait_until(lambda: loop.caught_up and sum(map(len, batches)) == 12)
    records = [record for batch in batches for record in batch]
    by_partition = {p: [r.offset for r in records if r.partition == p] for p in range(3)}
    assert all(offsets for offsets in by_partition.values()), by_partition  # the keys spread
    assert all(offsets == sorted(offsets) for offsets in by_partition.values())
    assert any(len({record.partition for record in batch}) > 1 for batch in batches)
    handled = sorted(e.pathway_id for e in one_by_one.events)  # type: ignore[attr-defined]
    in_zero = sorted(orjson.loads(r.value)["pathway_id"] for r in records if r.partition == 0)
    assert handled == in_zero  # not partition 1's or 2's records at the same offsets
    saved = await store.load(topic)
    assert saved == {p: len(offsets) for p, offsets in by_partition.items()}


async def test_poison_messages_go_to_the_dlq_and_the_loop_moves_on(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=1)
    good = encode_event(pathway(1))
    bad_schema = orjson.loads(good)
    bad_schema["pathway_id"] = 42
    records = [
        b"{this is not json",
        b'{"type": "NoSuchEvent", "version": 1}',
        orjson.dumps(bad_schema),
        good,
    ]
    for value in records:
        await producer.publish_raw(topic, value, key=b"k", headers=[("trace", b"t1")])

    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer)
    async with loop.running():
        await wait_until(lambda: len(seen.events) == 1 and loop.caught_up)
        assert loop.alive
        assert loop.progress()["dead_lettered"] == 3
    assert [e.id for e in seen.events] == [orjson.loads(good)["id"]]

    dead = await read_all(kafka_bootstrap, dlq_topic(topic), 3)
    assert [r.value for r in dead] == records[:3]
    reasons = [dict(r.headers)["dlq.reason"].decode() for r in dead]
    assert "malformed JSON" in reasons[0]
    assert "unknown event type 'NoSuchEvent'" in reasons[1]
    assert "schema mismatch" in reasons[2] and "$.pathway_id" in reasons[2]
    for offset, r in enumerate(dead):
        headers = dict(r.headers)
        assert headers["dlq.topic"] == topic.encode()
        assert headers["dlq.partition"] == b"0"
        assert headers["dlq.offset"] == str(offset).encode()
        assert headers["trace"] == b"t1"
        assert r.key == b"k"


async def test_handler_poison_and_failures_are_dead_lettered_retries_succeed(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=1)
    await publish_many(producer, topic, [pathway(i) for i in range(4)])
    calls: dict[str, int] = {}
    handled: list[str] = []

    async def handler(event: Event, record: ConsumerRecord) -> None:
        assert isinstance(event, PathwayPublished)
        calls[event.pathway_id] = calls.get(event.pathway_id, 0) + 1
        if event.pathway_id == "p0":
            raise PoisonMessage("achievement unknown")
        if event.pathway_id == "p1":
            raise RuntimeError("redis down")
        if event.pathway_id == "p2" and calls["p2"] == 1:
            raise ConnectionError("flaky once")
        handled.append(event.pathway_id)

    loop = ConsumerLoop(
        kafka_bootstrap, [topic], handler, dlq=producer, max_attempts=3, retry_backoff=0.01
    )
    async with loop.running():
        await wait_until(lambda: handled == ["p2", "p3"] and loop.caught_up)
    assert calls == {"p0": 1, "p1": 3, "p2": 2, "p3": 1}
    dead = await read_all(kafka_bootstrap, dlq_topic(topic), 2)
    reasons = {dict(r.headers)["dlq.offset"]: dict(r.headers)["dlq.reason"].decode() for r in dead}
    assert reasons[b"0"] == "achievement unknown"
    assert reasons[b"1"].startswith("handler failed 3 times: RuntimeError: redis down")


async def test_caught_up_semantics(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    empty = await make_topic("empty", partitions=2)
    seen = Recorder()
    loop = loop_for(kafka_bootstrap, empty, seen, producer)
    async with loop.running():
        assert not loop.caught_up  # not connected yet: it connects in the background
        await wait_until(lambda: loop.alive)
        await wait_until(lambda: loop.caught_up)  # an empty topic: at the first poll
        assert loop.ready()
    assert not loop.alive

    topic = await make_topic("busy", partitions=1)
    await publish_many(producer, topic, [pathway(i) for i in range(3)])
    gate = asyncio.Event()
    handled: list[int] = []

    async def slow(event: Event, record: ConsumerRecord) -> None:
        if record.offset == 2:
            await gate.wait()
        handled.append(record.offset)

    loop = ConsumerLoop(kafka_bootstrap, [topic], slow, dlq=producer)
    async with loop.running():
        assert not loop.caught_up
        await wait_until(lambda: handled == [0, 1])
        await asyncio.sleep(0.2)
        assert not loop.caught_up and not loop.ready()
        progress = loop.progress()
        assert progress["partitions"] == {f"{topic}/0": {"position": 2, "end": 3, "lag": 1}}
        gate.set()
        await wait_until(lambda: loop.caught_up)
        assert loop.ready()
        # records published after start do not un-catch-up the loop
        await publish_many(producer, topic, [pathway(9)])
        await wait_until(lambda: handled == [0, 1, 2, 3])
        assert loop.caught_up
        assert loop.progress()["lag"] == 0


async def test_revocation_latency_is_well_under_a_second(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=3)
    arrived: dict[str, float] = {}

    async def handler(event: Event, record: ConsumerRecord) -> None:
        arrived[event.id] = time.monotonic()

    loop = ConsumerLoop(kafka_bootstrap, [topic], handler, dlq=producer)
    async with loop.running():
        await wait_until(lambda: loop.alive and loop.caught_up)
        delays = []
        for i in range(10):
            event = StatusListPublished(
                list_id=f"l{i}", list_url="u", issuer_did="d", purpose="revocation",
                sequence=i, credential_jwt="j",
            )  # fmt: skip
            sent = time.monotonic()
            await producer.publish(topic, event, key=event.list_id)
            await wait_until(lambda e=event: e.id in arrived, seconds=5)  # type: ignore[misc]
            delays.append(arrived[event.id] - sent)
    assert max(delays) < 1.0


async def test_group_mode_commits_to_kafka(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer, prefix: str
) -> None:
    topic = await make_topic(partitions=2)
    await publish_many(producer, topic, [pathway(i) for i in range(4)])
    group = prefix + "group"
    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer, group_id=group)
    async with loop.running():
        await wait_until(lambda: len(seen.events) == 4 and loop.caught_up, seconds=30)

    await publish_many(producer, topic, [pathway(4)])
    again = Recorder()
    loop = loop_for(kafka_bootstrap, topic, again, producer, group_id=group)
    async with loop.running():
        await wait_until(lambda: len(again.events) == 1 and loop.caught_up, seconds=30)
        await asyncio.sleep(0.3)
    assert [e.pathway_id for e in again.events] == ["p4"]  # type: ignore[attr-defined]


async def test_a_wiped_generation_is_replayed_by_the_running_loop(
    kafka_bootstrap: str,
    make_topic: MakeTopic,
    producer: EventProducer,
    redis_client: aioredis.Redis,
    prefix: str,
) -> None:
    """Issue 6: the loop notices its state is gone (no restart by hand),
    replays from the beginning into a new generation, and never writes
    offsets into the emptied Redis meanwhile."""
    topic = await make_topic(partitions=2)
    await publish_many(producer, topic, [pathway(i) for i in range(5)])
    store = RedisOffsetStore(redis_client, prefix + "svc")
    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer, offsets=store)
    async with loop.running():
        await wait_until(lambda: loop.caught_up and len(seen.events) == 5)
        first = store.generation
        await redis_client.delete(*[key async for key in redis_client.scan_iter(f"{prefix}svc:*")])
        await wait_until(lambda: len(seen.events) == 10 and loop.ready())
        assert store.generation != first
        assert loop.progress()["restarts"] >= 1
        assert sum((await store.load(topic)).values()) == 5
        assert await redis_client.get(f"{prefix}svc:replayed") == store.generation.encode()


async def test_a_history_topic_with_records_gone_is_never_ready(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    """Item 1: a replica whose history topic no longer starts at 0 (retention
    deleted records) must not build partial state and call itself ready."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.records_to_delete import RecordsToDelete
    from aiokafka.structs import TopicPartition

    topic = await make_topic(partitions=1)
    await publish_many(producer, topic, [pathway(i) for i in range(4)])
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(2)})
    finally:
        await admin.close()
    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer)
    async with loop.running():
        await asyncio.sleep(2)
        assert not loop.ready() and not loop.caught_up
        assert seen.events == []
    # A compacted topic may start past 0: compaction keeps the newest per key.
    compacted = loop_for(kafka_bootstrap, topic, seen, producer, compacted=[topic])
    async with compacted.running():
        await wait_until(lambda: compacted.ready() and len(seen.events) == 2)


async def test_a_batch_handler_gets_whole_batches_and_a_failed_batch_goes_record_by_record(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    """A batch handler sees the fetched records together, in order; when it
    fails, or a record of the batch is poison, the batch is applied again
    record by record (handlers are idempotent), the poison dead-lettered."""
    topic = await make_topic(partitions=1)
    await publish_many(producer, topic, [pathway(i) for i in range(10)])
    batches: list[list[str]] = []
    fail_once = True

    async def batch(events: list[tuple[Event, ConsumerRecord]]) -> list[ConsumerRecord]:
        nonlocal fail_once
        if fail_once:
            fail_once = False
            raise RuntimeError("a bug in the batch path")
        batches.append([e.pathway_id for e, _ in events])  # type: ignore[attr-defined]
        return []

    seen = Recorder()
    loop = loop_for(kafka_bootstrap, topic, seen, producer, batch_handler=batch)
    async with loop.running():
        await wait_until(lambda: loop.caught_up and len(seen.events) == 10)
        # the first batch failed: its records went to the handler one by one
        assert [e.pathway_id for e in seen.events] == [f"p{i}" for i in range(10)]  # type: ignore[attr-defined]
        # one produce request: one record batch in the log, fetched together
        later = [pathway(i) for i in range(10, 20)]
        await producer.publish_batch(topic, [(e.pathway_id, encode_event(e)) for e in later])
        await wait_until(lambda: sum(map(len, batches)) + len(seen.events) >= 20)
        await producer.publish_raw(topic, b"{not json", key=b"k")
        await publish_many(producer, topic, [pathway(20)])
        await wait_until(lambda: loop.progress()["dead_lettered"] == 1)
        await wait_until(lambda: any("p20" in b for b in batches) or len(seen.events) > 10)
    whole = [p for b in batches for p in b]
    one_by_one = [e.pathway_id for e in seen.events[10:]]  # type: ignore[attr-defined]
    # every later record exactly once, by one path or the other, in order
    assert sorted(whole + one_by_one, key=lambda p: int(p[1:])) == [f"p{i}" for i in range(10, 21)]
    assert batches and all(len(b) >= 2 for b in batches)
