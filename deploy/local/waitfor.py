"""Readiness probes for the local stack scripts.

    python deploy/local/waitfor.py kafka 127.0.0.1:19092 --timeout 60
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


async def kafka_metadata_ok(bootstrap: str) -> str | None:
    """One metadata round trip (ListTopics); None when it worked, else the error."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
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


async def wait(kind: str, target: str, limit_s: float) -> int:
    """Poll until the probe passes or the deadline passes."""
    probe = kafka_metadata_ok if kind == "kafka" else http_ok
    deadline = time.monotonic() + limit_s
    error: str | None = "not tried"
    while time.monotonic() < deadline:
        error = await probe(target)
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
    args = parser.parse_args()
    return asyncio.run(wait(args.kind, args.target, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
