"""Verifier HTTP routes: the W3C VC-API verify endpoints."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from aiohttp import web

from services.verifier.app_keys import BATCH, INTAKE, REPLICA, VERIFIER
from services.verifier.batch import BATCH_PATH, read_batch
from services.verifier.presentations import (
    VerifyPresentationIn,
    verify_presentation_request,
)
from services.verifier.ratelimit import QUOTA
from services.verifier.trust import TrustPolicy
from shared.web.body import decode_body, dumps, json_response
from shared.web.metrics import OUTCOMES

routes = web.RouteTableDef()


class VerifyCredentialOptions(msgspec.Struct):
    """VCALM `VerifyCredentialOptions` plus ours: `trust` (`accredited` or
    `registered`) overrides the verifier's trust policy for this request
    (any other value is a 422), `recipient` (an e-mail address or identifier)
    is compared with the credential's hashed identifier. Other members are
    ignored. (The intake reads them: this type documents them.)"""

    trust: TrustPolicy | None = None
    recipient: str | None = None


class VerifyCredentialIn(msgspec.Struct):
    """VC-API `POST /credentials/verify` (W3C VCALM §3.4): the credential as
    JSON with an embedded proof, a compact VC-JWT, or an enveloped credential.
    (The endpoint also reads other forms: `services/verifier/intake.py`.)"""

    verifiableCredential: dict[str, Any] | str
    options: VerifyCredentialOptions = msgspec.field(default_factory=VerifyCredentialOptions)


@routes.post("/credentials/verify")
async def verify_credential(request: web.Request) -> web.Response:
    submission = await request.app[INTAKE].read_submission(request)
    report = await request.app[VERIFIER].verify(
        submission.item,
        submission.trust,
        recipient=submission.recipient,
        checks=submission.checks,
    )
    body = report.to_vc_api()
    request.app[OUTCOMES].count("credential_verification", body["verdict"])
    # The W3C VC-API test suites expect 200 when the credential verifies and
    # 400 with the same body when it does not (standards.md, VC-API).
    return json_response(body, status=200 if body["verified"] else 400)


@routes.post(BATCH_PATH)
async def verify_batch(request: web.Request) -> web.StreamResponse:
    """JSON Lines in, one JSON line per item out as each completes (`batch.py`)."""
    batch = request.app[BATCH]
    lines = await read_batch(request, batch.limits)
    quota = request.get(QUOTA)
    if quota is not None:  # each item counts as a request
        quota.spend(len(lines) - 1)
    media_type = request.headers["Content-Type"].split(";", 1)[0].strip().lower()
    response = web.StreamResponse(headers={"Content-Type": media_type})
    await response.prepare(request)
    try:
        async with contextlib.aclosing(batch.results(lines)) as answers:
            async for answer in answers:
                await response.write(dumps(answer) + b"\n")
        await response.write_eof()
    except ConnectionResetError:  # the client left: its remaining items are cancelled
        pass
    return response


@routes.post("/presentations/verify")
async def verify_presentation(request: web.Request) -> web.Response:
    """VC-API `POST /presentations/verify` (W3C VCALM): 200 when the presentation's
    proof and every credential in it verify, else 400 with the same body."""
    body = await decode_body(request, VerifyPresentationIn)
    verifier = request.app[VERIFIER]
    result = await verify_presentation_request(
        body,
        verifier=verifier,
        resolver=verifier.resolver,
        pathways=request.app[REPLICA].pathways.values(),
    )
    verified = bool(result["verified"])
    request.app[OUTCOMES].count("presentation_verification", "valid" if verified else "invalid")
    return json_response(result, status=200 if verified else 400)
