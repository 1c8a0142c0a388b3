"""Status lists fetched over HTTP are cached no longer than their own `ttl`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.verifier.replica import Replica
from services.verifier.sources import StatusLists
from shared.web.safe_fetch import FetchPolicy, SafeFetcher


@pytest.fixture
async def lists_server() -> AsyncIterator[tuple[str, dict[str, int]]]:
    hits = {"short": 0, "long": 0}

    async def status_list(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hits[name] += 1
        ttl = 100 if name == "short" else 600_000
        body = {"credentialSubject": {"type": "BitstringStatusList", "ttl": ttl}, "n": hits[name]}
        return web.json_response(body, headers={"Cache-Control": "max-age=300"})

    app = web.Application()
    app.router.add_get("/lists/{name}", status_list)
    async with TestServer(app, host="127.0.0.1") as server:
        yield f"http://127.0.0.1:{server.port}", hits


async def test_a_lists_ttl_shortens_its_http_lifetime(
    lists_server: tuple[str, dict[str, int]],
) -> None:
    origin, hits = lists_server
    fetcher = SafeFetcher(FetchPolicy(trusted_origins=frozenset({origin})))
    lists = StatusLists(Replica(), fetcher)
    for _ in range(3):
        await lists.get(f"{origin}/lists/short")
        await lists.get(f"{origin}/lists/long")
    assert hits == {"short": 1, "long": 1}
    await asyncio.sleep(0.15)
    again = await lists.get(f"{origin}/lists/short")
    await lists.get(f"{origin}/lists/long")
    assert isinstance(again, dict) and again["n"] == 2
    assert hits == {"short": 2, "long": 1}  # max-age=300 alone would have kept it
