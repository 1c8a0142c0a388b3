"""Share links: Redis memory per published share, and the cost of a view.

Run from the repository root, with Kafka and Redis up (`make stack-up`):

    .venv/bin/python -m bench.bench_shares [--copies 20000] [--views 200]

It starts its own four services (tests/e2e/harness.py) against the running
Kafka and Redis, awards an accredited credential, publishes its share link
and waits until the verifier serves it. Then:

- memory: the verifier's stored record (the `CredentialShared` event as read
  from Kafka) is copied `--copies` times into a scratch hash in the session's
  own Redis namespace; `MEMORY USAGE` of that hash divided by the copies is
  the cost of one share (a listpack/hashtable entry and its value);
- views: `--views` sequential `GET /s/{id}` (each re-verifies the
  credential), then the baked badge PNG and the certificate PDF, p50/p99.

Everything it made is deleted at the end (the session's topics and keys).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
import redis

from bench.bench_revocation_latency import summary
from bench.services import running_services
from tests.e2e.client import Api, until
from tests.e2e.harness import Stack

LEARNER = {"id": "did:example:ada", "name": "Ada Lovelace"}


def memory_per_share(stack: Stack, share_id: str, copies: int) -> tuple[int, float]:
    """(bytes of the stored record, Redis bytes per share for `copies` of it)."""
    prefix = stack.redis_prefix("verifier")
    scratch = f"{prefix}:bench-shares"
    with redis.Redis.from_url(stack.redis_url) as client:
        record = client.hget(f"{prefix}:shares", share_id)
        assert isinstance(record, bytes), "the verifier has not stored the share"
        with client.pipeline(transaction=False) as pipe:
            for start in range(0, copies, 1000):
                fields = {f"{i:032d}": record for i in range(start, min(copies, start + 1000))}
                pipe.hset(scratch, mapping=fields)  # type: ignore[arg-type]
            pipe.execute()
        used = client.memory_usage(scratch, samples=0) or 0
        client.delete(scratch)
    return len(record), used / copies


async def timed(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.get(url) as answer:
            await answer.read()
            assert answer.status == 200, answer.status
        samples.append(time.perf_counter() - started)
    return samples


async def run(stack: Stack, copies: int, views: int) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        achievement = await api.achievement(await api.accredited_issuer())
        await api.issuer_knows(achievement)
        award = await api.issue(achievement, recipient=LEARNER)
        _, view = await api.call("POST", f"{award['claimUrl']}/share")
        url = view["share"]["url"]

        async def served() -> bool:
            return (await api.call("GET", url))[0] == 200

        assert await until(served), "the share never reached the verifier"
        size, per_share = memory_per_share(stack, view["share"]["shareId"], copies)
        print(f"credential VC-JWT: {len(award['jwt'])} bytes")
        print(f"stored share record: {size} bytes")
        print(f"Redis per share ({copies} copies): {per_share:.0f} bytes")
        print(f"1 million shares: {per_share * 1e6 / 2**30:.2f} GiB")
        print(summary("GET /s/{id} (re-verified)", await timed(session, url, views)))
        print(summary("GET /s/{id}/badge.png", await timed(session, f"{url}/badge.png", 50)))
        cert = f"{url}/certificate.pdf"
        print(summary("GET /s/{id}/certificate.pdf", await timed(session, cert, 50)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20000)
    parser.add_argument("--views", type=int, default=200)
    args = parser.parse_args()
    with running_services("shares") as stack:
        asyncio.run(run(stack, args.copies, args.views))


if __name__ == "__main__":
    main()
