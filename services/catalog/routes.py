"""Catalog HTTP routes: define micro-credentials, serve their public pages."""

from __future__ import annotations

import uuid

from aiohttp import web

from services.catalog.domain import (
    VALIDITY_PERIOD_PATH,
    AchievementIn,
    achievement_document,
    check_definition,
)
from services.catalog.keys import CATALOG_SETTINGS, STORE
from shared.durations import PeriodError
from shared.events import AchievementPublished
from shared.kafka.topics import CATALOG_ACHIEVEMENTS, topic_name
from shared.replica_wait import wait_for_record
from shared.service import PRODUCER
from shared.web.auth import require_tenant
from shared.web.body import decode_body, invalid_field, json_response
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
    store = request.app[STORE]
    # A just-created issuer's profile may still be on its way through Kafka.
    owner = await wait_for_record(lambda: store.issuer_tenant(body.issuerDid))
    if owner != tenant:  # unknown, or another tenant's: the same answer (invariant 7)
        raise Problem(404, f"no issuer {body.issuerDid} for this tenant", title="Issuer not found")
    settings = request.app[CATALOG_SETTINGS]
    achievement_id = f"{settings.public_base_url}/achievements/{uuid.uuid4()}"
    event = AchievementPublished(
        tenant=tenant,
        issuer_did=body.issuerDid,
        achievement_id=achievement_id,
        revision=1,
        achievement=achievement_document(body, achievement_id),
        mastery_threshold=body.masteryThreshold,
        status="active",
    )
    topic = topic_name(settings.common, CATALOG_ACHIEVEMENTS)
    await request.app[PRODUCER].publish(topic, event, key=achievement_id)
    await store.save_achievement(event)
    return json_response(
        {"id": achievement_id, "revision": event.revision, "achievement": event.achievement},
        status=201,
        headers={"Location": achievement_id},
    )


@routes.get("/achievements/{key}")
async def get_achievement(request: web.Request) -> web.Response:
    settings = request.app[CATALOG_SETTINGS]
    achievement_id = f"{settings.public_base_url}/achievements/{request.match_info['key']}"
    event = await request.app[STORE].achievement(achievement_id)
    if event is None:
        raise Problem(404, "no such achievement", title="Achievement not found")
    return json_response(event.achievement, content_type="application/ld+json")
