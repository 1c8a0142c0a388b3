"""Revocation HTTP routes: VC-API status updates and the public status lists."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from aiohttp import web

from services.revocation.app_keys import (
    PUBLIC_LISTS,
    REVOCATION_SETTINGS,
    STATUS_CHANGES,
)
from services.revocation.changes import Requester
from services.revocation.representations import representation
from shared.service import STATE_REPLICA
from shared.status_reasons import StatusReason
from shared.web.auth import require_tenant, token_fingerprint
from shared.web.body import decode_body, idempotency_key, json_response
from shared.web.problems import REQUEST_ID, Problem

routes = web.RouteTableDef()

Purpose = Literal["revocation", "suspension"]


class StatusIn(msgspec.Struct):
    type: Annotated[str, msgspec.Meta(max_length=100)]
    statusPurpose: Purpose


class StatusUpdateIn(msgspec.Struct):
    """VC-API `POST /credentials/status` (W3C VCALM §3.5 "Update Status")."""

    credentialId: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    credentialStatus: StatusIn | Annotated[list[StatusIn], msgspec.Meta(min_length=1, max_length=1)]
    status: bool
    # Ours, additive: why (shared.status_reasons), for the audit trail and,
    # when `public`, for verifiers.
    reason: StatusReason | None = None


SUPPORTED_TYPES = frozenset({"BitstringStatusListEntry"})


@routes.post("/credentials/status")
async def update_status(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, StatusUpdateIn)
    wanted = body.credentialStatus
    status = wanted[0] if isinstance(wanted, list) else wanted
    if status.type not in SUPPORTED_TYPES:
        raise Problem(422, f"unsupported credentialStatus.type {status.type!r}")
    key = idempotency_key(request)
    who = Requester(tenant, token_fingerprint(request), request.get(REQUEST_ID))
    changed = await request.app[STATUS_CHANGES].change(
        who, body.credentialId, status.statusPurpose, body.status, key, body.reason
    )
    return json_response(
        {
            "credentialId": body.credentialId,
            "statusPurpose": status.statusPurpose,
            "status": body.status,
            "changed": changed,
        }
    )


@routes.get("/credentials/{credential_id}/status-history")
async def get_status_history(request: web.Request) -> web.Response:
    """The audit trail of one of the tenant's credentials (who, when, why)."""
    tenant = require_tenant(request)
    credential_id = request.match_info["credential_id"]
    entries = await request.app[STATUS_CHANGES].audit_trail(tenant, credential_id)
    return json_response({"credentialId": credential_id, "changes": entries})


@routes.get("/status-lists/{list_id}")
async def get_status_list(request: web.Request) -> web.StreamResponse:
    app = request.app
    latest = await app[PUBLIC_LISTS].latest(
        request.match_info["list_id"], app[STATE_REPLICA].require_caught_up
    )
    if latest is None:  # from memory (served.py): no Redis, whatever the caller sends
        raise Problem(404, "no such status list", title="Status list not found")
    form = representation(latest, request.headers.get("Accept", ""))
    max_age = request.app[REVOCATION_SETTINGS].list_ttl_ms // 1000
    # Bitstring Status List v1.0 §6.3: lists are cacheable; revalidate by ETag.
    headers = {"ETag": form.etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept"}
    if form.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=form.body, content_type=form.content_type, headers=headers)
