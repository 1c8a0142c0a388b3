"""Serving the public verifier: every core, and connection hygiene.

The verifier is stateless, so it runs `MICROCRED_VERIFIER_WORKERS` processes
(default: the cores) on one port with SO_REUSEPORT, the kernel spreading
connections among them; each worker keeps its own Kafka-fed replica. With
more than one worker a worker binds the port only once its `/readyz` passes
(its replica caught up), so whichever worker answers is ready: until the
first is, the port refuses connections. With one worker the port opens at
once and `/readyz` says 503 until caught up, as for the other services. The
parent only supervises: it restarts a worker that died and passes SIGTERM
on; a worker whose parent vanished (SIGKILL) stops by itself.

Connection hygiene, on aiohttp's own server:

- `keepalive_timeout` (`MICROCRED_VERIFIER_KEEPALIVE_S`): aiohttp 3.14 arms
  it when a connection opens and again after each response, and closes a
  connection still waiting for a whole request when it fires, so it is also
  the header read timeout (aiohttp has no separate one: a client trickling
  a partial header is cut off after this time, measured in tests/e2e);
- at most `MICROCRED_VERIFIER_CONNECTIONS_PER_ADDRESS` open connections per
  client address (`CappedServer`), more are closed at once; the trusted
  proxies (`MICROCRED_VERIFIER_TRUSTED_PROXIES`) are exempt;
- `handler_cancellation`: a client that disconnects cancels its handler, so
  its verification stops (fetches it started for others continue, bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from services.verifier.app import create_app
from services.verifier.settings import Settings
from shared.logging import configure_logging, get_logger
from shared.settings import SettingsError
from shared.web.app import READY_CHECKS, tune_process

_log = get_logger("verifier.serve")
SHUTDOWN_SECONDS = 10.0


class CappedServer(web.Server):
    """aiohttp's connection manager, closing connections over the per-address cap."""

    def __init__(
        self, *args: Any, per_address: int, exempt: frozenset[str] = frozenset(), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.per_address = per_address
        self.exempt = exempt  # trusted proxies: all their clients share their address
        self.open_by_address: Counter[str] = Counter()
        self._address_of: dict[RequestHandler, str] = {}
        self.refused = 0

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        self._address_of[handler] = address
        self.open_by_address[address] += 1
        if self.open_by_address[address] > self.per_address and address not in self.exempt:
            self.refused += 1
            transport.close()  # connection_lost follows and gives the count back

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        address = self._address_of.pop(handler, None)
        if address is not None:
            self.open_by_address[address] -= 1
            if self.open_by_address[address] <= 0:
                del self.open_by_address[address]
        super().connection_lost(handler, exc)


class VerifierRunner(web.AppRunner):
    """An `AppRunner` whose server is a `CappedServer`."""

    def __init__(
        self, app: web.Application, *, per_address: int, exempt: frozenset[str], **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._per_address = per_address
        self._exempt = exempt

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # starts the app (its cleanup contexts)
        # aiohttp builds its Server from the runner's keyword arguments; ours
        # is the same server with the cap (aiohttp has no hook for it).
        return CappedServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            per_address=self._per_address,
            exempt=self._exempt,
            **made._kwargs,
        )


async def _until_ready(app: web.Application) -> None:
    """Polls what `/readyz` reports (several checks, no one event to wait on)."""
    while True:
        failing, _ = app[READY_CHECKS].evaluate()
        if not failing:
            return
        await asyncio.sleep(0.2)


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """A worker outlives a SIGKILLed parent only this long (no PDEATHSIG in Python)."""
    while True:
        if os.getppid() != parent:
            stop.set()
            return
        await asyncio.sleep(1.0)


async def serve(settings: Settings, *, join_when_ready: bool, parent: int | None = None) -> None:
    """One worker: the app on the shared port until SIGTERM or SIGINT."""
    app = create_app(settings)
    options = settings.server
    runner = VerifierRunner(
        app,
        per_address=options.connections_per_address,
        exempt=settings.rates.trusted_proxies,
        handler_cancellation=True,
        keepalive_timeout=float(options.keepalive_s),
        access_log=None,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await runner.setup()
    watcher = asyncio.create_task(_watch_parent(parent, stop)) if parent else None
    try:
        if join_when_ready:
            waiting = asyncio.create_task(_until_ready(app))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            stopping.cancel()
        if not stop.is_set():
            common = settings.common
            site = web.TCPSite(
                runner, common.http_host, common.http_port, reuse_port=options.workers > 1
            )
            await site.start()
            _log.info("http.started", host=common.http_host, port=common.http_port, pid=os.getpid())
            await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await runner.cleanup()


def _worker(parent: int) -> None:
    """A worker process (spawned): settings from the inherited environment."""
    settings = Settings.from_env()
    configure_logging("verifier", settings.common.log_level)
    tune_process()
    asyncio.run(serve(settings, join_when_ready=True, parent=parent))


def _supervise(settings: Settings) -> None:
    context = multiprocessing.get_context("spawn")
    workers: list[multiprocessing.process.BaseProcess] = []
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(os.getpid(),), name="verifier-worker")
        process.start()
        return process

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    workers.extend(start() for _ in range(settings.server.workers))
    _log.info("verifier.workers_started", workers=len(workers))
    while not stopping:
        time.sleep(0.5)
        for index, process in enumerate(workers):
            if not process.is_alive() and not stopping:
                _log.warning("verifier.worker_died", pid=process.pid, exitcode=process.exitcode)
                workers[index] = start()
    deadline = time.monotonic() + SHUTDOWN_SECONDS + 5
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        sys.stderr.write(f"verifier: configuration error: {error}\n")
        raise SystemExit(2) from None
    configure_logging("verifier", settings.common.log_level)
    if settings.server.workers == 1:
        tune_process()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, join_when_ready=False))
    else:
        _supervise(settings)
