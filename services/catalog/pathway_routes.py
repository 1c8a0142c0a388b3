"""Catalog HTTP routes for pathways: define, revise, retire, read and list (tenant)."""

from __future__ import annotations

from aiohttp import web

from services.catalog.app_keys import PATHWAYS
from services.catalog.pathways import PathwayIn, pathway_document
from shared.events import PathwayPublished
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, json_response

pathway_routes = web.RouteTableDef()


def _answer(event: PathwayPublished, created: bool) -> web.Response:
    return json_response(
        pathway_document(event),
        status=201 if created else 200,
        headers={"Location": event.pathway_id},
    )


@pathway_routes.post("/pathways")
async def create_pathway(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, PathwayIn)
    event, created = await request.app[PATHWAYS].define(tenant, body, idempotency_key(request))
    return _answer(event, created)


@pathway_routes.get("/pathways")
async def list_pathways(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    found = await request.app[PATHWAYS].of_tenant(tenant)
    return json_response({"items": [pathway_document(p) for p in found]})


@pathway_routes.get("/pathways/{key}")
async def get_pathway(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    pathways = request.app[PATHWAYS]
    event = await pathways.own(tenant, pathways.pathway_id(request.match_info["key"]))
    return _answer(event, False)


@pathway_routes.put("/pathways/{key}")
async def revise_pathway(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, PathwayIn)
    pathways = request.app[PATHWAYS]
    pathway_id = pathways.pathway_id(request.match_info["key"])
    event = await pathways.revise(tenant, pathway_id, body, idempotency_key(request))
    return _answer(event, False)


@pathway_routes.post("/pathways/{key}/retire")
async def retire_pathway(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    pathways = request.app[PATHWAYS]
    pathway_id = pathways.pathway_id(request.match_info["key"])
    event = await pathways.retire(tenant, pathway_id, idempotency_key(request))
    return _answer(event, False)
