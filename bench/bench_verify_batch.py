"""Batch verification throughput: items/s for 1,000 VC-JWTs, one verifier process.

Run from the repository root, with Kafka and Redis up (`make stack-up`):

    .venv/bin/python -m bench.bench_verify_batch [-n 1000] [--rounds 3]

It starts its own four services (tests/e2e/harness.py: free ports, its own
topic prefix, Redis namespace and key store) against the running Kafka and
Redis, has the operator accredit an issuer, issues N credentials, then sends
all N VC-JWTs as one `POST /credentials/verify/batch` (JSON Lines) to the
verifier process and times it until the last answer line (every item must
come back `valid`). Baselines measured in the same run:

- the credential core in this process (`verify_credential`: shape, proof,
  validity, status, with the DID resolved offline and the status list in
  memory): what one core does without HTTP, Kafka replica or trust checks;
- a quarter of the JWTs sent one by one to `POST /credentials/verify`
  (sequential HTTP round trips), what a job board without the batch
  endpoint gets.

The three are measured in turn, `--rounds` times, and the ratios are the
medians of each round's ratios: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp

from bench.services import running_services
from shared.credentials.dids import DidResolver
from shared.credentials.verify import verify_credential
from tests.e2e.client import Api, Json, status_entries, until
from tests.e2e.harness import Stack


class ListsInMemory:
    """A status list source holding the lists fetched once before timing."""

    def __init__(self, lists: dict[str, str]) -> None:
        self._lists = lists

    async def get(self, url: str) -> dict[str, Any] | str:
        return self._lists[url]


async def issue(api: Api, count: int) -> list[Json]:
    did = await api.accredited_issuer("Bench Batch Institute")
    achievement = await api.achievement(did)
    await api.issuer_knows(achievement)
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> Json:
        async with gate:
            return await api.issue(achievement, recipient={"email": f"learner-{n}@example.com"})

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def in_process_rate(api: Api, jwts: list[str], credentials: list[Json]) -> float:
    urls = {url for c in credentials for url, _ in status_entries(c["credential"]).values()}
    lists = {}
    for url in urls:
        async with api.session.get(url) as answer:
            lists[url] = (await answer.text()).strip()
    resolver, source = DidResolver(), ListsInMemory(lists)
    for jwt in jwts[:20]:  # warm up
        await verify_credential(jwt, resolver=resolver, status_lists=source)
    start = time.perf_counter()
    for jwt in jwts:
        report = await verify_credential(jwt, resolver=resolver, status_lists=source)
        assert report.verified, report.to_vc_api()
    return len(jwts) / (time.perf_counter() - start)


async def one_by_one_rate(api: Api, jwts: list[str]) -> float:
    start = time.perf_counter()
    for jwt in jwts:
        status, report = await api.verify(jwt)
        assert status == 200 and report["state"] == "valid", report
    return len(jwts) / (time.perf_counter() - start)


async def batch_once(api: Api, jwts: list[str]) -> tuple[float, float]:
    """(items/s, seconds to the first answer line) for one batch of all `jwts`."""
    body = ("\n".join(json.dumps(jwt) for jwt in jwts) + "\n").encode()
    url = f"{api.stack.url('verifier')}/credentials/verify/batch"
    start = time.perf_counter()
    first = None
    states: dict[int, str] = {}
    headers = {"Content-Type": "application/x-ndjson"}
    async with api.session.post(url, data=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        async for line in answer.content:
            if line.strip():
                first = first or time.perf_counter() - start
                item = json.loads(line)
                states[item["index"]] = item["report"]["state"]
    elapsed = time.perf_counter() - start
    assert sorted(states) == list(range(len(jwts))), "missing answers"
    assert set(states.values()) == {"valid"}, set(states.values())
    return len(jwts) / elapsed, first or elapsed


async def run(stack: Stack, count: int, rounds: int) -> None:
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = Api(stack, session)
        started = time.perf_counter()
        credentials = await issue(api, count)
        jwts = [c["jwt"] for c in credentials]
        print(f"issued {count} credentials in {time.perf_counter() - started:.1f} s")

        async def valid() -> bool:
            _, report = await api.verify(jwts[-1])
            return bool(report["state"] == "valid")

        assert await until(valid, within=30), "the verifier never saw the accreditation"
        await batch_once(api, jwts[:50])  # warm up connections and caches
        # Interleaved, so a busy moment of the (shared) machine hits both sides.
        cores, batches, singles = [], [], []
        for _ in range(rounds):
            cores.append(await in_process_rate(api, jwts, credentials))
            batches.append(await batch_once(api, jwts))
            singles.append(await one_by_one_rate(api, jwts[: count // 4]))

    rates = [rate for rate, _ in batches]
    first = statistics.median(f for _, f in batches)
    core, single, median = (statistics.median(x) for x in (cores, singles, rates))
    print()
    print(f"credential core in-process (no HTTP, no trust checks): {core:8.0f} items/s median")
    print(f"one POST /credentials/verify per item (sequential):    {single:8.0f} items/s median")
    print(
        f"POST /credentials/verify/batch, {count} VC-JWTs:        {median:8.0f} items/s median"
        f" (range {min(rates):.0f}-{max(rates):.0f} over {rounds};"
        f" first line after {first * 1000:.0f} ms)"
    )
    to_core = statistics.median(b / c for b, c in zip(rates, cores, strict=True))
    to_single = statistics.median(b / s for b, s in zip(rates, singles, strict=True))
    print(
        f"\nbatch / in-process core: {to_core:.2f}x; "
        f"batch / one request per item: {to_single:.2f}x (medians of the per-round ratios)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--count", type=int, default=1000, help="VC-JWTs in the batch")
    parser.add_argument("--rounds", type=int, default=3, help="batches timed")
    args = parser.parse_args()
    with running_services("batch") as stack:
        asyncio.run(run(stack, args.count, args.rounds))


if __name__ == "__main__":
    main()
