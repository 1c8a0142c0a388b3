"""Benchmark: verifications per second over HTTP, against a bare aiohttp echo.

One run, one load generator (this process: `--clients` concurrent aiohttp
clients, default 16, each POSTing the next credential of a pool and waiting
for the answer), four targets, each a separate process on this machine:

- echo: a bare aiohttp app answering `POST /credentials/verify` with the
  JSON it received (orjson), the ceiling for any aiohttp service here; on
  uvloop, as the verifier runs, for the ratios (the stricter baseline), and
  once on asyncio's default loop for reference;
- the verifier, one worker process (`MICROCRED_VERIFIER_WORKERS=1`): VC-JWT
  (alternating with the echo, `--rounds` times: the round of the median
  ratio is reported, as the load of a shared machine moves between
  measures), then Data Integrity (`eddsa-rdfc-2022`) credentials;
- the verifier with `--workers` processes (default: the cores), VC-JWT;
- the one-worker verifier under abuse: VC-JWT while `--abusers` other
  clients send a 10,000-result Data Integrity document, a JWT with 2,000
  status entries and garbage, as fast as they are answered.

The pools hold `--credentials` (default 1,000) distinct credentials of 10
did:key issuers, each with a `BitstringStatusListEntry` in its issuer's
list, served (signed VC-JWT, `Cache-Control: max-age=300`) by a small
server in this process that the verifiers trust as an origin: no two
requests verify the same credential, the status list is fetched once and
verified once per version. The verifiers need Kafka
(`MICROCRED_KAFKA_BOOTSTRAP`, default 127.0.0.1:19092) for their replica;
the run uses topics of its own prefix and deletes them at the end.

Run: `.venv/bin/python bench/bench_verify_http.py [--seconds 8]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.credentials.crypto_keys import generate_ed25519  # noqa: E402
from shared.credentials.data_integrity import sign_data_integrity  # noqa: E402
from shared.credentials.jwt import sign_vc_jwt  # noqa: E402
from shared.credentials.status_list import (  # noqa: E402
    BitstringStatusList,
    status_list_credential,
)
from tests.e2e.harness import _delete_topics, free_port  # noqa: E402

ISSUERS = 10
ECHO = "echo (bare aiohttp, JSON, uvloop)"
PLAIN_ECHO = "echo (bare aiohttp, JSON, asyncio loop)"
ECHO_APP = """
import sys, orjson, uvloop
from aiohttp import web
if sys.argv[2] == "uvloop":  # the verifier's event loop (shared/web/app.py tune_process)
    uvloop.install()
async def echo(request):
    return web.Response(body=orjson.dumps(orjson.loads(await request.read())),
                        content_type="application/json")
app = web.Application(client_max_size=4 * 1024 * 1024)
app.router.add_post("/credentials/verify", echo)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


# --- credentials ---------------------------------------------------------------------


def credential(issuer: str, n: int, list_url: str) -> dict[str, Any]:
    """A typical OB 3.0 micro-credential, number `n`, with one status entry."""
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Applied Data Protection",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": "2025-06-01T00:00:00Z",
        "credentialSubject": {
            "id": f"did:example:learner-{n}",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.edu/achievements/gdpr-201",
                "type": ["Achievement"],
                "name": "Applied Data Protection",
                "description": "Applies GDPR principles to data processing in organisations.",
                "criteria": {"narrative": "Passed the final assessment with at least 90 %."},
                "achievementType": "MicroCredential",
            },
            "result": [{"type": ["Result"], "value": str(50 + n % 50)}],
        },
        "credentialStatus": {
            "id": f"{list_url}#{n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(n),
            "statusListCredential": list_url,
        },
    }


class Material:
    """Issuers, their signed status lists and the credential pools."""

    def __init__(self, origin: str, count: int) -> None:
        self.lists: dict[str, bytes] = {}
        self.jwts: list[str] = []
        self.ldps: list[dict[str, Any]] = []
        keys = [generate_ed25519() for _ in range(ISSUERS)]
        encoded = BitstringStatusList().encode()
        now = datetime.now(UTC).replace(microsecond=0)
        for number, key in enumerate(keys):
            issuer = key.kid.partition("#")[0]
            path = f"/lists/{number}"
            status = status_list_credential(f"{origin}{path}", issuer, "revocation", encoded, now)
            self.lists[path] = sign_vc_jwt(status, key).encode()
        for n in range(count):
            key = keys[n % ISSUERS]
            issuer = key.kid.partition("#")[0]
            doc = credential(issuer, n, f"{origin}/lists/{n % ISSUERS}")
            self.jwts.append(sign_vc_jwt(doc, key))
            self.ldps.append(sign_data_integrity(doc, key))
        huge = copy.deepcopy(self.ldps[0])
        huge["credentialSubject"]["result"] = [
            {"type": ["Result"], "value": str(i)} for i in range(10_000)
        ]
        entries = [
            {**doc["credentialStatus"], "statusListCredential": f"{origin}/lists/x{i}"}
            for i in range(2000)
        ]
        fanout = sign_vc_jwt({**credential(issuer, 0, origin), "credentialStatus": entries}, key)
        self.abusive: list[object] = [huge, fanout, "garbage." * 1000]


@contextlib.asynccontextmanager
async def list_server(material_box: list[Material]) -> AsyncIterator[str]:
    async def serve(request: web.Request) -> web.Response:
        body = material_box[0].lists.get(request.path)
        if body is None:
            return web.Response(status=404)
        headers = {"Cache-Control": "public, max-age=300"}
        return web.Response(body=body, content_type="application/vc+jwt", headers=headers)

    app = web.Application()
    app.router.add_get("/lists/{name}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# --- the services under test -----------------------------------------------------------


def start_verifier(port: int, workers: int, origin: str, prefix: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MICROCRED_HTTP_PORT": str(port),
        "MICROCRED_TOPIC_PREFIX": prefix,
        "MICROCRED_TRUSTED_FETCH_ORIGINS": origin,
        "MICROCRED_VERIFIER_WORKERS": str(workers),
        "MICROCRED_VERIFIER_ADDRESS_QUOTA": "100000000",
        "MICROCRED_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.verifier"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_echo(port: int, loop: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", ECHO_APP, str(port), loop], cwd=ROOT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_ready(url: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/readyz") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.3)
    raise TimeoutError(f"{url} not ready")


def median_by_ratio(rounds: list[tuple[Result, Result]]) -> tuple[Result, Result]:
    """The (echo, verifier) round whose ratio is the median of the rounds'."""
    ordered = sorted(rounds, key=lambda pair: pair[1].rate / pair[0].rate)
    return ordered[len(ordered) // 2]


# --- the load generator ------------------------------------------------------------------


class Result:
    def __init__(self, name: str, done: int, seconds: float, latencies: list[float]) -> None:
        self.name, self.done, self.seconds = name, done, seconds
        ordered = sorted(latencies)
        self.rate = done / seconds
        self.p50 = statistics.median(ordered) * 1000 if ordered else 0.0
        self.p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else 0.0

    def line(self) -> str:
        return (
            f"{self.name:56s} {self.rate:8.0f}/s   p50 {self.p50:6.1f} ms"
            f"   p99 {self.p99:6.1f} ms   ({self.done} in {self.seconds:.1f} s)"
        )


async def load(
    name: str,
    url: str,
    pool: list[Any],
    clients: int,
    seconds: float,
    expect: Callable[[int], bool],
    abusers: int = 0,
    abusive: list[object] | None = None,
) -> Result:
    """`clients` loops POSTing pool items (each used once per pass) for `seconds`."""
    bodies = [orjson.dumps({"verifiableCredential": item}) for item in pool]
    bad = [orjson.dumps({"verifiableCredential": item}) for item in abusive or []]
    abused = [0]
    latencies: list[float] = []
    wrong: list[int] = []
    cursor = iter(range(10**9))
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=clients + abusers + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm_until = time.monotonic() + 1.0
        stop_at = warm_until + seconds

        async def client() -> None:
            while (now := time.monotonic()) < stop_at:
                body = bodies[next(cursor) % len(bodies)]
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if not expect(answer.status):
                        wrong.append(answer.status)
                if now >= warm_until:
                    latencies.append(time.monotonic() - now)

        async def abuser(n: int) -> None:
            while time.monotonic() < stop_at:
                body = bad[n % len(bad)]
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status >= 500:
                        wrong.append(answer.status)
                abused[0] += 1
                n += 1

        tasks = [client() for _ in range(clients)] + [abuser(i) for i in range(abusers)]
        await asyncio.gather(*tasks)
    if wrong:
        raise AssertionError(f"{name}: {len(wrong)} unexpected answers, e.g. {wrong[:5]}")
    if abusers:
        name = f"{name} ({abused[0] / (seconds + 1):.0f} refused/s)"
    return Result(name, len(latencies), seconds, latencies)


async def main(args: argparse.Namespace) -> None:
    box: list[Material] = []
    prefix = f"bench-{secrets.token_hex(4)}."
    bootstrap = os.environ.get("MICROCRED_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    async with list_server(box) as origin:
        started = time.monotonic()
        box.append(Material(origin, args.credentials))
        print(f"{args.credentials} VC-JWT + {args.credentials} Data Integrity credentials, "
              f"{ISSUERS} issuers, made in {time.monotonic() - started:.1f} s")  # fmt: skip
        echo_port, one_port, many_port = free_port(), free_port(), free_port()
        plain_port = free_port()
        echo, plain = start_echo(echo_port, "uvloop"), start_echo(plain_port, "asyncio")
        one = start_verifier(one_port, 1, origin, prefix)
        results: list[Result] = []
        rounds: list[tuple[Result, Result]] = []
        jwt_name = "verifier, 1 process: VC-JWT"
        try:
            await wait_ready(f"http://127.0.0.1:{one_port}")
            await asyncio.sleep(1.0)
            verified = lambda status: status == 200  # noqa: E731
            jwts, ldps, material = box[0].jwts, box[0].ldps, box[0]
            one_url = f"http://127.0.0.1:{one_port}/credentials/verify"
            echo_url = f"http://127.0.0.1:{echo_port}/credentials/verify"
            c, s = args.clients, args.seconds
            # Echo and VC-JWT alternate, `--rounds` times: on a shared machine the
            # load moves between measures, so each round gives its own ratio.
            for _ in range(args.rounds):
                echoed = await load(ECHO, echo_url, jwts, c, s, verified)
                rounds.append((echoed, await load(jwt_name, one_url, jwts, c, s, verified)))
            results.extend(median_by_ratio(rounds))
            plain_url = f"http://127.0.0.1:{plain_port}/credentials/verify"
            results.append(await load(PLAIN_ECHO, plain_url, jwts, c, s, verified))
            results.append(
                await load("verifier, 1 process: Data Integrity", one_url, ldps, c, s, verified)
            )
            results.append(
                await load(
                    f"verifier, 1 process: VC-JWT + {args.abusers} abusers",
                    one_url,
                    jwts,
                    c,
                    s,
                    verified,
                    args.abusers,
                    material.abusive,
                )
            )
            stop(one)
            many = start_verifier(many_port, args.workers, origin, prefix)
            try:
                await wait_ready(f"http://127.0.0.1:{many_port}")
                await asyncio.sleep(5.0)  # every worker joins once ready (replica, warm pool)
                many_url = f"http://127.0.0.1:{many_port}/credentials/verify"
                name = f"verifier, {args.workers} workers: VC-JWT"
                results.append(await load(name, many_url, jwts, c, s, verified))
            finally:
                stop(many)
        finally:
            stop(one) if one.poll() is None else None
            for each in (echo, plain):
                each.terminate()
                each.wait()
            await _delete_topics(bootstrap, prefix)
    echo_rate = results[0].rate
    print(f"{c} concurrent clients, {s:.0f} s each, this machine ({os.cpu_count()} cores)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for n, (echoed, jwt) in enumerate(rounds, 1):
        print(f"round {n}: echo {echoed.rate:.0f}/s, VC-JWT {jwt.rate:.0f}/s, "
              f"{jwt.rate / echoed.rate:.2f}x")  # fmt: skip
    print("the echo and VC-JWT rows below: the round of the median ratio; the other rows")
    print("are compared with that round's echo")
    for result in results:
        print(f"{result.line()}   {result.rate / echo_rate:5.2f}x echo")
    plain_rate = next(r.rate for r in results if r.name == PLAIN_ECHO)
    jwt_rate = results[1].rate
    print(f"VC-JWT against the echo on asyncio's default loop: {jwt_rate / plain_rate:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--credentials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--abusers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="echo / VC-JWT alternations")
    asyncio.run(main(parser.parse_args()))
