import asyncio
from collections.abc import AsyncIterator, Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from shared.events import Event, PathwayPublished
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.offsets import MemoryOffsetStore
from shared.kafka.producer import EventProducer
from shared.settings import CommonSettings
from shared.web.app import create_base_app
from shared.web.consumers import serve_consumer

from .conftest import MakeTopic, wait_until

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def test_readyz_waits_for_the_consumer_to_catch_up(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=1)
    for i in range(3):
        await producer.publish(
            topic, PathwayPublished(tenant="u", pathway_id=f"p{i}", pathway={}), key="k"
        )
    gate = asyncio.Event()
    handled: list[int] = []

    async def handler(event: Event, record: ConsumerRecord) -> None:
        await gate.wait()
        handled.append(record.offset)

    app = create_base_app(CommonSettings(service="t"), openapi={})

    loop = ConsumerLoop(kafka_bootstrap, [topic], handler, dlq=producer)

    async def consumer_ctx(app: web.Application) -> AsyncIterator[None]:
        async with serve_consumer(app, "pathways", loop):
            yield

    app.cleanup_ctx.append(consumer_ctx)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        await wait_until(lambda: loop.alive)  # it connects in the background
        resp = await client.get("/readyz")
        assert resp.status == 503
        body = await resp.json(content_type=PROBLEM)
        assert body["failing"] == ["pathways"]
        assert body["checks"]["pathways"]["partitions"][f"{topic}/0"]["end"] == 3
        gate.set()
        await wait_until(lambda: handled == [0, 1, 2])
        for _ in range(50):
            resp = await client.get("/readyz")
            if resp.status == 200:
                break
            await asyncio.sleep(0.05)
        assert resp.status == 200
        metrics = await (await client.get("/metrics")).text()
        samples = {
            s.name: s.value
            for family in text_string_to_metric_families(metrics)
            for s in family.samples
            if s.labels.get("consumer") == "pathways"
        }
        assert samples["kafka_consumer_up"] == 1
        assert samples["kafka_consumer_caught_up"] == 1
        assert samples["kafka_consumer_records_total"] == 3
        assert samples["kafka_consumer_lag"] == 0
    finally:
        await client.close()


class FlakyStore(MemoryOffsetStore):
    """Redis away for the first two saves, then back."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 2

    async def save(self, topic: str, offsets: Mapping[int, int]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("redis went away")
        await super().save(topic, offsets)


async def test_a_failing_loop_is_not_ready_then_restarts_itself(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    """Invariant 8: an infrastructure error is not poison; the loop says it is
    down, reconnects with backoff and handles the record, nothing dead-lettered."""
    topic = await make_topic(partitions=1)
    handled: list[int] = []
    down: list[bool] = []

    async def handler(event: Event, record: ConsumerRecord) -> None:
        handled.append(record.offset)

    store = FlakyStore()
    loop = ConsumerLoop(kafka_bootstrap, [topic], handler, dlq=producer, offsets=store)
    async with loop.running():
        await wait_until(lambda: loop.ready())
        await producer.publish(
            topic, PathwayPublished(tenant="u", pathway_id="p", pathway={}), key="k"
        )
        await wait_until(lambda: down.append(not loop.ready()) or store.failures == 0)
        await wait_until(lambda: loop.ready() and await_saved(store, topic))
        assert any(down)
        assert loop.progress()["restarts"] >= 2
        assert loop.progress()["dead_lettered"] == 0
    assert handled[-1] == 0 and set(handled) == {0}  # handled again after each restart


def await_saved(store: FlakyStore, topic: str) -> bool:
    return store._offsets.get(topic, {}).get(0) == 1
