import pytest
import structlog.testing
from aiohttp import web

from shared.settings import CommonSettings, SettingsError
from shared.web.app import create_base_app
from shared.web.auth import (
    ApiTokens,
    install_api_tokens,
    install_endorser_tokens,
    install_operator_tokens,
    require_endorser,
    require_operator,
    require_tenant,
)
from shared.web.body import json_response

from .conftest import MakeClient

PROBLEM = "application/problem+json"


def test_parse_tokens() -> None:
    tokens = ApiTokens.from_env({"MICROCRED_API_TOKENS": "t1=uni-a, t2=uni-b"})
    assert tokens.tenant_for("t1") == "uni-a"
    assert tokens.tenant_for("t2") == "uni-b"
    assert tokens.tenant_for("t3") is None
    assert tokens.tenant_for("") is None
    assert tokens.tenant_for("t1 ") is None
    assert not tokens.using_default
    assert tokens.tenants == {"uni-a", "uni-b"}


def test_default_tokens() -> None:
    tokens = ApiTokens.from_env({})
    assert tokens.using_default
    assert tokens.tenant_for("dev-token") == "demo"


def test_repr_hides_tokens() -> None:
    tokens = ApiTokens.from_env({"MICROCRED_API_TOKENS": "s3cr3t-token=uni"})
    assert "s3cr3t" not in repr(tokens)


@pytest.mark.parametrize("value", ["justatoken", "=tenant", "token=", "a=b,a=c"])
def test_invalid_token_lists_name_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="MICROCRED_API_TOKENS"):
        ApiTokens.from_env({"MICROCRED_API_TOKENS": value})


def test_default_tokens_log_a_warning() -> None:
    app = web.Application()
    with structlog.testing.capture_logs() as logs:
        install_api_tokens(app, ApiTokens.from_env({}))
    assert [e["event"] for e in logs] == ["auth.default_tokens"]
    assert logs[0]["log_level"] == "warning"
    with structlog.testing.capture_logs() as logs:
        install_api_tokens(web.Application(), ApiTokens.parse("x=y"))
    assert logs == []


async def test_require_tenant(make_client: MakeClient) -> None:
    app = create_base_app(CommonSettings(service="t"), openapi={})
    install_api_tokens(app, ApiTokens.parse("good=uni-a"))

    async def whoami(request: web.Request) -> web.Response:
        return json_response({"tenant": require_tenant(request)})

    app.router.add_get("/whoami", whoami)
    client = await make_client(app)
    ok = await client.get("/whoami", headers={"Authorization": "Bearer good"})
    assert ok.status == 200
    assert await ok.json() == {"tenant": "uni-a"}
    lower = await client.get("/whoami", headers={"Authorization": "bearer good"})
    assert lower.status == 200

    for headers, error in [
        ({}, None),
        ({"Authorization": "Bearer bad"}, "invalid_token"),
        ({"Authorization": "Basic Z29vZA=="}, "invalid_request"),
        ({"Authorization": "Bearer "}, "invalid_request"),
    ]:
        resp = await client.get("/whoami", headers=headers)
        assert resp.status == 401
        assert resp.content_type == PROBLEM
        challenge = resp.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer")
        assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
        body = await resp.json(content_type=PROBLEM)
        assert body["status"] == 401
        assert "good" not in str(body)


def test_operator_tokens_have_no_default() -> None:
    assert ApiTokens.operators_from_env({}) is None
    operators = ApiTokens.operators_from_env({"MICROCRED_OPERATOR_TOKENS": "op1=ministry"})
    assert operators is not None and operators.tenant_for("op1") == "ministry"
    with pytest.raises(SettingsError, match="MICROCRED_OPERATOR_TOKENS"):
        ApiTokens.operators_from_env({"MICROCRED_OPERATOR_TOKENS": "op1"})


def test_a_token_cannot_be_tenant_and_operator() -> None:
    app = web.Application()
    install_api_tokens(app, ApiTokens.parse("same=uni-a"))
    with pytest.raises(SettingsError, match="MICROCRED_OPERATOR_TOKENS"):
        install_operator_tokens(app, ApiTokens.parse("same=ministry"))


async def test_tenant_and_operator_tokens_are_separate(make_client: MakeClient) -> None:
    app = create_base_app(CommonSettings(service="t"), openapi={})
    install_api_tokens(app, ApiTokens.parse("tenant-tok=uni-a"))
    install_operator_tokens(app, ApiTokens.parse("op-tok=ministry"))

    async def tenant(request: web.Request) -> web.Response:
        return json_response({"tenant": require_tenant(request)})

    async def operator(request: web.Request) -> web.Response:
        return json_response({"operator": require_operator(request)})

    app.router.add_get("/tenant", tenant)
    app.router.add_get("/operator", operator)
    client = await make_client(app)

    async def get(path: str, token: str | None) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        resp = await client.get(path, headers=headers)
        return resp.status, await resp.json(content_type=None)

    assert await get("/tenant", "tenant-tok") == (200, {"tenant": "uni-a"})
    assert await get("/operator", "op-tok") == (200, {"operator": "ministry"})
    for path, token, status in [
        ("/operator", "tenant-tok", 403),
        ("/tenant", "op-tok", 403),
        ("/operator", "unknown", 401),
        ("/operator", None, 401),
    ]:
        got, body = await get(path, token)
        assert got == status, (path, token, body)
        assert isinstance(body, dict) and body["status"] == status


async def test_without_operators_nobody_is_operator(make_client: MakeClient) -> None:
    app = create_base_app(CommonSettings(service="t"), openapi={})
    install_api_tokens(app, ApiTokens.parse("tenant-tok=uni-a"))
    install_operator_tokens(app, None)

    async def operator(request: web.Request) -> web.Response:
        return json_response({"operator": require_operator(request)})

    app.router.add_get("/operator", operator)
    client = await make_client(app)
    resp = await client.get("/operator", headers={"Authorization": "Bearer tenant-tok"})
    assert resp.status == 403


def test_names_starting_with_at_are_reserved() -> None:
    # "@operator" and "@endorser:<name>" are the platform's own identities.
    with pytest.raises(SettingsError, match="cannot start with '@'"):
        ApiTokens.parse("t=@operator")


def test_endorser_tokens_have_no_default_and_stay_separate() -> None:
    assert ApiTokens.endorsers_from_env({}) is None
    endorsers = ApiTokens.endorsers_from_env({"MICROCRED_ENDORSER_TOKENS": "e1=Acme"})
    assert endorsers is not None and endorsers.tenant_for("e1") == "Acme"
    app = web.Application()
    install_api_tokens(app, ApiTokens.parse("same=uni-a"))
    with pytest.raises(SettingsError, match="MICROCRED_ENDORSER_TOKENS"):
        install_endorser_tokens(app, ApiTokens.parse("same=Acme"))


async def test_only_endorsers_endorse(make_client: MakeClient) -> None:
    app = create_base_app(CommonSettings(service="t"), openapi={})
    install_api_tokens(app, ApiTokens.parse("tenant-tok=uni-a"))
    install_operator_tokens(app, ApiTokens.parse("op-tok=ministry"))
    install_endorser_tokens(app, ApiTokens.parse("end-tok=Acme"))

    async def endorser(request: web.Request) -> web.Response:
        return json_response({"endorser": require_endorser(request)})

    async def tenant(request: web.Request) -> web.Response:
        return json_response({"tenant": require_tenant(request)})

    async def operator(request: web.Request) -> web.Response:
        return json_response({"operator": require_operator(request)})

    app.router.add_get("/endorser", endorser)
    app.router.add_get("/tenant", tenant)
    app.router.add_get("/operator", operator)
    client = await make_client(app)

    async def status(path: str, token: str) -> int:
        return (await client.get(path, headers={"Authorization": f"Bearer {token}"})).status

    assert await status("/endorser", "end-tok") == 200
    assert await status("/endorser", "tenant-tok") == 403  # a provider never endorses as one
    assert await status("/endorser", "op-tok") == 403
    assert await status("/endorser", "nobody") == 401
    assert await status("/tenant", "end-tok") == 403  # nor does an endorser act as a tenant
    assert await status("/operator", "end-tok") == 403  # nor as the operator
