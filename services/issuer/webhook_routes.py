"""Webhook routes: a tenant's subscriptions, delivery log and dead letters."""

from __future__ import annotations

from aiohttp import web

from services.issuer.app_keys import WEBHOOKS
from services.issuer.domain.webhook_events import WebhookIn
from shared.redis_keys import WEBHOOK_DEAD, WEBHOOK_LOG
from shared.web.auth import require_tenant
from shared.web.body import decode_body, json_response

webhook_routes = web.RouteTableDef()


@webhook_routes.post("/webhooks")
async def register(request: web.Request) -> web.Response:
    """A new subscription; its signing `secret` is in this answer only."""
    tenant = require_tenant(request)
    body = await decode_body(request, WebhookIn)
    return json_response(await request.app[WEBHOOKS].register(tenant, body), status=201)


@webhook_routes.get("/webhooks")
async def subscriptions(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    return json_response({"items": await request.app[WEBHOOKS].of_tenant(tenant)})


@webhook_routes.delete("/webhooks/{webhook_id}")
async def delete(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    webhook_id = request.match_info["webhook_id"]
    return json_response(await request.app[WEBHOOKS].delete(tenant, webhook_id))


@webhook_routes.get("/webhook-deliveries")
async def deliveries(request: web.Request) -> web.Response:
    """The tenant's delivery log, newest first (the last 1,000)."""
    tenant = require_tenant(request)
    return json_response({"items": await request.app[WEBHOOKS].log(tenant, WEBHOOK_LOG)})


@webhook_routes.get("/webhook-dead-letters")
async def dead_letters(request: web.Request) -> web.Response:
    """Deliveries that ran out of attempts, with their bodies, newest first."""
    tenant = require_tenant(request)
    return json_response({"items": await request.app[WEBHOOKS].log(tenant, WEBHOOK_DEAD)})
