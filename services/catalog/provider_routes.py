"""Provider registry routes: a provider registers and edits itself (tenant
token); the operator accredits and changes status (operator token); anyone
reads a provider's public record."""

from __future__ import annotations

from aiohttp import web

from services.catalog.app_keys import PROVIDERS
from services.catalog.provider_domain import (
    AccreditationChangeIn,
    AccreditationIn,
    GenericIssuanceIn,
    ProviderChangeIn,
    ProviderIn,
    ProviderStatusIn,
)
from shared.events import ProviderPublished
from shared.providers import provider_view
from shared.web.auth import require_operator, require_tenant
from shared.web.body import decode_body, idempotency_key, json_response

provider_routes = web.RouteTableDef()


def _answer(event: ProviderPublished, created: bool) -> web.Response:
    return json_response(
        provider_view(event),
        status=201 if created else 200,
        headers={"Location": event.provider_id},
    )


def _provider_id(request: web.Request) -> str:
    return request.app[PROVIDERS].provider_id(request.match_info["key"])


@provider_routes.post("/providers")
async def register_provider(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, ProviderIn)
    event, created = await request.app[PROVIDERS].register(tenant, body, idempotency_key(request))
    return _answer(event, created)


@provider_routes.get("/providers/{key}")
async def get_provider(request: web.Request) -> web.Response:
    event = await request.app[PROVIDERS].get(_provider_id(request))
    return json_response(provider_view(event))


@provider_routes.patch("/providers/{key}")
async def change_provider(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, ProviderChangeIn)
    event, _ = await request.app[PROVIDERS].change(
        tenant, _provider_id(request), body, idempotency_key(request)
    )
    return json_response(provider_view(event))


@provider_routes.post("/providers/{key}/accreditations")
async def accredit_provider(request: web.Request) -> web.Response:
    operator = require_operator(request)
    body = await decode_body(request, AccreditationIn)
    event, created = await request.app[PROVIDERS].accredit(
        operator, _provider_id(request), body, idempotency_key(request)
    )
    return _answer(event, created)


@provider_routes.patch("/providers/{key}/accreditations/{accreditation}")
async def change_accreditation(request: web.Request) -> web.Response:
    operator = require_operator(request)
    body = await decode_body(request, AccreditationChangeIn)
    event, _ = await request.app[PROVIDERS].change_accreditation(
        operator,
        _provider_id(request),
        request.match_info["accreditation"],
        body,
        idempotency_key(request),
    )
    return json_response(provider_view(event))


@provider_routes.put("/providers/{key}/status")
async def set_provider_status(request: web.Request) -> web.Response:
    operator = require_operator(request)
    body = await decode_body(request, ProviderStatusIn)
    event, _ = await request.app[PROVIDERS].set_status(
        operator, _provider_id(request), body, idempotency_key(request)
    )
    return json_response(provider_view(event))


@provider_routes.put("/providers/{key}/generic-issuance")
async def set_generic_issuance(request: web.Request) -> web.Response:
    """The operator lets the provider's issuers issue any credential type
    through the VC-API issue endpoint (`{enabled: true}`) or stops it."""
    operator = require_operator(request)
    body = await decode_body(request, GenericIssuanceIn)
    event, _ = await request.app[PROVIDERS].set_generic_issuance(
        operator, _provider_id(request), body, idempotency_key(request)
    )
    return json_response(provider_view(event))
