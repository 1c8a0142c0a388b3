"""Issuer HTTP route of the W3C VC-API: `POST /credentials/issue` (`vc_api.py`)."""

from __future__ import annotations

from aiohttp import web

from services.issuer.app_keys import VC_API
from services.issuer.awards import PLATFORM_KEY_PREFIXES
from services.issuer.domain.vc_input import IssueCredentialIn
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, json_response

vc_api_routes = web.RouteTableDef()


@vc_api_routes.post("/credentials/issue")
async def issue_credential(request: web.Request) -> web.Response:
    """VCALM §3.3: exactly 201 `{"verifiableCredential": ...}`; 400/422 for
    bad input (RFC 9457), 403 when the issuer may not issue this type."""
    tenant = require_tenant(request)
    body = await decode_body(request, IssueCredentialIn)
    key = idempotency_key(request, reserved=PLATFORM_KEY_PREFIXES)
    answer = await request.app[VC_API].issue(tenant, body, key)
    return json_response(answer, status=201)
