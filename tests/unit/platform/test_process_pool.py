"""shared/process_pool.py: a worker outlives neither its task nor its service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.process_pool import spawn_pool

ROOT = Path(__file__).resolve().parents[3]

# A "service" that starts a pool, prints its workers' pids, then waits to be killed.
SERVICE = """
import time
from shared.process_pool import spawn_pool
from tests.unit.platform.test_process_pool import slow_pid
pool = spawn_pool(2, int)
print(*{f.result() for f in [pool.submit(slow_pid), pool.submit(slow_pid)]}, flush=True)
time.sleep(600)
"""


def slow_pid() -> int:
    """This worker's pid, after long enough that the other task goes to another worker."""
    time.sleep(1.0)
    return os.getpid()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def mark(value: str) -> None:
    os.environ["POOL_TEST_INIT"] = value


def test_workers_run_the_initializer_and_the_tasks() -> None:
    pool = spawn_pool(1, mark, "ran")
    try:
        assert pool.submit(os.getenv, "POOL_TEST_INIT").result(timeout=30) == "ran"
        assert pool.submit(os.getpid).result(timeout=30) != os.getpid()
    finally:
        pool.shutdown()


def test_workers_exit_when_their_service_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SERVICE], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as service:
        assert service.stdout is not None
        workers = [int(pid) for pid in service.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        service.send_signal(signal.SIGKILL)  # no shutdown code runs
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "orphaned pool workers"
