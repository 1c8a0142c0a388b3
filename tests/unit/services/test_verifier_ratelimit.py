"""Token buckets and their settings (the HTTP behaviour is in tests/e2e)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.verifier.ratelimit import (
    QUOTA,
    Buckets,
    RatePolicy,
    rate_limit_fields,
    rate_limit_middleware,
)
from shared.settings import SettingsError
from shared.web.problems import problem_middleware


def test_a_bucket_bursts_its_quota_then_refills_at_its_rate() -> None:
    buckets = Buckets(max_buckets=10)
    taken = [buckets.take("a", 3, 60, now=0.0)[0] for _ in range(4)]
    assert taken == [True, True, True, False]
    assert buckets.take("b", 3, 60, now=0.0)[0]  # its own bucket
    assert not buckets.take("a", 3, 60, now=19.0)[0]  # 0.95 of a token
    allowed, bucket = buckets.take("a", 3, 60, now=21.0)
    assert allowed and bucket.tokens == pytest.approx(0.05)


def test_least_recently_used_buckets_are_dropped() -> None:
    buckets = Buckets(max_buckets=2)
    for key in ("a", "b", "c"):
        buckets.take(key, 1, 60, now=0.0)
    assert buckets.take("a", 1, 60, now=0.0)[0]  # forgotten: a full bucket again


def test_policy_from_the_environment() -> None:
    policy = RatePolicy.from_env(
        {
            "MICROCRED_VERIFIER_API_KEYS": "board=5000, other=10",
            "MICROCRED_VERIFIER_ADDRESS_QUOTA": "7",
        }
    )
    assert policy.api_keys == {"board": 5000, "other": 10}
    assert (policy.address_quota, policy.window_s) == (7, 60)
    for bad in ("board", "board=", "=5", "board=-1", "board=many"):
        with pytest.raises(SettingsError):
            RatePolicy.from_env({"MICROCRED_VERIFIER_API_KEYS": bad})


def limited_app(quota: int) -> web.Application:
    app = web.Application(
        middlewares=[problem_middleware, rate_limit_middleware(RatePolicy(address_quota=quota))]
    )
    app.on_response_prepare.append(rate_limit_fields)
    return app


async def test_errors_of_the_handler_carry_the_fields_too() -> None:
    async def refuse(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = limited_app(2)
    app.router.add_get("/x", refuse)
    async with TestClient(TestServer(app)) as client:
        first = await client.get("/x")
        assert first.status == 404
        assert first.headers["RateLimit"].startswith('"address";r=1;')
        await client.get("/x")
        third = await client.get("/x")
        assert third.status == 429
        assert third.content_type == "application/problem+json"
        assert int(third.headers["Retry-After"]) == 30
        assert third.headers["RateLimit"].startswith('"address";r=0;')


async def test_a_streamed_answer_carries_the_fields_and_spends_per_item() -> None:
    """A batch's answer is streamed (prepared by its handler); its other
    items are counted after it is read, and the next request waits."""

    async def batch(request: web.Request) -> web.StreamResponse:
        request[QUOTA].spend(9)  # a batch of ten items
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"{}\n")
        return response

    app = limited_app(60)
    app.router.add_post("/batch", batch)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/batch")
        assert answer.status == 200 and answer.headers["RateLimit"].startswith('"address";r=50;')
        for _ in range(5):
            await client.post("/batch")  # 60 tokens spent: the bucket at -0.x
        refused = await client.post("/batch")
        assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1


def test_the_client_behind_a_trusted_proxy_is_the_forwarded_address() -> None:
    from aiohttp.test_utils import make_mocked_request

    policy = RatePolicy.from_env({"MICROCRED_VERIFIER_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2"})

    def client(peer: str, forwarded: str | None) -> str:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        request = make_mocked_request("POST", "/credentials/verify", headers=headers)
        return policy.client_address(request.clone(remote=peer))

    assert client("10.0.0.1", "203.0.113.9, 10.0.0.2") == "203.0.113.9"
    assert client("10.0.0.1", "198.51.100.1, 203.0.113.9") == "203.0.113.9"  # spoofed left part
    assert client("192.0.2.7", "203.0.113.9") == "192.0.2.7"  # not a proxy: header ignored
    assert client("10.0.0.1", None) == "10.0.0.1"
