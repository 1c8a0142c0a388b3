"""`microcred`: the command line for registrars.

    microcred bulk-award results.csv [--issuer-url URL] [--token TOKEN]
                                     [--output results-out.csv] [--key KEY]

Uploads a results file (CSV, or JSON Lines for `.jsonl`/`.ndjson`) as a bulk
award job (`POST /bulk-jobs`, streamed from disk), shows a live progress bar
until the job ends, and saves its per-row results next to the file (or at
`--output`). The issuer URL and token also come from `MICROCRED_ISSUER_URL`
and `MICROCRED_TOKEN`. The upload carries an Idempotency-Key (by default a
hash of the file), so running the command again for the same file follows
the same job instead of awarding anew. Exit status: 0 when the job is done
(refused rows are results too: below the threshold, an unknown
achievement...), 1 when it failed or was cancelled, or when rows failed on
our side (`failed`, reason `internal`, in the results file), 2 on a usage
or HTTP error.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from tqdm import tqdm

CHUNK = 256 * 1024
POLL_SECONDS = 0.5
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


class CliError(Exception):
    """A failure to report in one line (exit status 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microcred", description="microcred for registrars")
    commands = parser.add_subparsers(dest="command", required=True)
    bulk = commands.add_parser("bulk-award", help="award a file of assessment results")
    bulk.add_argument("file", type=Path, help="CSV (header row first) or JSON Lines")
    bulk.add_argument(
        "--issuer-url",
        default=os.environ.get("MICROCRED_ISSUER_URL", "http://127.0.0.1:8082"),
        help="the issuer service (env MICROCRED_ISSUER_URL)",
    )
    bulk.add_argument(
        "--token",
        default=os.environ.get("MICROCRED_TOKEN"),
        help="the institution's API token (env MICROCRED_TOKEN)",
    )
    bulk.add_argument("--output", type=Path, help="where to save the per-row results")
    bulk.add_argument("--key", help="Idempotency-Key of the upload (default: the file's hash)")
    bulk.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def _read(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            yield chunk


async def _json(answer: aiohttp.ClientResponse) -> dict[str, Any]:
    body = await answer.json(content_type=None)
    if answer.status >= 400:
        detail = body.get("detail") if isinstance(body, dict) else body
        raise CliError(f"{answer.status} {answer.reason}: {detail}")
    assert isinstance(body, dict)
    return body


async def _follow(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], quiet: bool
) -> dict[str, Any]:
    """Poll the job until it ends, drawing its progress."""
    with tqdm(unit="row", disable=quiet, dynamic_ncols=True) as bar:
        while True:
            async with session.get(url, headers=headers) as answer:
                job = await _json(answer)
            progress = job["progress"]
            bar.total = job["rows"]
            bar.n = progress["read"]
            refused = sum(progress["refused"].values())
            bar.set_postfix(
                issued=progress["issued"], refused=refused, failed=progress["failed"], refresh=False
            )
            bar.set_description(job["state"])
            bar.refresh()
            if job["state"] in ("done", "failed", "cancelled"):
                return job
            await asyncio.sleep(POLL_SECONDS)


def _checked(args: argparse.Namespace) -> str:
    """The upload's Idempotency-Key, once the arguments make sense."""
    path: Path = args.file
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    if not args.token:
        raise CliError("give --token or set MICROCRED_TOKEN")
    return str(args.key or f"file-{_file_hash(path)}")


async def bulk_award(args: argparse.Namespace, key: str) -> int:
    path: Path = args.file
    jsonl = path.suffix.lower() in JSONL_SUFFIXES
    output: Path = args.output or path.with_name(f"{path.stem}-results.csv")
    base = args.issuer_url.rstrip("/")
    auth = {"Authorization": f"Bearer {args.token}"}
    headers = {
        **auth,
        "Content-Type": "application/jsonl" if jsonl else "text/csv",
        "Idempotency-Key": key,
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/bulk-jobs", data=_read(path), headers=headers) as answer:
            job = await _json(answer)
        print(f"job {job['id']}: {job['rows']} rows", file=sys.stderr)
        job = await _follow(session, f"{base}/bulk-jobs/{job['id']}", auth, args.quiet)
        form = "jsonl" if output.suffix.lower() in JSONL_SUFFIXES else "csv"
        url = f"{base}/bulk-jobs/{job['id']}/results?format={form}"
        async with session.get(url, headers=auth) as answer:
            if answer.status >= 400:
                await _json(answer)
            with output.open("wb") as file:
                async for chunk in answer.content.iter_chunked(CHUNK):
                    file.write(chunk)
    progress = job["progress"]
    print(
        f"{job['state']}: {progress['issued']} issued, {progress['refused'] or 'none'} refused, "
        f"{progress['failed']} failed; results in {output}",
        file=sys.stderr,
    )
    return 0 if job["state"] == "done" and not progress["failed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(bulk_award(args, _checked(args)))
    except CliError as error:
        print(f"microcred: {error}", file=sys.stderr)
        return 2
    except aiohttp.ClientError as error:
        print(f"microcred: cannot reach the issuer: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
