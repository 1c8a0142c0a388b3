"""Benchmark: registrar search over a tenant's index in the real Redis.

Indexes N `CredentialIssued` events (one tenant, 10 achievements, a learner
with 5 credentials among them) under a throw-away key prefix, then times:
a learner's credentials (their own sorted set), one achievement's page of
100 (filtered from the tenant's set), a status filter that matches nothing
(the worst case: every entry read), and a full JSON Lines export walk. The
prefix's keys are deleted at the end.

Run: ``.venv/bin/python -m bench.bench_registry_search [--count 20000]
[--redis redis://127.0.0.1:16379/0]``
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import redis.asyncio as redis

from services.issuer.registry import LearnerQuery, RegistryIndex, SearchIn
from shared.events import CredentialIssued, StatusEntryRef
from shared.learner_keys import LearnerKeys


def event(keys: LearnerKeys, n: int, start: datetime) -> CredentialIssued:
    learner = "jane@uni.example" if n % 4000 == 0 else f"learner-{n}@uni.example"
    return CredentialIssued(
        occurred_at=(start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
        tenant="bench",
        credential_id=f"urn:uuid:bench-{n}",
        issuer_did="did:web:uni.example",
        achievement_id=f"a{n % 10}",
        achievement_revision=1,
        credential_jwt="x.y.z",
        status_entries=[StatusEntryRef(purpose="revocation", list_id="l", list_url="u", index=n)],
        learner_key=keys.of("emailAddress", learner),
    )


async def timed(label: str, work: Callable[[], Awaitable[int]], rounds: int = 5) -> None:
    times, found = [], 0
    for _ in range(rounds):
        began = time.perf_counter()
        found = await work()
        times.append(time.perf_counter() - began)
    times.sort()
    print(f"{label:<44} {found:>6} found  median {times[len(times) // 2] * 1000:8.1f} ms")


async def main(count: int, url: str) -> None:
    client = redis.Redis.from_url(url)
    prefix = f"bench-registry-{secrets.token_hex(4)}"
    keys = LearnerKeys.from_master_key(secrets.token_bytes(32))
    index = RegistryIndex(client, prefix, keys)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        began = time.perf_counter()
        for n in range(count):
            await index.issued(event(keys, n, start))
        rate = count / (time.perf_counter() - began)
        print(f"indexed {count} credentials: {rate:.0f} credentials/s (replay rate)")

        async def learner() -> int:
            query = SearchIn(learner=LearnerQuery(email="jane@uni.example"))
            return len((await index.search("bench", query)).items)

        async def achievement_page() -> int:
            return len((await index.search("bench", SearchIn(achievementId="a3"))).items)

        async def nothing() -> int:
            return len((await index.search("bench", SearchIn(status="suspended"))).items)

        async def export() -> int:
            return len([e async for e in index.export("bench", SearchIn())])

        await timed("by learner (email fingerprint)", learner)
        await timed("by achievement, first page of 100", achievement_page)
        await timed("status matching nothing (reads all)", nothing, rounds=3)
        await timed("export every credential (JSONL walk)", export, rounds=3)
    finally:
        doomed = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for i in range(0, len(doomed), 500):
            await client.delete(*doomed[i : i + 500])
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:16379/0")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.redis))
