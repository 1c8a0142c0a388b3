import asyncio
import contextlib
import re
import subprocess
import sys

import msgspec
import pytest
import structlog.testing
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

import shared.service
from shared.settings import CommonSettings
from shared.web.app import add_ready_check, create_base_app
from shared.web.body import decode_body, json_response, read_json
from shared.web.problems import Problem

from .conftest import MakeClient

PROBLEM = "application/problem+json"


class Item(msgspec.Struct):
    name: str
    count: int
    tags: list[str] = []


def make_app(max_body: int = 1024) -> web.Application:
    settings = CommonSettings(service="test", max_body_bytes=max_body)
    app = create_base_app(settings, openapi={"info": {"title": "t", "version": "1"}, "paths": {}})

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail /etc/passwd")

    async def teapot(request: web.Request) -> web.Response:
        raise Problem(418, "short and stout", type="https://example.org/teapot", extra={"x": 1})

    async def echo(request: web.Request) -> web.Response:
        return json_response({"value": await read_json(request)})

    async def item(request: web.Request) -> web.Response:
        got = await decode_body(request, Item)
        return json_response(got, status=201)

    async def raw_read(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def item_by_id(request: web.Request) -> web.Response:
        return json_response({"id": request.match_info["id"]})

    app.router.add_get("/boom", boom)
    app.router.add_get("/teapot", teapot)
    app.router.add_post("/echo", echo)
    app.router.add_post("/items", item)
    app.router.add_post("/raw", raw_read)
    app.router.add_get("/items/{id}", item_by_id)
    return app


async def assert_problem(resp: web.Response, status: int) -> dict[str, object]:
    assert resp.status == status
    assert resp.content_type == PROBLEM
    body = await resp.json(content_type=PROBLEM)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert body["type"]
    assert "instance" in body
    assert "Traceback" not in str(body)
    return body


async def test_unexpected_exception_is_a_generic_500(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    resp = await client.get("/boom", headers={"X-Request-Id": "req-123"})
    body = await assert_problem(resp, 500)
    assert "secret" not in str(body)
    assert "RuntimeError" not in str(body)
    assert "req-123" in str(body["detail"])
    assert body["request_id"] == "req-123"
    assert resp.headers["X-Request-Id"] == "req-123"


async def test_problem_raised_by_handler(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    resp = await client.get("/teapot")
    body = await assert_problem(resp, 418)
    assert body["type"] == "https://example.org/teapot"
    assert body["detail"] == "short and stout"
    assert body["instance"] == "/teapot"
    assert body["x"] == 1


async def test_not_found_and_method_not_allowed(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    body = await assert_problem(await client.get("/nope"), 404)
    assert body["title"] == "Not Found"
    resp = await client.delete("/teapot")
    await assert_problem(resp, 405)
    assert "GET" in resp.headers["Allow"]


async def test_request_id_generated_or_replaced_when_unsafe(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    resp = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])
    resp = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert resp.headers["X-Request-Id"] != "bad id\twith spaces"
    resp = await client.get("/nope", headers={"X-Request-Id": "abc"})
    assert resp.headers["X-Request-Id"] == "abc"


async def test_read_json_errors(make_client: MakeClient) -> None:
    client = await make_client(make_app(max_body=64))
    ok = await client.post(
        "/echo", data=b'{"a": [1, 2]}', headers={"Content-Type": "application/json"}
    )
    assert ok.status == 200
    assert await ok.json() == {"value": {"a": [1, 2]}}
    ld = await client.post("/echo", data=b"[1]", headers={"Content-Type": "application/ld+json"})
    assert ld.status == 200
    await assert_problem(
        await client.post("/echo", data=b"{}", headers={"Content-Type": "text/plain"}), 415
    )
    body = await assert_problem(
        await client.post("/echo", data=b'{"a": ', headers={"Content-Type": "application/json"}),
        400,
    )
    assert "not valid JSON" in str(body["detail"])
    await assert_problem(
        await client.post("/echo", data=b"", headers={"Content-Type": "application/json"}), 400
    )
    big = b'{"a": "' + b"x" * 200 + b'"}'
    await assert_problem(
        await client.post("/echo", data=big, headers={"Content-Type": "application/json"}), 413
    )


async def test_oversize_chunked_body_without_content_length(make_client: MakeClient) -> None:
    client = await make_client(make_app(max_body=64))

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 50

    resp = await client.post("/echo", data=chunks(), headers={"Content-Type": "application/json"})
    await assert_problem(resp, 413)
    # aiohttp's own client_max_size check (request.read) is rendered as a problem too
    resp = await client.post("/raw", data=chunks())
    await assert_problem(resp, 413)


async def test_decode_body(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    resp = await client.post("/items", json={"name": "a", "count": 2})
    assert resp.status == 201
    assert await resp.json() == {"name": "a", "count": 2, "tags": []}
    body = await assert_problem(await client.post("/items", json={"name": "a", "count": "2"}), 422)
    assert body["errors"] == [{"path": "$.count", "message": "Expected `int`, got `str`"}]
    body = await assert_problem(
        await client.post("/items", json={"name": "a", "count": 1, "tags": [1]}), 422
    )
    assert body["errors"][0]["path"] == "$.tags[0]"  # type: ignore[index]
    body = await assert_problem(await client.post("/items", json={"count": 1}), 422)
    assert "name" in body["errors"][0]["message"]  # type: ignore[index]
    body = await assert_problem(await client.post("/items", json=[1]), 422)
    assert body["errors"][0]["path"] == "$"  # type: ignore[index]


async def test_healthz_readyz(make_client: MakeClient) -> None:
    app = make_app()
    state = {"kafka": False}
    add_ready_check(app, "kafka", lambda: state["kafka"], details=lambda: {"lag": 3})
    add_ready_check(app, "redis", lambda: True)
    client = await make_client(app)
    assert (await client.get("/healthz")).status == 200
    body = await assert_problem(await client.get("/readyz"), 503)
    assert body["failing"] == ["kafka"]
    assert body["checks"]["kafka"] == {"ok": False, "lag": 3}  # type: ignore[index]
    state["kafka"] = True
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_ready_check_that_raises_counts_as_failing(make_client: MakeClient) -> None:
    app = make_app()

    def broken() -> bool:
        raise RuntimeError("x")

    add_ready_check(app, "broken", broken)
    client = await make_client(app)
    body = await assert_problem(await client.get("/readyz"), 503)
    assert body["failing"] == ["broken"]


async def test_metrics_use_route_templates(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    await client.get("/items/1")
    await client.get("/items/2")
    await client.get("/boom")
    await client.get("/does-not-exist")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(await resp.text())
        for s in family.samples
    }
    key = ("http_requests_total", (("method", "GET"), ("route", "/items/{id}"), ("status", "200")))
    assert samples[key] == 2
    boom = ("http_requests_total", (("method", "GET"), ("route", "/boom"), ("status", "500")))
    assert samples[boom] == 1
    missing = (
        "http_requests_total",
        (("method", "GET"), ("route", "unmatched"), ("status", "404")),
    )
    assert samples[missing] == 1
    assert any(name == "http_request_duration_seconds_bucket" for name, _ in samples)


async def test_each_app_has_its_own_registry(make_client: MakeClient) -> None:
    first = await make_client(make_app())
    second = await make_client(make_app())
    await first.get("/items/1")
    text = await (await second.get("/metrics")).text()
    assert "/items/{id}" not in text


async def test_openapi_merges_shared_paths(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    doc = await (await client.get("/openapi.json")).json()
    assert doc["info"]["title"] == "t"
    assert {"/healthz", "/readyz", "/metrics", "/openapi.json"} <= set(doc["paths"])
    assert "Problem" in doc["components"]["schemas"]


async def test_500_is_logged_with_the_traceback(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    with structlog.testing.capture_logs() as logs:
        await client.get("/boom", headers={"X-Request-Id": "r-9"})
    failed = [entry for entry in logs if entry["event"] == "request.failed"]
    assert len(failed) == 1
    assert failed[0]["log_level"] == "error"
    assert failed[0]["exc_info"] is True
    assert failed[0]["path"] == "/boom"


async def test_json_content_type_with_parameters(make_client: MakeClient) -> None:
    client = await make_client(make_app())
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    resp = await client.post("/echo", data=b'{"k": "v"}', headers=headers)
    assert resp.status == 200
    assert await resp.json() == {"value": {"k": "v"}}
    vc = await client.post("/echo", data=b"{}", headers={"Content-Type": "application/vc+json"})
    assert vc.status == 200
    html = await client.post("/echo", data=b"{}", headers={"Content-Type": "application/jsonx"})
    assert html.status == 415


def test_extension_members_never_override_core_members() -> None:
    problem = Problem(400, "d", extra={"status": 200, "type": "x", "hint": "h"})
    body = problem.body("/p")
    assert body == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "d",
        "instance": "/p",
        "hint": "h",
    }


async def test_a_background_task_that_loses_a_cancellation_still_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loop whose first cancellation is lost (as in a Redis call under
    load) is cancelled again, so the app's shutdown ends."""
    monkeypatch.setattr(shared.service, "CANCEL_AGAIN_SECONDS", 0.1)
    cancellations = []

    async def work(app: web.Application) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations.append(1)
                if len(cancellations) == 1:
                    continue  # lost
                raise

    context = shared.service.background_task(work)(web.Application())
    await anext(context)
    await asyncio.sleep(0)  # the task starts

    async def shut_down() -> None:
        with contextlib.suppress(StopAsyncIteration):
            await anext(context)

    stopping = asyncio.create_task(shut_down())
    done, _ = await asyncio.wait({stopping}, timeout=1.0)
    stopping.cancel()  # (only when it hangs: the second cancellation ends the loop)
    assert stopping in done, "the shutdown waited on a task that lost its cancellation"
    assert len(cancellations) == 2


async def test_a_background_task_that_dies_is_logged_at_once() -> None:
    async def work(app: web.Application) -> None:
        raise RuntimeError("Redis went away outside the loop's try")

    context = shared.service.background_task(work)(web.Application())
    with structlog.testing.capture_logs() as logs:
        await anext(context)
        await asyncio.sleep(0.01)  # the task runs and ends
    assert [e["event"] for e in logs] == ["background_task.died"], logs
    with contextlib.suppress(StopAsyncIteration, RuntimeError):
        await anext(context)


def test_a_tuned_process_runs_on_uvloop_and_collects_only_what_it_made_since() -> None:
    """In a fresh interpreter (the tests' own garbage collector stays as it is)."""
    probe = (
        "import asyncio, gc, uvloop\n"
        "from shared.web.app import GC_YOUNG_THRESHOLD, tune_process\n"
        "before = gc.get_threshold()\n"
        "tune_process()\n"
        "policy = asyncio.get_event_loop_policy()\n"
        "print(isinstance(policy, uvloop.EventLoopPolicy), gc.get_freeze_count() > 10_000,\n"
        "      gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:]), gc.isenabled())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "True", "True", "True"], done.stderr
