"""Checks the local 3-node Kafka cluster end to end, with one broker killed.

    make kafka3-check
    # or, against a running cluster:
    MICROCRED_KAFKA_NODES=3 deploy/local/with-stack.sh .venv/bin/python deploy/local/kafka3_check.py

1. every broker says: default replication factor 3, min.insync.replicas 2,
   internal topics 3 replicas / min ISR 2, infinite retention;
2. a new topic gets 3 replicas, all in sync, min.insync.replicas 2;
3. the leader of partition 0 is killed with SIGKILL (stack.sh kill-node) and
   acks=all writes still succeed on the 2 remaining in-sync replicas;
4. every record written so far is read back;
5. the node is started again (stack.sh up-node), rejoins, and every
   partition is back to 3 in-sync replicas.

Prints one line per check with its figures; exit 0 when all pass, 1 otherwise.
The killed node is started again even when a check fails.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

STACK = Path(__file__).resolve().parent / "stack.sh"
NODES = {1, 2, 3}
PARTITIONS = 3
BATCH = 100
ISR_WAIT_S = 60.0

BROKER_SETTINGS = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "share.coordinator.state.topic.replication.factor": "3",
    "share.coordinator.state.topic.min.isr": "2",
    "log.retention.ms": "-1",
}


class CheckFailed(Exception):
    """One check did not hold; the message says which and what was seen."""


def ok(message: str) -> None:
    print(f"ok    {message}", flush=True)


def stack(*args: str) -> float:
    """Run deploy/local/stack.sh ARGS (same environment); the seconds it took."""
    t0 = time.monotonic()
    result = subprocess.run([str(STACK), *args], check=False)  # noqa: S603 (our own script)
    if result.returncode != 0:
        raise CheckFailed(f"stack.sh {' '.join(args)} exited with {result.returncode}")
    return time.monotonic() - t0


def describe_configs_values(response: object) -> dict[str, str]:
    """name -> value from one DescribeConfigs response with one resource."""
    (resource,) = response.resources
    error_code, error_message = resource[0], resource[1]
    if error_code:
        raise CheckFailed(f"describe configs: error {error_code} {error_message}")
    return {entry[0]: entry[1] for entry in resource[4]}


async def config_of(
    admin: AIOKafkaAdminClient, kind: ConfigResourceType, name: str
) -> dict[str, str]:
    (response,) = await admin.describe_configs([ConfigResource(kind, name)])
    return describe_configs_values(response)


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[dict[str, object]]:
    (described,) = await admin.describe_topics([topic])
    return sorted(described["partitions"], key=lambda p: p["partition"])


async def wait_isr(admin: AIOKafkaAdminClient, topic: str, want: set[int]) -> float:
    """Wait until every partition's in-sync replicas are exactly `want`; seconds waited."""
    t0 = time.monotonic()
    while True:
        try:
            parts = await partitions_of(admin, topic)
        except KafkaError as exc:  # e.g. the request went to the killed node: ask again
            if not exc.retriable:
                raise
            parts = []
        isrs = [set(p["isr"]) for p in parts]
        if len(parts) == PARTITIONS and all(isr == want for isr in isrs):
            return time.monotonic() - t0
        if time.monotonic() - t0 > ISR_WAIT_S:
            raise CheckFailed(f"in-sync replicas {isrs}, want {sorted(want)} on every partition")
        await asyncio.sleep(0.2)


async def produce(bootstrap: str, topic: str, start: int) -> tuple[float, float]:
    """BATCH records with acks=all (idempotent); (first ack, all acks) in seconds."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        t0 = time.monotonic()
        first = None
        for i in range(start, start + BATCH):
            await producer.send_and_wait(topic, f"value-{i}".encode(), key=f"k{i}".encode())
            first = first if first is not None else time.monotonic() - t0
        return first or 0.0, time.monotonic() - t0
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, count: int) -> set[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        seen: set[bytes] = set()
        deadline = time.monotonic() + 30
        while len(seen) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.update(r.value for r in records if r.value is not None)
        return seen
    finally:
        await consumer.stop()


async def check(bootstrap: str, replication_factor: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    topic = f"kafka3-check.{uuid.uuid4().hex[:12]}"
    victim: int | None = None
    try:
        brokers = {b["node_id"] for b in (await admin.describe_cluster())["brokers"]}
        if brokers != NODES:
            raise CheckFailed(f"brokers {sorted(brokers)}, want {sorted(NODES)}")
        ok(f"3 brokers registered: {sorted(brokers)}")

        for node in sorted(NODES):
            config = await config_of(admin, ConfigResourceType.BROKER, str(node))
            wrong = {k: config.get(k) for k, v in BROKER_SETTINGS.items() if config.get(k) != v}
            if wrong:
                raise CheckFailed(f"broker {node}: {wrong}, want {BROKER_SETTINGS}")
        ok("every broker: RF 3, min.insync.replicas 2, internal topics 3/2, log.retention.ms -1")

        # As the services create theirs: the replication factor with-stack.sh
        # exported, no topic configs (the broker defaults apply).
        new = NewTopic(topic, PARTITIONS, replication_factor)
        created = await admin.create_topics([new], timeout_ms=30_000)
        if any(error_code for _name, error_code, *_ in created.topic_errors):
            raise CheckFailed(f"create topic {topic}: {created.topic_errors}")
        await wait_isr(admin, topic, NODES)
        config = await config_of(admin, ConfigResourceType.TOPIC, topic)
        if config.get("min.insync.replicas") != "2" or config.get("retention.ms") != "-1":
            raise CheckFailed(f"topic {topic}: {config}")
        replicas = [sorted(p["replicas"]) for p in await partitions_of(admin, topic)]
        if replicas != [sorted(NODES)] * PARTITIONS:
            raise CheckFailed(f"topic {topic}: replicas {replicas}")
        ok(f"topic {topic}: {PARTITIONS} partitions x 3 in-sync replicas, min ISR 2, retention -1")

        first, total = await produce(bootstrap, topic, 0)
        ok(f"{BATCH} acks=all writes with 3 nodes: {total:.2f} s")

        victim = int((await partitions_of(admin, topic))[0]["leader"])
        stack("kill-node", str(victim))
        ok(f"node {victim} (leader of partition 0) killed with SIGKILL")
        first, total = await produce(bootstrap, topic, BATCH)
        ok(f"{BATCH} acks=all writes, node {victim} down: first {first:.2f} s, all {total:.2f} s")
        waited = await wait_isr(admin, topic, NODES - {victim})
        ok(f"every partition has 2 in-sync replicas without node {victim} (+{waited:.1f} s)")

        seen = await read_all(bootstrap, topic, 2 * BATCH)
        want = {f"value-{i}".encode() for i in range(2 * BATCH)}
        if seen != want:
            raise CheckFailed(f"read back {len(seen)} records, {len(want - seen)} missing")
        ok(f"all {2 * BATCH} records read back")

        restarted, victim = victim, None
        took = stack("up-node", str(restarted))
        await wait_isr(admin, topic, NODES)
        ok(f"node {restarted} restarted, back in sync on every partition in {took:.1f} s")
        first, total = await produce(bootstrap, topic, 2 * BATCH)
        ok(f"{BATCH} acks=all writes with 3 nodes again: {total:.2f} s")
    finally:
        if victim is not None:
            print(f"restarting node {victim} after the failure", file=sys.stderr)
            stack("up-node", str(victim))
        try:
            await admin.delete_topics([topic])
        except Exception as exc:  # never created, or the cluster is down: say so, go on
            print(f"could not delete {topic}: {exc!r}", file=sys.stderr)
        await admin.close()


def main() -> int:
    if os.environ.get("MICROCRED_KAFKA_NODES") != "3":
        print("set MICROCRED_KAFKA_NODES=3 (make kafka3-check does)", file=sys.stderr)
        return 2
    # With a node killed, aiokafka logs every refused connection and retry;
    # the checks report what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    bootstrap = os.environ["MICROCRED_KAFKA_BOOTSTRAP"]
    replication_factor = int(os.environ.get("MICROCRED_KAFKA_REPLICATION_FACTOR", "1"))
    t0 = time.monotonic()
    try:
        if replication_factor != len(NODES):
            raise CheckFailed(f"MICROCRED_KAFKA_REPLICATION_FACTOR={replication_factor}, want 3")
        asyncio.run(check(bootstrap, replication_factor))
    except CheckFailed as exc:
        print(f"FAIL  {exc}", file=sys.stderr)
        return 1
    ok(f"3-node Kafka check passed in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
