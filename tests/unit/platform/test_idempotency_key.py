"""The Idempotency-Key header: optional, at most one, 1 to 255 characters."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict

from shared.web.body import idempotency_key
from shared.web.problems import problem_middleware


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"key": idempotency_key(request)})


@pytest.mark.parametrize(
    ("headers", "status", "key"),
    [
        ({}, 200, None),
        ({"Idempotency-Key": "k-1"}, 200, "k-1"),
        ({"Idempotency-Key": "x" * 256}, 400, None),
        (CIMultiDict([("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-2")]), 400, None),
    ],
)
async def test_the_key_is_read_and_bounded(
    headers: Mapping[str, str], status: int, key: str | None
) -> None:
    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/", echo)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/", headers=headers)
        assert answer.status == status
        if status == 200:
            assert (await answer.json())["key"] == key
        else:
            assert answer.content_type == "application/problem+json"


@pytest.mark.parametrize(("key", "status"), [("bulk:job-1:390", 400), ("my-bulk:1", 200)])
async def test_a_reserved_prefix_is_refused(key: str, status: int) -> None:
    async def award(request: web.Request) -> web.Response:
        return web.json_response({"key": idempotency_key(request, reserved=("bulk:", "event:"))})

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/", award)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/", headers={"Idempotency-Key": key})
        assert answer.status == status
