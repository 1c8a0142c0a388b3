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
from shared.credentials.errors import CredentialError
from shared.credentials.verify import requested_checks
from shared.web.body import decode_body, json_response
from shared.web.metrics import OUTCOMES
from shared.web.problems import Problem

routes = web.RouteTableDef()


class VerifyCredentialIn(msgspec.Struct):
    """VC-API `POST /credentials/verify` (W3C VCALM §3.4): the credential as
    JSON with an embedded proof, a compact VC-JWT, or an enveloped credential."""

    verifiableCredential: dict[str, Any] | str
    options: dict[str, Any] = {}


@routes.post("/credentials/verify")
async def verify_credential(request: web.Request) -> web.Response:
    body = await decode_body(request, VerifyCredentialIn)
    if isinstance(body.verifiableCredential, str) and body.verifiableCredential.lstrip().startswith(
        ("{", "[")
    ):
        # VC Data Integrity §4.4: a secured document that is not a map is refused.
        raise Problem(422, "verifiableCredential is a JSON object or a compact JWT, not JSON text")
    try:
        checks = requested_checks(body.options.get("checks"))
    except CredentialError as exc:
        raise Problem(422, exc.detail) from exc
    report = await request.app[VERIFIER].verify(body.verifiableCredential, checks)
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
