"""The faults, and the wait for the services to recover from one by themselves."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from tests.e2e.harness import Stack
from tests.faults.infra import DedicatedInfra

RECOVERY_BOUND = 120.0  # seconds from the fault until every service is ready again
SETTLE = 3.0  # ready must hold this long to count (a wipe is noticed with a delay)
SERVICE_RESTART_DELAY = 1.0  # a supervisor's pause before it starts a crashed service
KAFKA_DOWN = 3.0  # seconds Kafka stays dead before it is started again
REDIS_DOWN = 2.0  # seconds Redis stays dead before it is started again
KILLED_NODE = 1  # 3-node mode: the broker first in every bootstrap list
# `make faults KAFKA_NODES=3`: the suite's Kafka is a 3-node cluster.
KAFKA_NODES = int(os.environ.get("MICROCRED_KAFKA_NODES") or 1)

Inject = Callable[[Stack, DedicatedInfra], Awaitable[None]]


async def _crash_service(stack: Stack, name: str) -> None:
    service = stack.services[name]
    await asyncio.to_thread(service.kill)
    await asyncio.sleep(SERVICE_RESTART_DELAY)
    service.start()  # not waited for: the recovery wait measures it


async def _crash_infra(infra: DedicatedInfra, part: str, down_for: float) -> None:
    await asyncio.to_thread(infra.kill9, part)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(infra.up, part)


async def kill_issuer(stack: Stack, infra: DedicatedInfra) -> None:
    await _crash_service(stack, "issuer")


async def kill_revocation(stack: Stack, infra: DedicatedInfra) -> None:
    await _crash_service(stack, "revocation")


async def kill_kafka(stack: Stack, infra: DedicatedInfra) -> None:
    await _crash_infra(infra, "kafka", KAFKA_DOWN)


async def kill_kafka_node(stack: Stack, infra: DedicatedInfra) -> None:
    """3-node mode: one broker of three dies; acks=all goes on with two in sync."""
    await asyncio.to_thread(infra.kill_node, KILLED_NODE)
    await asyncio.sleep(KAFKA_DOWN)
    await asyncio.to_thread(infra.up_node, KILLED_NODE)


async def kill_redis(stack: Stack, infra: DedicatedInfra) -> None:
    await _crash_infra(infra, "redis", REDIS_DOWN)


async def flush_redis(stack: Stack, infra: DedicatedInfra) -> None:
    await asyncio.to_thread(infra.flushall)


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    inject: Inject  # returns once the fault's own restart (if any) is done


SINGLE_KAFKA = Fault("kafka-kill9", f"kill -9 Kafka, start it {KAFKA_DOWN:g} s later", kill_kafka)
ONE_BROKER = Fault(
    "kafka-node-kill9",
    f"kill -9 Kafka node {KILLED_NODE} of 3, start it {KAFKA_DOWN:g} s later",
    kill_kafka_node,
)

FAULTS = (
    Fault(
        "issuer-kill9",
        f"kill -9 the issuer, start it {SERVICE_RESTART_DELAY:g} s later",
        kill_issuer,
    ),
    Fault(
        "revocation-kill9",
        f"kill -9 revocation, start it {SERVICE_RESTART_DELAY:g} s later",
        kill_revocation,
    ),
    SINGLE_KAFKA if KAFKA_NODES == 1 else ONE_BROKER,
    Fault("redis-kill9", f"kill -9 Redis, start it {REDIS_DOWN:g} s later", kill_redis),
    Fault("redis-flushall", "FLUSHALL on Redis, nothing restarted", flush_redis),
)


@dataclass
class Recovery:
    seconds: float | None  # from the fault until all ready (None: not within the bound)
    problem: str | None = None
    restart_done_after: float | None = None  # the fault's own restart, seconds after it began
    not_ready_seen: set[str] = field(default_factory=set)  # services seen not ready


async def _readiness(session: aiohttp.ClientSession, url: str) -> str | None:
    """None when /readyz answers 200, else why not."""
    try:
        async with session.get(f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as answer:
            if answer.status == 200:
                return None
            body = await answer.json(content_type=None)
            failing = body.get("failing") if isinstance(body, dict) else None
            return f"{answer.status} failing {failing}"
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return type(error).__name__


async def wait_recovered(
    stack: Stack, started: float, restart_done: asyncio.Event, *, bound: float = RECOVERY_BOUND
) -> Recovery:
    """Poll every service's /readyz from the moment the fault began (`started`,
    monotonic) until all answer 200 for SETTLE seconds after the fault's own
    restart is done. Nothing is restarted here; a service that exits on its
    own is a failure at once (nobody would start it again)."""
    stable_since: float | None = None
    last: dict[str, str | None] = {}
    recovery = Recovery(None)
    async with aiohttp.ClientSession() as session:
        while True:
            now = time.monotonic()
            exited = {
                name: code
                for name, service in stack.services.items()
                if (code := service.exit_code()) is not None
            }
            if exited:
                recovery.problem = f"services exited by themselves (exit codes {exited})"
                return recovery
            names = list(stack.services)
            states = await asyncio.gather(*(_readiness(session, stack.url(name)) for name in names))
            last = dict(zip(names, states, strict=True))
            recovery.not_ready_seen |= {name for name, state in last.items() if state}
            if restart_done.is_set() and all(state is None for state in last.values()):
                stable_since = stable_since or now
                if now - stable_since >= SETTLE:
                    recovery.seconds = round(stable_since - started, 1)
                    return recovery
            else:
                stable_since = None
            if now - started > bound and stable_since is None:
                failing = {name: state for name, state in last.items() if state}
                recovery.problem = (
                    f"not every service ready within {bound:.0f} s of the fault: {failing}"
                    if restart_done.is_set()
                    else f"the fault's own restart did not finish within {bound:.0f} s"
                )
                return recovery
            await asyncio.sleep(0.2)
