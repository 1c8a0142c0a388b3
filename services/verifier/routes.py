"""Verifier HTTP routes: the W3C VC-API verify endpoints."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from services.verifier.app_keys import VERIFIER
from services.verifier.presentations import (
    VerifyPresentationIn,
    verify_presentation_request,
)
from services.verifier.trust import TrustPolicy
from shared.web.body import decode_body, json_response
from shared.web.metrics import OUTCOMES

routes = web.RouteTableDef()


class VerifyCredentialOptions(msgspec.Struct):
    """VCALM `VerifyCredentialOptions` plus ours: `trust` (`accredited` or
    `registered`) overrides the verifier's trust policy for this request;
    any other value is a 422. Other members are ignored."""

    trust: TrustPolicy | None = None


class VerifyCredentialIn(msgspec.Struct):
    """VC-API `POST /credentials/verify` (W3C VCALM §3.4): the credential as
    JSON with an embedded proof, a compact VC-JWT, or an enveloped credential."""

    verifiableCredential: dict[str, Any] | str
    options: VerifyCredentialOptions = msgspec.field(default_factory=VerifyCredentialOptions)


@routes.post("/credentials/verify")
async def verify_credential(request: web.Request) -> web.Response:
    body = await decode_body(request, VerifyCredentialIn)
    report = await request.app[VERIFIER].verify(body.verifiableCredential, body.options.trust)
    request.app[OUTCOMES].count("credential_verification", report.verdict)
    # The W3C VC-API test suites expect 200 when the credential verifies and
    # 400 with the same body when it does not (standards.md, VC-API).
    return json_response(report.to_vc_api(), status=200 if report.verified else 400)


@routes.post("/presentations/verify")
async def verify_presentation(request: web.Request) -> web.Response:
    """VC-API `POST /presentations/verify` (W3C VCALM): 200 when the presentation's
    proof and every credential in it verify, else 400 with the same body."""
    body = await decode_body(request, VerifyPresentationIn)
    verifier = request.app[VERIFIER]
    result = await verify_presentation_request(body, verifier=verifier, resolver=verifier.resolver)
    verified = bool(result["verified"])
    request.app[OUTCOMES].count("presentation_verification", "valid" if verified else "invalid")
    return json_response(result, status=200 if verified else 400)
