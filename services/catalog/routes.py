"""Catalog HTTP routes: define micro-credentials, serve their public pages."""

from __future__ import annotations

from aiohttp import web

from services.catalog.app_keys import ACHIEVEMENTS, CATALOG_SETTINGS, STORE
from services.catalog.domain import VALIDITY_PERIOD_PATH, AchievementIn, check_definition
from shared.durations import PeriodError
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, invalid_field, json_response
from shared.web.problems import Problem

routes = web.RouteTableDef()


async def _definition(request: web.Request) -> AchievementIn:
    body = await decode_body(request, AchievementIn)
    try:
        check_definition(body)
    except PeriodError as error:
        raise invalid_field(VALIDITY_PERIOD_PATH, str(error)) from None
    return body


@routes.post("/achievements")
async def create_achievement(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await _definition(request)
    key = idempotency_key(request)
    event, created = await request.app[ACHIEVEMENTS].define(tenant, body, key)
    return json_response(
        {"id": event.achievement_id, "revision": event.revision, "achievement": event.achievement},
        status=201 if created else 200,
        headers={"Location": event.achievement_id},
    )


@routes.get("/achievements/{key}")
async def get_achievement(request: web.Request) -> web.Response:
    settings = request.app[CATALOG_SETTINGS]
    achievement_id = f"{settings.public_base_url}/achievements/{request.match_info['key']}"
    event = await request.app[STORE].achievement(achievement_id)
    if event is None:
        await request.app[STORE].state.require()  # missing only because of a rebuild: 503
        raise Problem(404, "no such achievement", title="Achievement not found")
    # With its endorsements (OB 3.0 Achievement.endorsement), as awarded credentials carry them.
    document = dict(event.achievement)
    endorsed = await request.app[STORE].endorsements.of_achievement(achievement_id)
    if endorsed:
        document["endorsement"] = [e.credential_ldp for e in endorsed]
    return json_response(document, content_type="application/ld+json")
