"""Bulk award jobs (issue 9): a registrar's file of results becomes credentials.

A 10,000-row CSV with bad rows completes with the right per-row results and
monotonic progress; kill -9 of the issuer mid-job and a restart give no
duplicate and no gap (by the results and by the `credentials.issued` events
of the job); cancel stops a job; another tenant cannot see a job; bad files
are 4xx problems.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest

from tests.e2e.bulk_client import (
    assert_rows,
    counters,
    csv_chunks,
    expected_kind,
    follow,
    issued_events,
    job,
    results,
    upload,
)
from tests.e2e.client import Api, until
from tests.e2e.harness import Stack

# The issuer as deployed: signing in a pool of two processes.
pytestmark = [pytest.mark.e2e, pytest.mark.signing_processes(2)]

# `make test` runs a 300-row file (every kind of bad row is in it: rows 7, 97,
# 101...); `make bulk-check` runs the 10,000 rows (minutes here).
LARGE_FILE_ROWS = int(os.environ.get("MICROCRED_BULK_TEST_ROWS", "300"))


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


@pytest.fixture
async def achievement(api: Api) -> str:
    achievement_id = await api.achievement(await api.create_issuer())
    await api.issuer_knows(achievement_id)
    return achievement_id


def assert_monotonic(views: list[dict[str, object]]) -> None:
    series = [counters(v) for v in views]  # type: ignore[arg-type]
    for before, after in itertools.pairwise(series):
        assert all(a >= b for a, b in zip(after, before, strict=True)), (before, after)


@pytest.mark.timeout(900)  # 10,000 awards: minutes on a shared 2-core machine
async def test_a_large_file_with_bad_rows_completes_row_by_row(api: Api, achievement: str) -> None:
    rows = LARGE_FILE_ROWS
    status, created = await upload(api, csv_chunks(achievement, rows), key="term-1-results")
    assert status == 201, created
    assert created["rows"] == rows and created["state"] in ("queued", "running")
    # the same key and file: the same job, not a second one
    again, replayed = await upload(api, csv_chunks(achievement, rows), key="term-1-results")
    assert (again, replayed["id"]) == (200, created["id"])

    # polled often: a batch is 128 rows, and 300 take about a second
    views = await follow(api, created["id"], within=600, interval=0.05)
    assert views[-1]["state"] == "done", views[-1]
    assert_monotonic(views)
    assert len({v["progress"]["read"] for v in views}) > 2, "no progress seen on the way"

    found = await results(api, created["id"])
    assert_rows(found, rows)
    expected = Counter(expected_kind(n) for n in range(1, rows + 1))
    progress = views[-1]["progress"]
    assert progress["read"] == rows and progress["issued"] == expected["issued"]
    assert progress["refused"] == {k: v for k, v in expected.items() if k != "issued"}
    events = await issued_events(api, created["id"])
    assert len(events) == expected["issued"]
    issued = {r["credentialId"] for r in found if r["credentialId"]}
    assert {e.credential_id for e in events} == issued
    jsonl = await results(api, created["id"], "jsonl")
    assert [r["row"] for r in jsonl] == list(range(1, rows + 1))


def pool_workers(pid: int) -> list[int]:
    """The issuer's signing processes (its spawned children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


async def gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


async def test_kill_9_mid_job_resumes_without_duplicate_or_gap(
    stack: Stack, api: Api, achievement: str
) -> None:
    # at least 1,000 rows: a 300-row job can finish between two polls (0.25 s
    # apart) before the kill
    rows = min(3_000, max(1_000, LARGE_FILE_ROWS))
    status, created = await upload(api, csv_chunks(achievement, rows))
    assert status == 201, created
    # killed a third of the way in, mid-batch
    views = await follow(api, created["id"], stop=lambda v: v["progress"]["read"] >= rows // 3)
    assert views[-1]["state"] == "running", views[-1]
    issuer = stack.services["issuer"]
    assert issuer.process is not None
    workers = pool_workers(issuer.process.pid)
    assert len(workers) == 2, workers
    issuer.kill()
    assert await until(lambda: gone(workers), within=10.0), "signing workers outlived the issuer"
    stack.start("issuer")
    views += await follow(api, created["id"], within=300)
    assert views[-1]["state"] == "done", views[-1]
    assert_monotonic(views)

    found = await results(api, created["id"])
    assert_rows(found, rows)
    events = await issued_events(api, created["id"])
    keys = Counter(e.idempotency_key for e in events)
    assert max(keys.values()) == 1, "a row was issued twice"
    issued = {r["credentialId"] for r in found if r["status"] == "issued"}
    assert {e.credential_id for e in events} == issued
    assert views[-1]["progress"]["issued"] == len(issued) == len(events)


async def test_cancel_stops_a_job(api: Api, achievement: str) -> None:
    status, created = await upload(api, csv_chunks(achievement, 5_000))
    assert status == 201, created
    await follow(api, created["id"], stop=lambda v: v["progress"]["read"] > 0)
    url = f"{api.stack.url('issuer')}/bulk-jobs/{created['id']}/cancel"
    status, cancelled = await api.call("POST", url, headers=api.auth)
    assert status == 200 and cancelled["cancelRequested"] is True, cancelled
    views = await follow(api, created["id"])
    assert views[-1]["state"] == "cancelled"
    first = views[-1]["progress"]["read"]
    assert first < 5_000
    await asyncio.sleep(2)
    status, later = await job(api, created["id"])
    assert later["progress"]["read"] == first, "rows went on after the cancel"
    assert_rows(await results(api, created["id"]), first)


async def test_another_tenant_cannot_see_a_job(api: Api, achievement: str) -> None:
    status, created = await upload(api, csv_chunks(achievement, 3))
    assert status == 201, created
    other = api.as_tenant("other-token")
    base = f"{api.stack.url('issuer')}/bulk-jobs/{created['id']}"
    for method, url in (("GET", base), ("GET", f"{base}/results"), ("POST", f"{base}/cancel")):
        status, body = await other.call(method, url, headers=other.auth)
        assert status == 404, (url, body)
        assert body["title"] == "Bulk job not found"
    assert (await follow(api, created["id"]))[-1]["state"] == "done"


async def test_json_lines_and_bad_files(api: Api, achievement: str) -> None:
    lines = [
        {"achievementId": achievement, "recipient": {"id": "did:example:a"}, "score": 92},
        {"achievementId": achievement, "recipient": {"id": "did:example:b"}, "score": 10},
        "not json",
    ]
    body = b"\n".join(x.encode() if isinstance(x, str) else orjson.dumps(x) for x in lines)
    status, created = await upload(api, body, content_type="application/jsonl")
    assert status == 201, created
    await follow(api, created["id"])
    found = await results(api, created["id"], "jsonl")
    assert [(r["row"], r["status"], r.get("reason")) for r in found] == [
        (1, "issued", None),
        (2, "refused", "assessment-below-threshold"),
        (3, "refused", "malformed"),
    ]
    await assert_head_has_no_body(api, f"/bulk-jobs/{created['id']}/results?format=jsonl")
    bad = {
        b"name,score\nx,1\n": ("text/csv", 422),
        b"": ("text/csv", 422),
        b"achievementId,recipientId,score\n": ("text/csv", 422),
        b"achievementId,recipientId,score\na,b,1\n": ("application/xml", 415),
        # a line, or a record of quoted line breaks, over 64 KiB
        b"achievementId,recipientId,score\na,b," + b"9" * 70_000 + b"\na,b,1\n": ("text/csv", 413),
        b'achievementId,recipientId,score\n"' + b"y\n" * 999 * 36 + b'",b,1\n': ("text/csv", 413),
    }
    for content, (kind, code) in bad.items():
        status, problem = await upload(api, content, content_type=kind)
        assert status == code, (content, problem)
        assert "title" in problem and "status" in problem


async def test_the_cli_uploads_follows_and_saves_the_results(
    stack: Stack, achievement: str, tmp_path: Path
) -> None:
    source = tmp_path / "results.csv"
    source.write_bytes(b"".join(csv_chunks(achievement, 120)))
    command = [sys.executable, "-m", "services.cli", "bulk-award", str(source), "--quiet"]
    env = {
        **os.environ,
        "MICROCRED_ISSUER_URL": stack.url("issuer"),
        "MICROCRED_TOKEN": stack.token,
    }
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    saved = (tmp_path / "results-results.csv").read_text()
    assert_rows(list(csv.DictReader(io.StringIO(saved))), 120)
    assert "done: 117 issued" in err.decode()
    # the same file again: the same job (its Idempotency-Key is the file's hash)
    again = await asyncio.create_subprocess_exec(*command, env=env, stderr=asyncio.subprocess.PIPE)
    _, err_again = await asyncio.wait_for(again.communicate(), timeout=120)
    assert again.returncode == 0
    assert err_again.decode().split("\n")[0] == err.decode().split("\n")[0]  # "job <id>: ..."


async def assert_head_has_no_body(api: Api, path: str) -> None:
    """HEAD answers the headers only (RFC 9110 §9.3.2): the next answer on
    the same connection starts right after them."""
    url = urlsplit(api.stack.url("issuer"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    token = api.auth["Authorization"]
    writer.write(
        f"HEAD {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    answers = (await asyncio.wait_for(reader.read(), timeout=10)).decode(errors="replace")
    writer.close()
    head, _, rest = answers.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), answers
    assert rest.startswith("HTTP/1.1 200"), answers
