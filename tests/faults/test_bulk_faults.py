"""Issue 9's bulk jobs under issue 6's faults: a job hit a third of the way
in by a kill -9 of Kafka or of Redis, or by a Redis FLUSHALL, finishes by
itself with every row once and the outcome its content calls for, and one
credential per row (by the job's `credentials.issued` events). (A kill -9 of
the issuer mid-job: tests/e2e/test_bulk_jobs.py.)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import aiohttp
import pytest

from tests.e2e.bulk_client import assert_rows, csv_chunks, follow, issued_events, results, upload
from tests.e2e.client import Api
from tests.e2e.harness import Stack
from tests.faults.faults import FAULTS, Fault
from tests.faults.infra import DedicatedInfra
from tests.faults.load import LoadPlan
from tests.faults.report import SESSION

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

BULK_FAULTS = tuple(f for f in FAULTS if f.name in ("kafka-kill9", "redis-kill9", "redis-flushall"))
ROWS = {"quick": 600, "full": 3_000}  # by MICROCRED_FAULTS_MODE (`make faults`: full)
WITHIN = 400.0  # seconds for the job to finish after the fault


@pytest.fixture
def services(infra: DedicatedInfra, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Catalog and issuer (not started), fresh for each fault, on the suite's
    Kafka and Redis; the issuer signs in two processes, as deployed."""
    fault: Fault = request.getfixturevalue("fault")
    stack = infra.services(f"bulk-{fault.name}")
    stack.services["issuer"].env["MICROCRED_ISSUER_SIGNING_PROCESSES"] = "2"
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("fault", BULK_FAULTS, ids=[fault.name for fault in BULK_FAULTS])
async def test_a_bulk_job_finishes_whole_after_a_fault(
    fault: Fault, services: Stack, infra: DedicatedInfra, plan: LoadPlan
) -> None:
    rows = ROWS[SESSION.mode]  # the `plan` fixture has read the mode
    await asyncio.to_thread(services.start, "catalog", "issuer")
    async with aiohttp.ClientSession() as session:
        api = Api(services, session)
        achievement = await api.achievement(await api.create_issuer())
        await api.issuer_knows(achievement)
        status, created = await upload(api, csv_chunks(achievement, rows))
        assert status == 201, created
        before = await follow(api, created["id"], stop=lambda v: v["progress"]["read"] >= rows // 3)
        assert before[-1]["state"] == "running", before[-1]

        await fault.inject(services, infra)

        after = await follow(api, created["id"], within=WITHIN)
        assert after[-1]["state"] == "done", after[-1]
        found = await results(api, created["id"])
        assert_rows(found, rows)
        events = await issued_events(api, created["id"])
        assert max(Counter(e.idempotency_key for e in events).values()) == 1, "a row issued twice"
        issued = {r["credentialId"] for r in found if r["status"] == "issued"}
        assert {e.credential_id for e in events} == issued
        assert after[-1]["progress"]["issued"] == len(issued)
