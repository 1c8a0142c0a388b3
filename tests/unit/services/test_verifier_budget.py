"""The verifier's work budget: JSON shape, per-credential caps, fetches, time."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.verifier.budget import (
    LimitExceeded,
    Limits,
    RequestBudget,
    check_credential,
    check_json,
    check_unwrapped,
)
from services.verifier.offload import CanonPool
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.errors import ContextError
from shared.credentials.jsonld import default_registry
from shared.credentials.jwt import sign_vc_jwt
from shared.settings import SettingsError

LIMITS = Limits(max_json_depth=5, max_array_length=3, max_json_values=20, max_fetches=2)


def limit_of(error: pytest.ExceptionInfo[LimitExceeded]) -> object:
    return error.value.extra["limit"]


def test_json_within_the_limits_passes() -> None:
    check_json({"a": [1, 2, 3], "b": {"c": {"d": "e"}}}, LIMITS)


@pytest.mark.parametrize(
    ("doc", "limit"),
    [
        ({"a": [1, 2, 3, 4]}, "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH"),
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "MICROCRED_VERIFIER_MAX_JSON_DEPTH"),
        ({f"k{i}": i for i in range(25)}, "MICROCRED_VERIFIER_MAX_JSON_VALUES"),
    ],
)
def test_each_json_cap_names_its_setting(doc: object, limit: str) -> None:
    with pytest.raises(LimitExceeded) as error:
        check_json(doc, LIMITS)
    assert limit_of(error) == limit
    assert error.value.status == 422


def test_deep_json_fails_without_recursion() -> None:
    doc: Any = 1
    for _ in range(100_000):
        doc = [doc]
    with pytest.raises(LimitExceeded):
        check_json(doc, Limits())


def test_proofs_and_status_entries_are_capped() -> None:
    entries = [{"type": "BitstringStatusListEntry"}] * 9
    with pytest.raises(LimitExceeded) as error:
        check_credential({"credentialStatus": entries}, Limits())
    assert limit_of(error) == "MICROCRED_VERIFIER_MAX_STATUS_ENTRIES"
    check_credential({"credentialStatus": entries[:8]}, Limits())
    with pytest.raises(LimitExceeded) as error:
        check_credential({"proof": [{}] * 5}, Limits())
    assert limit_of(error) == "MICROCRED_VERIFIER_MAX_PROOFS"


def test_a_credential_is_checked_like_a_body_however_it_came() -> None:
    """A VC-JWT's payload, and a credential sent as text, in a form, a file,
    a fetched URL or a batch line: the body check sees none of them."""
    key = generate_ed25519()
    issuer = key.kid.partition("#")[0]
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"result": list(range(200))},
    }
    token = sign_vc_jwt(doc, key)
    with pytest.raises(LimitExceeded) as error:
        check_unwrapped(Limits(), doc, token)
    assert limit_of(error) == "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH"
    assert "(JWT payload)" in str(error.value)
    with pytest.raises(LimitExceeded) as error:
        check_unwrapped(Limits(), doc, None)
    assert limit_of(error) == "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH"
    doc["credentialSubject"]["result"] = list(range(128))
    check_unwrapped(Limits(), doc, None)


def test_fetches_are_counted_by_distinct_url() -> None:
    budget = RequestBudget(LIMITS)
    for _ in range(3):
        budget.spend_fetch("https://a.example/1")
    budget.spend_fetch("https://a.example/2")
    with pytest.raises(LimitExceeded):
        budget.spend_fetch("https://a.example/3")
    assert budget.refused is not None


def test_limits_come_from_the_environment() -> None:
    env = {"MICROCRED_VERIFIER_MAX_STATUS_ENTRIES": "3", "MICROCRED_VERIFIER_CANON_MS": "500"}
    limits = Limits.from_env(env)
    assert (limits.max_status_entries, limits.canon_ms, limits.max_proofs) == (3, 500, 4)
    with pytest.raises(SettingsError):
        Limits.from_env({"MICROCRED_VERIFIER_MAX_FETCHES": "0"})


def many_results(count: int) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"]},
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "result": [{"type": ["Result"], "value": str(i)} for i in range(count)],
        },
    }


def test_canonicalisation_stops_at_its_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(ContextError) as error:
        default_registry().canonize(many_results(3000), seconds=0.3)
    assert error.value.code == "canonicalization_too_slow"
    assert time.monotonic() - started < 1.5


async def test_the_pool_gives_the_same_nquads_and_refuses_slow_documents() -> None:
    pool = CanonPool(1, canon_ms=300, inline_below=1024)
    pool.start()
    try:
        await pool.warm_up()
        small, large = many_results(1), many_results(60)
        assert await pool.canonize(small, "") == default_registry().canonize(small)
        assert await pool.canonize(large, "") == default_registry().canonize(large)
        started = time.monotonic()
        with pytest.raises(LimitExceeded) as error:
            await pool.canonize(many_results(3000), "")
        assert error.value.extra["limit"] == "MICROCRED_VERIFIER_CANON_MS"
        assert time.monotonic() - started < 2
        with pytest.raises(ContextError):  # the credential's own fault stays a ContextError
            await pool.canonize({**large, "surprise": 1}, "")
    finally:
        pool.stop()


def test_a_verified_list_version_is_reused_until_it_ages() -> None:
    from shared.credentials.list_cache import VerifiedLists

    cache = VerifiedLists(max_age=0.05)
    cache.put("https://s.example/1", "jwt-v1", {"id": "v1"})
    assert cache.get("https://s.example/1", "jwt-v1") == {"id": "v1"}
    assert cache.get("https://s.example/1", "jwt-v2") is None  # a new version
    assert cache.get("https://s.example/2", "jwt-v1") is None
    cache.put("https://s.example/3", {"b": 1, "a": 2}, {"id": "json"})
    assert cache.get("https://s.example/3", {"a": 2, "b": 1}) == {"id": "json"}
    time.sleep(0.06)
    assert cache.get("https://s.example/1", "jwt-v1") is None


async def test_the_middleware_refuses_slow_requests_and_overspent_fetches() -> None:
    import asyncio
    import contextlib

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from services.verifier.budget import budget_middleware, spend_fetch
    from shared.web.problems import problem_middleware

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    async def fetching(request: web.Request) -> web.Response:
        for n in range(3):  # a refusal is swallowed, as the core does ("not checked")
            with contextlib.suppress(LimitExceeded):
                spend_fetch(f"https://lists.example/{n}")
        return web.json_response({"verified": False}, status=400)

    limits = Limits(request_ms=200, max_fetches=2, max_array_length=2)
    app = web.Application(middlewares=[problem_middleware, budget_middleware(limits)])
    app.router.add_post("/slow", slow)
    app.router.add_post("/fetching", fetching)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/slow", json={})
        assert answer.status == 503
        assert (await answer.json())["type"] == "urn:microcred:problem:deadline-exceeded"
        answer = await client.post("/fetching", json={})
        assert answer.status == 422
        assert (await answer.json())["limit"] == "MICROCRED_VERIFIER_MAX_FETCHES"
        answer = await client.post("/fetching", json={"a": [1, 2, 3]})
        assert (await answer.json())["limit"] == "MICROCRED_VERIFIER_MAX_ARRAY_LENGTH"
        spend_fetch("https://outside.example/")  # no request: no budget, no limit


async def test_the_pool_serves_the_example_contexts_only_when_told() -> None:
    """Inline and in the worker process alike (MICROCRED_JSONLD_EXAMPLE_CONTEXTS)."""
    examples = "https://www.w3.org/ns/credentials/examples/v2"
    small, large = many_results(1), many_results(60)
    for doc in (small, large):
        doc["@context"] = [*doc["@context"], examples]
    strict = CanonPool(0, canon_ms=2000, inline_below=1024)
    with pytest.raises(ContextError) as error:
        await strict.canonize(small, "")
    assert error.value.code == "context_not_bundled"
    pool = CanonPool(1, canon_ms=2000, inline_below=1024, allow_examples=True)
    pool.start()
    try:
        await pool.warm_up()
        expected = default_registry(allow_examples=True)
        assert await pool.canonize(small, "") == expected.canonize(small)
        assert await pool.canonize(large, "") == expected.canonize(large)
    finally:
        pool.stop()
