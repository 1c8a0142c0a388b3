"""Bulk award jobs as a registrar's system uses them (tests and bench/bench_bulk.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import orjson

from shared.events import CredentialIssued, decode_event
from tests.e2e.client import Api, Json, read_topic

HEADER = "achievementId,recipientEmail,recipientName,score,maxScore,assessedAt\n"
UNKNOWN = "urn:uuid:00000000-0000-4000-8000-000000000000"


def expected_kind(row: int) -> str:
    """What row `row` of `results_csv` is: issued, or why it is refused."""
    if row % 1000 == 7:
        return "achievement-not-found"
    if row % 97 == 0:
        return "assessment-below-threshold"
    if row % 101 == 0:
        return "malformed"
    return "issued"


def csv_line(achievement_id: str, row: int) -> str:
    kind = expected_kind(row)
    achievement = UNKNOWN if kind == "achievement-not-found" else achievement_id
    score = "50" if kind == "assessment-below-threshold" else "95"
    if kind == "malformed":
        score = "ninety"
    # a name with a comma and a quote: quoting is RFC 4180's
    name = f'"Learner {row}, ""L{row}"""'
    return f"{achievement},learner{row}@example.org,{name},{score},100,2026-11-20T10:00:00Z\n"


def csv_chunks(achievement_id: str, rows: int, per_chunk: int = 500) -> Iterator[bytes]:
    """A results file of `rows` data rows, generated chunk by chunk (never whole)."""
    yield HEADER.encode()
    for start in range(1, rows + 1, per_chunk):
        end = min(start + per_chunk, rows + 1)
        yield "".join(csv_line(achievement_id, row) for row in range(start, end)).encode()


async def _stream(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def upload(
    api: Api,
    chunks: Iterator[bytes] | bytes,
    *,
    content_type: str = "text/csv",
    key: str | None = None,
) -> tuple[int, Any]:
    headers = {**api.auth, "Content-Type": content_type}
    if key:
        headers["Idempotency-Key"] = key
    data = chunks if isinstance(chunks, bytes) else _stream(chunks)
    url = f"{api.stack.url('issuer')}/bulk-jobs"
    async with api.session.post(url, data=data, headers=headers) as answer:
        return answer.status, await answer.json(content_type=None)


async def job(api: Api, job_id: str) -> tuple[int, Any]:
    return await api.call("GET", f"{api.stack.url('issuer')}/bulk-jobs/{job_id}", headers=api.auth)


async def follow(
    api: Api,
    job_id: str,
    *,
    within: float = 120,
    interval: float = 0.25,
    stop: Callable[[Json], bool] | None = None,
) -> list[Json]:
    """The job's views, polled until it ends (or `stop(view)`), in order."""
    deadline = time.monotonic() + within
    views: list[Json] = []
    while time.monotonic() < deadline:
        status, view = await job(api, job_id)
        if status == 200:
            views.append(view)
            if view["state"] in ("done", "cancelled", "failed") or (stop and stop(view)):
                return views
        await asyncio.sleep(interval)
    raise AssertionError(f"job {job_id} did not end within {within}s: {views[-1:]}")


async def results(api: Api, job_id: str, form: str = "csv") -> list[dict[str, str]]:
    url = f"{api.stack.url('issuer')}/bulk-jobs/{job_id}/results?format={form}"
    async with api.session.get(url, headers=api.auth) as answer:
        assert answer.status == 200, await answer.text()
        text = await answer.text()
    if form == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return [orjson.loads(line) for line in text.splitlines()]


async def issued_events(api: Api, job_id: str) -> list[CredentialIssued]:
    """Every `credentials.issued` event of the job's rows (by their idempotency keys)."""
    records = await read_topic(api.stack.kafka_bootstrap, api.stack.topic("credentials.issued"))
    prefix = f"bulk:{job_id}:"
    return [
        event
        for record in records
        if isinstance(event := decode_event(record.value), CredentialIssued)
        and (event.idempotency_key or "").startswith(prefix)
    ]


def assert_rows(rows: list[dict[str, str]], count: int) -> None:
    """Every row exactly once, with the outcome its content calls for."""
    assert [int(r["row"]) for r in rows] == list(range(1, count + 1))
    for r in rows:
        kind = expected_kind(int(r["row"]))
        if kind == "issued":
            assert r["status"] == "issued" and r["credentialId"].startswith("urn:uuid:"), r
        else:
            assert (r["status"], r["reason"]) == ("refused", kind), r


def counters(view: Json) -> list[int]:
    """The job's progress counters, in a fixed order (each must only grow)."""
    progress = view["progress"]
    refused = progress["refused"]
    return [
        progress["read"],
        progress["issued"],
        progress["failed"],
        *(refused.get(k, 0) for k in ("achievement-not-found", "assessment-below-threshold")),
        refused.get("malformed", 0),
    ]
