"""Bulk status job routes: submit a job, follow its progress."""

from __future__ import annotations

from aiohttp import web

from services.revocation.app_keys import STATUS_JOBS
from services.revocation.changes import Requester
from services.revocation.jobs import StatusJobIn
from shared.web.auth import require_tenant, token_fingerprint
from shared.web.body import decode_body, idempotency_key, json_response
from shared.web.problems import REQUEST_ID

job_routes = web.RouteTableDef()


@job_routes.post("/status-jobs")
async def submit_job(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, StatusJobIn)
    who = Requester(tenant, token_fingerprint(request), request.get(REQUEST_ID))
    view, created = await request.app[STATUS_JOBS].submit(who, body, idempotency_key(request))
    location = f"/status-jobs/{view['id']}"
    return json_response(view, status=202 if created else 200, headers={"Location": location})


@job_routes.get("/status-jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    return json_response(await request.app[STATUS_JOBS].get(tenant, request.match_info["job_id"]))
