"""Kafka keeps the record forever (issue 6, item 1): the live topic configs."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka.topics import all_topic_specs, ensure_topics, live_configs

pytestmark = pytest.mark.integration

KEYS = ["cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas"]


async def test_history_is_kept_forever_and_entity_state_compacted(kafka_bootstrap: str) -> None:
    prefix = f"it-{secrets.token_hex(5)}."
    # A topic made earlier with the broker's default (7 days), as before the fix.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    f"{prefix}credentials.issued", 3, 1, topic_configs={"retention.ms": "604800000"}
                )
            ]
        )
        for _ in range(100):  # the broker lists a new topic a moment after creating it
            if f"{prefix}credentials.issued" in await admin.list_topics():
                break
            await asyncio.sleep(0.05)
        specs = all_topic_specs(prefix)
        created = await ensure_topics(kafka_bootstrap, specs)
        names = [spec.name for spec in specs]
        assert f"{prefix}credentials.issued" not in created
        everything = [*names, *(name + ".dlq" for name in names)]
        for _ in range(50):  # an altered config reaches DescribeConfigs shortly after
            live = await live_configs(admin, everything, KEYS)
            if live[f"{prefix}credentials.issued"]["retention.ms"] == "-1":
                break
            await asyncio.sleep(0.1)
        for name, config in live.items():
            if name.removeprefix(prefix) in {
                "issuer.profiles",
                "catalog.providers",
                "status.lists",
                "issuer.endorsements",
                "credentials.shares",
                "status.jobs",
                "issuer.webhooks",
            }:
                assert config["cleanup.policy"] == "compact", (name, config)
            else:  # history, and every dead-letter topic
                assert config["cleanup.policy"] == "delete", (name, config)
                assert config["retention.ms"] == "-1", (name, config)
                assert config["retention.bytes"] == "-1", (name, config)
        assert len(live) == 2 * len(specs)
    finally:
        await admin.delete_topics([t for t in await admin.list_topics() if t.startswith(prefix)])
        await admin.close()
