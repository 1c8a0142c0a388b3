"""Stacking latency: from the answer to the award that completes a pathway to
the issuer's `POST /pathway-awards/find` finding the pathway credential.

Run from the repository root, with Kafka and Redis up (`make stack-up`):

    .venv/bin/python -m bench.bench_stacking_latency [-n 50] [--poll-ms 5]

It starts its own four services (tests/e2e/harness.py) against the running
Kafka and Redis, defines two units and a pathway of both, then for each of N
learners awards the two units one after the other and polls `find` every
`--poll-ms` until the stacked credential is there (an upper bound: the path
is `credentials.issued` → the `issuer-stacking` consumer group → sign →
publish). The baseline in the same run is the single award round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from bench.services import running_services
from tests.e2e.client import Api, Json
from tests.e2e.harness import Stack

GIVE_UP_S = 15.0


def _unit(issuer: str, name: str, **extra: object) -> Json:
    return {
        "issuerDid": issuer,
        "name": name,
        "description": f"{name} unit",
        "criteria": {"narrative": "Pass with 60%"},
        "masteryThreshold": 0.6,
        **extra,
    }


async def run(stack: Stack, count: int, poll: float) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        catalog = stack.url("catalog")
        issuer = await api.accredited_issuer("Bench Polytechnic")
        units = []
        for name in ("Unit A", "Unit B"):
            status, body = await api.call(
                "POST", f"{catalog}/achievements", json=_unit(issuer, name), headers=api.auth
            )
            assert status == 201, body
            units.append(body["id"])
        pathway = {
            "name": "Bench Certificate",
            "core": units,
            "achievement": _unit(issuer, "Bench Certificate", achievementType="Certificate"),
        }
        status, created = await api.call(
            "POST", f"{catalog}/pathways", json=pathway, headers=api.auth
        )
        assert status == 201, created
        for unit in units:
            await api.issuer_knows(unit)
        find = f"{stack.url('issuer')}/pathway-awards/find"
        awards, stacking = [], []
        for n in range(count):
            recipient = {"email": f"learner-{n}@bench.example"}
            await api.issue(units[0], recipient=recipient)
            started = time.perf_counter()
            await api.issue(units[1], recipient=recipient)
            answered = time.perf_counter()
            awards.append(answered - started)
            ask = {"pathwayId": created["id"], "recipient": recipient}
            while True:
                status, _ = await api.call("POST", find, json=ask, headers=api.auth)
                if status == 200:
                    break
                assert time.perf_counter() - answered < GIVE_UP_S, "never stacked"
                await asyncio.sleep(poll)
            stacking.append(time.perf_counter() - answered)
    ms = sorted(s * 1000 for s in stacking)
    print(f"learners: {count}")
    print(f"award round trip, median: {statistics.median(awards) * 1000:.1f} ms")
    print(
        f"stacked after the completing award: median {statistics.median(ms):.0f} ms, "
        f"p95 {ms[int(0.95 * (len(ms) - 1))]:.0f} ms, max {ms[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--count", type=int, default=50, help="learners")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="find poll interval")
    args = parser.parse_args()
    with running_services("stacking") as stack:
        asyncio.run(run(stack, args.count, args.poll_ms / 1000))


if __name__ == "__main__":
    main()
