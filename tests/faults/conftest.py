"""The fault suite's own Kafka and Redis, its load plan, and its table.

`MICROCRED_FAULTS_MODE`: `quick` (default: `pytest tests/faults`) or `full`
(`make faults`: a bigger load). `MICROCRED_FAULTS_SEED` repeats a run's
fault moments.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator

import pytest

from tests.faults.faults import KAFKA_NODES
from tests.faults.infra import DedicatedInfra
from tests.faults.load import LoadPlan
from tests.faults.report import REPORT_DIR, SESSION, render, write

PLANS = {
    "quick": LoadPlan(awards=40, concurrency=8, revoke_every=5),
    "full": LoadPlan(awards=500, concurrency=8, revoke_every=5),
}


@pytest.fixture(scope="session")
def plan() -> LoadPlan:
    mode = os.environ.get("MICROCRED_FAULTS_MODE", "quick")
    if mode not in PLANS:
        pytest.fail(f"MICROCRED_FAULTS_MODE must be one of {sorted(PLANS)}, not {mode!r}")
    SESSION.mode, SESSION.plan = mode, PLANS[mode]
    shutil.rmtree(REPORT_DIR / "logs" / mode, ignore_errors=True)  # a former run's
    return PLANS[mode]


@pytest.fixture(scope="session")
def seed() -> int:
    SESSION.seed = int(os.environ.get("MICROCRED_FAULTS_SEED") or random.randrange(10**6))
    return SESSION.seed


@pytest.fixture(scope="session")
def infra() -> Iterator[DedicatedInfra]:
    """A Kafka and a Redis of the suite's own (never the shared stack), removed
    afterwards with their var dir."""
    dedicated = DedicatedInfra(kafka_nodes=KAFKA_NODES)
    try:
        dedicated.up()
        yield dedicated
    finally:
        dedicated.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SESSION.results:
        return
    path = write(SESSION)
    terminalreporter.write_sep("=", "fault table")
    terminalreporter.write_line(render(SESSION))
    terminalreporter.write_line(f"(written to {path})")
