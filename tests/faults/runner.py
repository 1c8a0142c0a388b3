"""One fault run: fresh services, the load, the fault mid-load, the wait for
recovery, then the checks."""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from pathlib import Path

import aiohttp

from tests.e2e.client import Api
from tests.e2e.harness import Stack
from tests.faults.checks import FaultResult, evaluate
from tests.faults.faults import RECOVERY_BOUND, Fault, Recovery, wait_recovered
from tests.faults.infra import DedicatedInfra
from tests.faults.load import Load, LoadPlan

LOAD_MARGIN = 10.0  # a request retries until RECOVERY_BOUND + this after the fault
FAULT_WINDOW = (0.3, 0.6)  # the fault hits once this share of the awards is acknowledged


async def _setup(stack: Stack) -> str:
    """An issuer and an achievement every service knows; the achievement id."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        api = Api(stack, session)
        achievement_id = await api.achievement(await api.create_issuer("Fault Tolerant College"))
        await api.issuer_knows(achievement_id)
        return achievement_id


async def run_fault(
    fault: Fault,
    result: FaultResult,
    stack: Stack,
    infra: DedicatedInfra,
    plan: LoadPlan,
    rng: random.Random,
) -> FaultResult:
    """Fill `result` (named after `fault`) from one run on the started `stack`."""
    achievement_id = await _setup(stack)
    trigger = max(1, round(plan.awards * rng.uniform(*FAULT_WINDOW)))
    restart_done = asyncio.Event()
    load_started = time.monotonic()
    began: list[float] = []  # when the fault began (monotonic), once it did
    restarted_after: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    recovering: list[asyncio.Task[Recovery]] = []
    gave_up: list[float] = []  # when recovery failed: retrying longer is pointless

    async def recover(since: float) -> Recovery:
        recovery = await wait_recovered(stack, since, restart_done)
        if recovery.problem:
            gave_up.append(time.monotonic())
        return recovery

    async def inject() -> None:
        try:
            await fault.inject(stack, infra)
        finally:
            restarted_after.append(time.monotonic() - began[0])
            restart_done.set()

    def start_fault() -> None:
        if began:
            return
        began.append(time.monotonic())
        result.fault_at = round(began[0] - load_started, 1)
        tasks.append(asyncio.create_task(inject()))
        recovering.append(asyncio.create_task(recover(began[0])))

    async def on_progress(acked: int) -> None:
        if acked >= trigger:
            start_fault()

    def deadline() -> float:
        if gave_up:
            return gave_up[0]
        return (began[0] if began else load_started) + RECOVERY_BOUND + LOAD_MARGIN

    load = Load(stack, achievement_id, plan, fault.name, deadline, on_progress)
    await load.run()
    result.load_seconds = round(time.monotonic() - load_started, 1)
    start_fault()  # when too few awards were acknowledged to trigger it
    try:
        await tasks[0]  # a fault that could not be injected is an error of the suite
    except BaseException:
        recovering[0].cancel()
        raise
    recovery = await recovering[0]
    recovery.restart_done_after = round(restarted_after[0], 1)
    return await evaluate(stack, load, recovery, result)


def keep_logs(stack: Stack, infra: DedicatedInfra, into: Path) -> Path:
    """Copy the services' and the stack's logs (the var dir is deleted later)."""
    into.mkdir(parents=True, exist_ok=True)
    for service in stack.services.values():
        if service.log_path.exists():
            shutil.copy(service.log_path, into / service.log_path.name)
    for log in [infra.log_path, *sorted((infra.var_dir / "log").glob("*"))]:
        if log.is_file():
            shutil.copy(log, into / log.name)
    return into
