"""Invariant 8: a poison message never stalls a consumer.

Bad JSON and schema-mismatched events go onto every partition of
`status.lists` (the verifier's) and `credentials.issued` (issuer's and
revocation's) ahead of real work; the real work still gets through, and the
poison lands on the `.dlq` topics with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from shared.kafka.topics import topic_partitions
from tests.e2e.client import Api, produce_raw, read_topic, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

BAD_JSON = b'{"type": "StatusListPublished", "version": 1, "id": '
# Valid JSON, known type and version, wrong field types: a schema mismatch.
WRONG_LIST = orjson.dumps(
    {"type": "StatusListPublished", "version": 1, "id": "p-1", "list_id": 7, "sequence": "x"}
)
WRONG_ISSUED = orjson.dumps(
    {"type": "CredentialIssued", "version": 1, "id": "p-2", "status_entries": "none"}
)
# topic -> (poison records, how many consumers dead-letter each)
POISON = {
    "status.lists": ([BAD_JSON, WRONG_LIST], 2),  # verifier, revocation (its in-memory lists)
    # issuer, revocation, the issuer-stacking group and the issuer's webhook feed
    "credentials.issued": ([BAD_JSON, WRONG_ISSUED], 4),
}


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def poison_every_partition(stack: Stack) -> None:
    for base, (values, _) in POISON.items():
        topic = stack.topic(base)
        partitions = (await topic_partitions(stack.kafka_bootstrap, [topic]))[topic]
        for partition in partitions:
            records = [(f"poison-{n}", value) for n, value in enumerate(values)]
            await produce_raw(stack.kafka_bootstrap, topic, records, partition=partition)


async def dead_lettered(api: Api) -> int:
    """Records dead-lettered, summed over every consumer of every service."""
    total = 0
    for name in ("issuer", "revocation", "verifier", "catalog"):
        async with api.session.get(f"{api.stack.url(name)}/readyz") as answer:
            assert answer.status == 200, await answer.text()
            checks = (await answer.json())["checks"]
        total += sum(int(check.get("dead_lettered", 0)) for check in checks.values())
    return total


async def test_poison_goes_to_the_dlq_and_work_goes_on(stack: Stack, api: Api) -> None:
    achievement_id = await api.achievement(await api.create_issuer())
    await api.issuer_knows(achievement_id)
    before = await api.issue(achievement_id)
    assert await api.verdict(before["jwt"]) == "valid"

    await poison_every_partition(stack)

    # Revocation consumes credentials.issued past the poison to learn a new
    # credential; the verifier consumes status.lists past it to see changes.
    after = await api.issue(achievement_id)
    for credential in (before, after):
        status, body = await api.set_status(credential["credentialId"])
        assert status == 200 and body["changed"], body

    async def revoked() -> bool:
        return all([await api.verdict(c["jwt"]) == "revoked" for c in (before, after)])

    assert await until(revoked, within=10), "a consumer stalled behind a poison message"

    expected_total = 0
    for base, (values, consumers) in POISON.items():
        dlq = stack.topic(base) + ".dlq"
        partitions = len(
            (await topic_partitions(stack.kafka_bootstrap, [stack.topic(base)]))[stack.topic(base)]
        )
        expected_total += len(values) * partitions * consumers
        expected = len(values) * partitions * consumers

        async def complete(dlq: str = dlq, expected: int = expected) -> bool:
            return len(await read_topic(stack.kafka_bootstrap, dlq)) >= expected

        assert await until(complete, within=10), f"{dlq} never got {expected} records"
        records = await read_topic(stack.kafka_bootstrap, dlq)
        # Every consumer dead-letters each poison record of each partition; a
        # replica whose offsets live in memory (verifier, revocation's public
        # lists) replays after a reconnect and may dead-letter it again.
        seen = Counter(r.value for r in records)
        assert set(seen) == set(values), seen
        assert all(seen[v] >= partitions * consumers for v in values), seen
        for record in records:
            headers = {name: value.decode() for name, value in record.headers}
            assert headers["dlq.reason"], headers
            assert headers["dlq.topic"] == stack.topic(base)
        reasons = {dict(record.headers)["dlq.reason"].decode() for record in records}
        assert len(reasons) >= len(values), reasons  # each says what is wrong with it

    assert await dead_lettered(api) >= expected_total
