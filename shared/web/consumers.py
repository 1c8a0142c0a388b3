"""Running a ConsumerLoop inside an app's cleanup context.

async def status_consumer(app: web.Application) -> AsyncIterator[None]:
    loop = ConsumerLoop(bootstrap, [topic], handler, dlq=app[PRODUCER], offsets=store)
    async with serve_consumer(app, "status-lists", loop):
        yield
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from shared.kafka.consumer import ConsumerLoop
from shared.kafka.metrics import ConsumerCollector
from shared.web.app import add_ready_check
from shared.web.metrics import METRICS


@contextlib.asynccontextmanager
async def serve_consumer(
    app: web.Application,
    name: str,
    loop: ConsumerLoop,
    *,
    backlog_gates_readiness: bool = True,
    gates_readiness: bool = True,
) -> AsyncIterator[ConsumerLoop]:
    """Register `name` as a ready check (alive and caught up, with progress
    details) and as metrics, run the loop as a task, stop it on exit.

    A work queue's backlog (`backlog_gates_readiness=False`) is not state the
    service needs before serving: only a dead loop makes it unready. A loop
    that only some optional routes need (`gates_readiness=False`) is shown in
    `/readyz` but never makes the service unready; those routes check it."""
    check = loop.ready if backlog_gates_readiness else (lambda: loop.alive)
    if not gates_readiness:
        check = lambda: True  # noqa: E731
    add_ready_check(app, name, check, details=loop.progress)
    collector = ConsumerCollector(name, loop)
    registry = app[METRICS].registry
    registry.register(collector)
    try:
        async with loop.running():
            yield loop
    finally:
        registry.unregister(collector)
