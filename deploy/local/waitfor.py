"""Readiness probes for the local stack scripts.

    python deploy/local/waitfor.py kafka 127.0.0.1:19092 --timeout 60
    python deploy/local/waitfor.py kafka 127.0.0.1:19092,127.0.0.1:19094 --nodes 1,2,3
    python deploy/local/waitfor.py http http://127.0.0.1:8080/readyz --timeout 60

Exit 0 once ready, 1 on timeout (the last error goes to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp
from aiokafka.admin import AIOKafkaAdminClient

POLL_SECONDS = 0.25


async def kafka_metadata_ok(bootstrap: str, nodes: frozenset[int] = frozenset()) -> str | None:
    """One metadata round trip (ListTopics); None when it worked, else the error.

    With `nodes` (broker ids), also each of them must be registered (unfenced)
    and every partition's in-sync replicas must include all its replicas on
    them: a node that was down has rejoined and caught up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        if not nodes:
            await admin.list_topics()
            return None
        cluster = await admin.describe_cluster()
        missing = nodes - {broker["node_id"] for broker in cluster["brokers"]}
        if missing:
            return f"brokers not registered: {sorted(missing)}"
        lagging = [
            f"{topic['topic']}-{part['partition']}"
            for topic in await admin.describe_topics()
            for part in topic["partitions"]
            if (set(part["replicas"]) & nodes) - set(part["isr"])
        ]
        if lagging:
            return f"{len(lagging)} partitions not in sync yet, e.g. {', '.join(lagging[:5])}"
    except Exception as exc:  # any failure just means "not ready yet"
        return f"{type(exc).__name__}: {exc}"
    finally:
        await admin.close()
    return None


async def http_ok(url: str) -> str | None:
    """GET url; None on 200, else the status or error."""
    timeout = aiohttp.ClientTimeout(total=3)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url) as resp,
        ):
            if resp.status == 200:
                return None
            return f"HTTP {resp.status}: {(await resp.text())[:300]}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"


async def wait(kind: str, target: str, limit_s: float, nodes: frozenset[int]) -> int:
    """Poll until the probe passes or the deadline passes."""
    deadline = time.monotonic() + limit_s
    error: str | None = "not tried"
    while time.monotonic() < deadline:
        error = await (kafka_metadata_ok(target, nodes) if kind == "kafka" else http_ok(target))
        if error is None:
            return 0
        await asyncio.sleep(POLL_SECONDS)
    print(f"{kind} {target} not ready after {limit_s:.0f}s: {error}", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["kafka", "http"])
    parser.add_argument("target", help="bootstrap host:port or URL")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--nodes",
        default="",
        help="kafka: comma-separated broker ids that must be registered and in sync",
    )
    args = parser.parse_args()
    nodes = frozenset(int(n) for n in args.nodes.split(",") if n)
    return asyncio.run(wait(args.kind, args.target, args.timeout, nodes))


if __name__ == "__main__":
    sys.exit(main())
