"""Issuance throughput: a bulk job, single awards at 16 clients, in-process build+sign.

Run from the repository root, with Kafka and Redis up (`make stack-up`):

    .venv/bin/python -m bench.bench_bulk [--rows 10000] [--large] [--clients 16] [--accredited]

It starts its own catalog and issuer (tests/e2e/harness.py) against the
running Kafka and Redis, then in one run measures:

- in-process: building and signing (eddsa-rdfc-2022 + VC-JWT) a bulk
  row's credential in this process, one core: credentials/s. It is the
  credential the job makes: the row parsed as the issuer parses it, with
  the issuer profile, achievement and status lists of a credential the
  issuer made in this run. Measured before the single awards and again
  after the bulk job; the ratio uses the mean, as a shared machine's speed
  moves within a run;
- bulk: a CSV of `--rows` rows (100,000 with `--large`) uploaded as a job,
  from the upload to `done`: credentials/s, and the peak RSS (VmHWM) and
  RSS at the end of the job of the issuer and its signing processes;
- single: `--singles` `POST /awards` from `--clients` concurrent clients:
  credentials/s, p50 and p99 latency.

The goal of issue 9 is bulk >= 0.6 x in-process x cores used, single p99 < 50 ms.
Everything it made is deleted at the end (the session's topics and keys).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_revocation_latency import summary
from bench.services import running_services
from services.issuer.domain.awarding import award_credential, subject_of
from services.issuer.domain.bulk_rows import award_from_cells, csv_cells, csv_header
from services.issuer.signing import sign_both
from shared.credentials.crypto_keys import SigningKey
from shared.credentials.dids import did_key_document, did_key_for
from shared.events import StatusEntryRef
from shared.settings import cpu_cores
from tests.e2e.bulk_client import HEADER, follow, upload
from tests.e2e.client import Api
from tests.e2e.harness import Stack


def bulk_row(achievement: str, n: int) -> str:
    """Row `n` of the bench's results file (every row passes)."""
    return f"{achievement},learner{n}@example.org,Learner {n},95,100,2026-11-20T10:00:00Z\n"


def in_process_rate(issued: dict[str, Any], row: str, seconds: float = 5.0) -> float:
    """Credentials built and signed per second on one core, in this process:
    the credential of a bulk row (`row`, parsed as the issuer parses it),
    with the issuer profile, achievement and status lists of `issued`, a
    credential the issuer made in this run, so that the baseline signs what
    the job signs (a bigger document takes longer to canonicalise)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    did = did_key_for(private.public_key())
    key = SigningKey(private, did_key_document(did)["verificationMethod"][0]["id"])
    body = award_from_cells(csv_header(HEADER), csv_cells(row))
    achievement = issued["credentialSubject"]["achievement"]
    entries = [
        StatusEntryRef(
            purpose=e["statusPurpose"],
            list_id=e["statusListCredential"].rsplit("/", 1)[-1],
            list_url=e["statusListCredential"],
            index=int(e["statusListIndex"]),
        )
        for e in issued["credentialStatus"]
    ]
    profile = {**issued["issuer"], "id": did}

    def build() -> dict[str, Any]:
        return award_credential(
            body=body,
            subject=subject_of(body.recipient),
            issuer_profile=profile,
            achievement=achievement,
            entries=entries,
            now=datetime.now(UTC).replace(microsecond=0),
        )

    built = build()
    assert built.keys() == issued.keys() - {"proof"}, (built.keys(), issued.keys())
    assert built["credentialSubject"]["achievement"] == achievement
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sign_both(build(), key)
        count += 1
    return count / (time.perf_counter() - started)


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process and its children (the signing pool), in KiB."""
    rss = peak = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [pid, *map(int, children)]:
        status = Path(f"/proc/{each}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status)
        rss += int(fields["VmRSS"].split()[0])
        peak += int(fields["VmHWM"].split()[0])
    return rss, peak


def chunks(achievement: str, rows: int, per_chunk: int = 1000):  # type: ignore[no-untyped-def]
    yield HEADER.encode()
    for start in range(1, rows + 1, per_chunk):
        yield "".join(
            bulk_row(achievement, n) for n in range(start, min(start + per_chunk, rows + 1))
        ).encode()


async def bulk(api: Api, achievement: str, rows: int) -> tuple[float, int, int]:
    pid = api.stack.services["issuer"].process.pid  # type: ignore[union-attr]
    started = time.perf_counter()
    status, created = await upload(api, chunks(achievement, rows))
    assert status == 201, created
    uploaded = time.perf_counter() - started
    views = await follow(api, created["id"], within=7200, interval=0.2)
    elapsed = time.perf_counter() - started
    assert views[-1]["state"] == "done", views[-1]
    issued = views[-1]["progress"]["issued"]
    assert issued == rows, views[-1]
    rss, peak = rss_kib(pid)
    print(f"  upload of {rows} rows staged in {uploaded:.1f} s")
    return issued / elapsed, rss, peak


async def singles(
    api: Api, achievement: str, total: int, clients: int
) -> tuple[float, list[float]]:
    samples: list[float] = []
    counter = iter(range(total))

    async def client(n: int) -> None:
        for i in counter:
            t = time.perf_counter()
            status, body = await api.award(achievement, recipient={"id": f"did:example:{n}-{i}"})
            assert status == 201, body
            samples.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return total / (time.perf_counter() - started), samples


async def run(stack: Stack, rows: int, clients: int, total: int, accredited: bool) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        issuer = await (api.accredited_issuer() if accredited else api.create_issuer())
        kind = "accredited (an operator endorsement in each credential)"
        print(f"issuer: {kind if accredited else 'registered only'}")
        achievement = await api.achievement(issuer)
        await api.issuer_knows(achievement)
        await singles(api, achievement, 50, 4)  # warm up
        issued = await api.issue(achievement, recipient={"email": "learner0@example.org"})
        row = bulk_row(achievement, 0)
        before = in_process_rate(issued["credential"], row)
        print(f"in-process build+sign: {before:.1f} credentials/s (one core)")
        rate, samples = await singles(api, achievement, total, clients)
        print(f"single awards, {clients} clients: {rate:.1f} credentials/s")
        print("  " + summary("POST /awards latency", samples))
        bulk_rate, rss, peak = await bulk(api, achievement, rows)
        print(f"bulk job of {rows} rows: {bulk_rate:.1f} credentials/s")
        after = in_process_rate(issued["credential"], row)
        base = (before + after) / 2  # the machine's speed moves within a run
        print(f"in-process build+sign after the job: {after:.1f}/s; mean {base:.1f}/s")
        cores = cpu_cores()
        print(
            f"  ratio to the mean in-process x cores ({cores}): {bulk_rate / (base * cores):.2f}x"
            f" (goal 0.6x); to in-process on one core: {bulk_rate / base:.2f}x"
        )
        print(
            f"  issuer and its signing processes: RSS at the end {rss / 1024:.0f} MiB,"
            f" peak {peak / 1024:.0f} MiB (sum of each process's peak)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--large", action="store_true", help="100,000 rows")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--singles", type=int, default=800)
    parser.add_argument("--accredited", action="store_true", help="an accredited provider's issuer")
    args = parser.parse_args()
    rows = 100_000 if args.large else args.rows
    with running_services("bulk", "catalog", "issuer") as stack:
        asyncio.run(run(stack, rows, args.clients, args.singles, args.accredited))


if __name__ == "__main__":
    main()
