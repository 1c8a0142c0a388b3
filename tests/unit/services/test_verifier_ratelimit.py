"""Token buckets and their settings (the HTTP behaviour is in tests/e2e)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.verifier.ratelimit import Buckets, RatePolicy, rate_limit_middleware
from shared.settings import SettingsError
from shared.web.problems import problem_middleware


def test_a_bucket_bursts_its_quota_then_refills_at_its_rate() -> None:
    buckets = Buckets(max_buckets=10)
    taken = [buckets.take("a", 3, 60, now=0.0)[0] for _ in range(4)]
    assert taken == [True, True, True, False]
    assert buckets.take("b", 3, 60, now=0.0)[0]  # its own bucket
    assert not buckets.take("a", 3, 60, now=19.0)[0]  # 0.95 of a token
    allowed, left = buckets.take("a", 3, 60, now=21.0)
    assert allowed and left == pytest.approx(0.05)


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


async def test_errors_of_the_handler_carry_the_fields_too() -> None:
    async def refuse(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = web.Application(
        middlewares=[problem_middleware, rate_limit_middleware(RatePolicy(address_quota=2))]
    )
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
