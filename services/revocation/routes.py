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
from services.revocation.representations import representation
from shared.service import STATE_REPLICA
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, json_response
from shared.web.problems import Problem

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
    changed = await request.app[STATUS_CHANGES].change(
        tenant, body.credentialId, status.statusPurpose, body.status, key
    )
    return json_response(
        {
            "credentialId": body.credentialId,
            "statusPurpose": status.statusPurpose,
            "status": body.status,
            "changed": changed,
        }
    )


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
