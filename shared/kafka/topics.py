"""Topic names, specs and idempotent topic creation.

Kafka is the system of record (architecture invariant 3): history topics
keep every record forever (`retention.ms=-1`, `retention.bytes=-1`), entity
state topics are compacted (the newest record per key, forever). Topics
that exist with other settings (e.g. the broker's 7-day default) are
brought in line at start-up. Every topic has a `<topic>.dlq` sibling (history
too) for records that cannot be handled.
`topic_prefix` (settings) is prepended verbatim, e.g. "test-42." gives
"test-42.status.changes"; it lets tests and tenants of one cluster coexist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.logging import get_logger
from shared.settings import CommonSettings

ISSUER_PROFILES = "issuer.profiles"
CATALOG_ACHIEVEMENTS = "catalog.achievements"
CATALOG_PATHWAYS = "catalog.pathways"
CATALOG_PROVIDERS = "catalog.providers"
ISSUER_ENDORSEMENTS = "issuer.endorsements"
CREDENTIALS_ISSUED = "credentials.issued"
CREDENTIALS_SHARES = "credentials.shares"
STATUS_CHANGES = "status.changes"
STATUS_LISTS = "status.lists"
STATUS_JOBS = "status.jobs"
ISSUER_WEBHOOKS = "issuer.webhooks"
ISSUER_ASSESSMENTS = "issuer.assessments"
ISSUER_ATTEMPTS = "issuer.attempts"
ISSUER_WEBHOOK_DELIVERIES = "issuer.webhook-deliveries"
# Bulk award jobs (issue 9): the jobs' changes, and their uploaded rows keyed
# by job id (the staged upload: the jobs' system of record).
ISSUER_BULK_JOBS = "issuer.bulk-jobs"
ISSUER_BULK_ROWS = "issuer.bulk-rows"
DLQ_SUFFIX = ".dlq"
CREATE_TIMEOUT_MS = 30_000
LEADER_WAIT_SECONDS = 30.0

_log = get_logger("shared.kafka.topics")


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create; compacted topics keep the latest record per key."""

    name: str
    partitions: int = 3
    compacted: bool = False
    replication_factor: int = 1

    def configs(self) -> dict[str, str]:
        """Topic-level configs: kept forever, and acks=all meaning a majority."""
        kept = (
            {"cleanup.policy": "compact"}
            if self.compacted
            else {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
        )
        # With 3 replicas, acks=all waits for 2 in sync: one broker may fail.
        return {**kept, "min.insync.replicas": str(min(2, self.replication_factor))}

    def dlq(self) -> TopicSpec:
        """The dead-letter sibling: plain (history), same partition count."""
        return TopicSpec(dlq_topic(self.name), self.partitions, False, self.replication_factor)

    def with_prefix(self, prefix: str) -> TopicSpec:
        return TopicSpec(
            prefix + self.name, self.partitions, self.compacted, self.replication_factor
        )


ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(ISSUER_PROFILES, compacted=True),
    # Every revision of every achievement, forever (issue 9): a history topic.
    TopicSpec(CATALOG_ACHIEVEMENTS),
    # Every revision of every pathway, like achievements (issue 9): a history topic.
    TopicSpec(CATALOG_PATHWAYS),
    TopicSpec(CATALOG_PROVIDERS, compacted=True),
    TopicSpec(ISSUER_ENDORSEMENTS, compacted=True),
    TopicSpec(CREDENTIALS_ISSUED),
    TopicSpec(CREDENTIALS_SHARES, compacted=True),
    TopicSpec(STATUS_CHANGES),
    TopicSpec(STATUS_LISTS, compacted=True),
    TopicSpec(STATUS_JOBS, compacted=True),  # bulk status jobs, by job id
    TopicSpec(ISSUER_WEBHOOKS, compacted=True),  # tenants' webhook subscriptions
    TopicSpec(ISSUER_ASSESSMENTS),
    # Formative attempts and refused awards, forever (issue 9): a history topic.
    TopicSpec(ISSUER_ATTEMPTS),
    # Webhook deliveries that got through or died: the logs, and never twice.
    TopicSpec(ISSUER_WEBHOOK_DELIVERIES),
    TopicSpec(ISSUER_BULK_JOBS),
    TopicSpec(ISSUER_BULK_ROWS),
)


COMPACTED_BASES = frozenset(spec.name for spec in ALL_TOPICS if spec.compacted)


def is_compacted(prefix: str | CommonSettings, name: str) -> bool:
    """Whether the platform topic `name` (with its prefix) is compacted."""
    return any(name == topic_name(prefix, base) for base in COMPACTED_BASES)


def dlq_topic(topic: str) -> str:
    """`<topic>.dlq`."""
    return topic + DLQ_SUFFIX


def topic_name(prefix: str | CommonSettings, base: str) -> str:
    """`base` with the topic prefix (a string, or the settings' `topic_prefix`)."""
    text = prefix.topic_prefix if isinstance(prefix, CommonSettings) else prefix
    return text + base


def all_topic_specs(prefix: str = "", replication_factor: int = 1) -> list[TopicSpec]:
    """The specs of every platform topic under `prefix` (DLQs are added by ensure_topics)."""
    return [
        replace(spec.with_prefix(prefix), replication_factor=replication_factor)
        for spec in ALL_TOPICS
    ]


def _with_dlqs(specs: Iterable[TopicSpec]) -> list[TopicSpec]:
    wanted: dict[str, TopicSpec] = {}
    for spec in specs:
        wanted.setdefault(spec.name, spec)
        if not spec.name.endswith(DLQ_SUFFIX):
            wanted.setdefault(dlq_topic(spec.name), spec.dlq())
    return list(wanted.values())


def _raise_errors(topic_errors: Sequence[tuple[object, ...]]) -> None:
    for entry in topic_errors:
        topic, code = entry[0], int(str(entry[1]))
        if code == 0 or code == TopicAlreadyExistsError.errno:
            continue
        message = entry[2] if len(entry) > 2 else ""
        raise for_code(code)(f"creating topic {topic}: {message}")


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, list[int]]:
    while True:
        described = await admin.describe_topics(names)
        pending = [
            t["topic"]
            for t in described
            if t["error_code"] != 0
            or not t["partitions"]
            or any(p["leader"] < 0 for p in t["partitions"])
        ]
        if not pending:
            return {t["topic"]: sorted(p["partition"] for p in t["partitions"]) for t in described}
        _log.debug("topics.waiting_for_leaders", topics=sorted(pending))
        await asyncio.sleep(0.2)


async def topic_partitions(
    bootstrap: str, topics: Sequence[str], *, wait_seconds: float = LEADER_WAIT_SECONDS
) -> dict[str, list[int]]:
    """Partition ids of each topic, waiting (up to `wait_seconds`) until all
    exist and have leaders; raises TimeoutError naming the missing ones."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(wait_seconds):
            return await _wait_for_leaders(admin, list(topics))
    except TimeoutError:
        raise TimeoutError(f"topics missing or leaderless: {', '.join(topics)}") from None
    finally:
        await admin.close()


async def live_configs(
    admin: AIOKafkaAdminClient, names: Sequence[str], keys: Sequence[str]
) -> dict[str, dict[str, str]]:
    """The broker's current values of config `keys` for each topic."""
    if not names:
        return {}
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(keys))
        for name in names
    ]
    found: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for _code, _message, _type, name, entries in response.resources:
            found[name] = {entry[0]: entry[1] for entry in entries}
    return found


async def _align_configs(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec]) -> None:
    """Set our configs on topics that exist with others (e.g. made before
    retention was infinite); replication factors are the operator's to change."""
    keys = sorted({key for spec in specs for key in spec.configs()})
    live = await live_configs(admin, [spec.name for spec in specs], keys)
    stale = [
        spec
        for spec in specs
        if {key: live.get(spec.name, {}).get(key) for key in spec.configs()} != spec.configs()
    ]
    if stale:
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=spec.configs())
            for spec in stale
        ]
        await admin.alter_configs(resources)
        _log.warning("topics.configs_aligned", topics=[spec.name for spec in stale])


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the missing topics and their `.dlq` siblings; returns the names created.

    Safe to run concurrently from several services (TOPIC_ALREADY_EXISTS is fine).
    Waits (up to 30 s) until every partition has a leader, so producers and
    consumers can start right away."""
    wanted = _with_dlqs(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        if missing:
            new = [
                NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs())
                for s in missing
            ]
            response = await admin.create_topics(new, timeout_ms=CREATE_TIMEOUT_MS)
            _raise_errors(response.topic_errors)
            _log.info("topics.created", topics=[s.name for s in missing])
        await _align_configs(admin, [spec for spec in wanted if spec.name in existing])
        async with asyncio.timeout(LEADER_WAIT_SECONDS):
            await _wait_for_leaders(admin, [s.name for s in wanted])
    finally:
        await admin.close()
    return [s.name for s in missing]
