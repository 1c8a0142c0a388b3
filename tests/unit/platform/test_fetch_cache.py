"""Fetch discipline: one fetch per URL at a time, failures remembered briefly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.web.fetch_cache import NegativeCache, SingleFlight
from shared.web.safe_fetch import FetchError, FetchPolicy, SafeFetcher


async def test_single_flight_shares_one_call_among_concurrent_callers() -> None:
    calls = 0

    async def work() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "done"

    flights: SingleFlight[str] = SingleFlight()
    results = await asyncio.gather(*(flights.run("u", work) for _ in range(50)))
    assert results == ["done"] * 50
    assert calls == 1
    assert flights.in_flight == 0
    await flights.run("u", work)  # a later call runs again
    assert calls == 2


async def test_single_flight_shares_errors_and_survives_a_caller_going_away() -> None:
    started = asyncio.Event()

    async def failing() -> str:
        started.set()
        await asyncio.sleep(0.05)
        raise FetchError("down")

    flights: SingleFlight[str] = SingleFlight()
    quitter = asyncio.create_task(flights.run("u", failing))
    await started.wait()
    stayer = asyncio.create_task(flights.run("u", failing))
    await asyncio.sleep(0)
    quitter.cancel()
    with pytest.raises(FetchError):
        await stayer


def test_negative_cache_forgets_after_its_time() -> None:
    cache = NegativeCache(seconds=0.05)
    cache.remember("u", "boom")
    assert cache.failure("u") == "boom"
    assert cache.failure("other") is None
    time.sleep(0.06)
    assert cache.failure("u") is None
    NegativeCache(seconds=0).remember("u", "boom")  # disabled: nothing kept


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[TestServer, dict[str, int]]]:
    hits = {"list": 0, "broken": 0}

    async def status_list(request: web.Request) -> web.Response:
        hits["list"] += 1
        await asyncio.sleep(0.1)
        return web.json_response({"ok": True}, headers={"Cache-Control": "max-age=60"})

    async def broken(request: web.Request) -> web.Response:
        hits["broken"] += 1
        return web.Response(status=500)

    app = web.Application()
    app.router.add_get("/list", status_list)
    app.router.add_get("/broken", broken)
    async with TestServer(app, host="127.0.0.1") as running:
        yield running, hits


async def test_the_fetcher_asks_once_per_url_and_remembers_failures(
    slow_server: tuple[TestServer, dict[str, int]],
) -> None:
    server, hits = slow_server
    origin = f"http://127.0.0.1:{server.port}"
    asked: list[str] = []
    fetcher = SafeFetcher(
        FetchPolicy(trusted_origins=frozenset({origin}), failure_ttl=30), on_fetch=asked.append
    )
    answers = await asyncio.gather(*(fetcher.fetch(f"{origin}/list") for _ in range(40)))
    assert len({body for body, _ in answers}) == 1
    assert hits["list"] == 1
    assert len(asked) == 40  # the hook sees every ask (the per-request budget counts URLs)
    for _ in range(5):
        with pytest.raises(FetchError):
            await fetcher.fetch(f"{origin}/broken")
    assert hits["broken"] == 1
