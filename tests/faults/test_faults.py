"""Issue 6, "State you can trust": the four services as processes on a real
Kafka and Redis of the suite's own, under a bounded load of awards and
revocations retried with their Idempotency-Keys, each hit by one fault
mid-load. Afterwards, with nothing restarted by hand beyond the fault's own
restart: every service ready again within 120 s, every acknowledged
credential present and verifying, one credential per Idempotency-Key, no
status list entry shared (or free to be handed out again), every
acknowledged revocation in force and nothing else revoked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest

from tests.e2e.harness import Stack
from tests.faults.checks import FaultResult
from tests.faults.faults import FAULTS, Fault
from tests.faults.infra import DedicatedInfra
from tests.faults.load import LoadPlan
from tests.faults.report import REPORT_DIR, SESSION
from tests.faults.runner import keep_logs, run_fault

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


@pytest.fixture
def services(infra: DedicatedInfra, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The four services (not started), fresh for each fault: own topics, Redis
    prefix and keys, on the suite's Kafka and Redis, both (re)started first
    if a fault left them down."""
    fault: Fault = request.getfixturevalue("fault")
    stack = infra.services(fault.name)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
async def test_fault(
    fault: Fault, services: Stack, infra: DedicatedInfra, plan: LoadPlan, seed: int
) -> None:
    result = FaultResult(fault.name)
    SESSION.results.append(result)  # a row in the table whatever happens below
    try:
        await asyncio.to_thread(services.start)
        await run_fault(fault, result, services, infra, plan, random.Random(f"{seed}-{fault.name}"))
    except Exception as error:
        first_line = (str(error).splitlines() or [""])[0][:300]
        result.problems.append(f"the run broke off: {type(error).__name__}: {first_line}")
        raise
    finally:
        if not result.passed:
            logs = await asyncio.to_thread(
                keep_logs, services, infra, REPORT_DIR / "logs" / SESSION.mode / fault.name
            )
            result.logs = str(logs)
    if not result.passed:
        pytest.fail(result.failure_message(), pytrace=False)
