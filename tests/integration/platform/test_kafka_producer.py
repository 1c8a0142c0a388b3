import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.events import PathwayPublished, decode_event
from shared.kafka.producer import EventProducer
from shared.kafka.topics import TopicSpec, dlq_topic, ensure_topics

from .conftest import MakeTopic, read_all

pytestmark = pytest.mark.integration


async def test_publish_returns_the_acknowledged_offset(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=1)
    events = [PathwayPublished(tenant="u", pathway_id=f"p{i}", pathway={"i": i}) for i in range(3)]
    published = [await producer.publish(topic, e, key=e.pathway_id) for e in events]
    assert [p.offset for p in published] == [0, 1, 2]
    assert {p.topic for p in published} == {topic}

    records = await read_all(kafka_bootstrap, topic, 3)
    assert [decode_event(r.value) for r in records] == events
    assert [r.key for r in records] == [b"p0", b"p1", b"p2"]
    assert dict(records[0].headers)["event.type"] == b"PathwayPublished"


async def test_publish_raw_keeps_headers(
    kafka_bootstrap: str, make_topic: MakeTopic, producer: EventProducer
) -> None:
    topic = await make_topic(partitions=1)
    await producer.publish_raw(topic, b"raw", key=None, headers=[("h", b"v")])
    (record,) = await read_all(kafka_bootstrap, topic, 1)
    assert record.value == b"raw"
    assert record.key is None
    assert list(record.headers) == [("h", b"v")]


async def test_ensure_topics_is_idempotent_and_makes_dlqs(
    kafka_bootstrap: str, prefix: str, make_topic: MakeTopic
) -> None:
    compacted = await make_topic("state", partitions=2, compacted=True)
    again = await ensure_topics(kafka_bootstrap, [TopicSpec(compacted, 2, compacted=True)])
    assert again == []

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([compacted])}
        assert len(described[compacted]["partitions"]) == 2
        assert dlq_topic(compacted) in await admin.list_topics()
        configs = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, compacted),
                ConfigResource(ConfigResourceType.TOPIC, dlq_topic(compacted)),
            ]
        )
        policies = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}["cleanup.policy"]
            for response in configs
            for resource in response.resources
        }
        assert policies == {compacted: "compact", dlq_topic(compacted): "delete"}
    finally:
        await admin.close()
