from aiokafka import TopicPartition

from shared.kafka.offsets import MemoryOffsetStore
from shared.kafka.progress import Progress
from shared.kafka.topics import (
    STATUS_CHANGES,
    TopicSpec,
    _with_dlqs,
    all_topic_specs,
    dlq_topic,
    topic_name,
)
from shared.settings import CommonSettings

A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


def test_topic_names() -> None:
    assert topic_name("", STATUS_CHANGES) == "status.changes"
    assert topic_name("t1.", STATUS_CHANGES) == "t1.status.changes"
    settings = CommonSettings(service="x", topic_prefix="p-")
    assert topic_name(settings, STATUS_CHANGES) == "p-status.changes"
    assert dlq_topic("p-status.changes") == "p-status.changes.dlq"


def test_all_topic_specs_match_the_documented_topics() -> None:
    specs = {s.name: s for s in all_topic_specs("x.")}
    assert set(specs) == {
        "x.issuer.profiles",
        "x.catalog.achievements",
        "x.catalog.pathways",
        "x.catalog.providers",
        "x.issuer.endorsements",
        "x.credentials.issued",
        "x.credentials.shares",
        "x.status.changes",
        "x.status.lists",
        "x.status.jobs",
        "x.issuer.webhooks",
        "x.issuer.assessments",
        "x.issuer.attempts",
        "x.issuer.webhook-deliveries",
        "x.issuer.bulk-jobs",
        "x.issuer.bulk-rows",
    }
    compacted = {name for name, s in specs.items() if s.compacted}
    assert compacted == {  # achievements and pathways keep every revision (issue 9)
        "x.issuer.profiles",
        "x.catalog.providers",
        "x.issuer.endorsements",
        "x.credentials.shares",
        "x.status.lists",
        "x.status.jobs",
        "x.issuer.webhooks",
    }


def test_dlq_siblings_are_added_once_and_never_compacted() -> None:
    specs = _with_dlqs([TopicSpec("s", 2, compacted=True), TopicSpec("s.dlq", 2)])
    assert [(s.name, s.compacted, s.partitions) for s in specs] == [
        ("s", True, 2),
        ("s.dlq", False, 2),
    ]
    assert TopicSpec("s", compacted=True).configs() == {
        "cleanup.policy": "compact",
        "min.insync.replicas": "1",
    }
    # History is kept forever (architecture invariant 3).
    assert TopicSpec("s").configs() == {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "min.insync.replicas": "1",
    }
    # Three replicas: acks=all waits for two, so one broker may fail.
    assert TopicSpec("s", replication_factor=3).configs()["min.insync.replicas"] == "2"


def test_progress_caught_up_latches() -> None:
    p = Progress()
    assert not p.caught_up  # nothing assigned yet
    p.track(A0, 0, 2)
    p.track(A1, 5, 5)
    p.assigned()
    assert not p.caught_up
    assert p.lagging() == [A0]
    p.handled(A0, 1)
    assert not p.caught_up
    p.handled(A0, 2)
    assert p.caught_up
    p.track(A0, 2, 10)  # a later assignment does not un-catch-up
    assert p.caught_up
    snap = p.snapshot(lambda tp: 12 if tp == A0 else None)
    assert snap.partitions[A0].lag == 10
    assert snap.lag == 10
    assert snap.as_dict()["partitions"] == {
        "a/0": {"position": 2, "end": 12, "lag": 10},
        "a/1": {"position": 5, "end": 5, "lag": 0},
    }


def test_progress_unknown_positions_and_empty_assignment() -> None:
    p = Progress()
    p.assigned()
    assert p.caught_up  # no partitions: nothing to catch up on
    q = Progress()
    q.track(A0, None, 0)
    q.assigned()
    assert not q.caught_up  # position not known yet
    q.position_at(A0, 0)
    assert q.caught_up
    q.untrack(A0)
    q.position_at(A0, 7)  # ignored: no longer tracked
    assert q.snapshot().partitions == {}


async def test_memory_offset_store() -> None:
    store = MemoryOffsetStore()
    assert await store.load("t") == {}
    await store.save("t", {0: 3})
    await store.save("t", {1: 4})
    await store.save("t", {0: 5})
    assert await store.load("t") == {0: 5, 1: 4}
    assert await store.load("u") == {}


def test_topics_take_the_configured_replication_factor() -> None:
    specs = all_topic_specs("x.", replication_factor=3)
    assert {s.replication_factor for s in specs} == {3}
    assert {s.dlq().replication_factor for s in specs} == {3}
