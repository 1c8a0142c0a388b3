"""Catalog HTTP routes: define, revise, retire, list and search
micro-credentials; serve their public pages and history."""

from __future__ import annotations

import msgspec
from aiohttp import web

from services.catalog.achievements import AchievementNotFound
from services.catalog.app_keys import ACHIEVEMENTS, PATHWAYS, STORE
from services.catalog.domain import AchievementIn
from services.catalog.listing import ListQuery, page
from shared.events import AchievementPublished
from shared.web.auth import require_tenant
from shared.web.body import (
    decode_body,
    idempotency_key,
    invalid_field,
    json_response,
    validation_error,
)

routes = web.RouteTableDef()


def _answer(event: AchievementPublished, created: bool) -> web.Response:
    return json_response(
        {
            "id": event.achievement_id,
            "revision": event.revision,
            "status": event.status,
            "achievement": event.achievement,
        },
        status=201 if created else 200,
        headers={"Location": event.achievement_id},
    )


def _achievement_id(request: web.Request) -> str:
    return request.app[ACHIEVEMENTS].achievement_id(request.match_info["key"])


@routes.post("/achievements")
async def create_achievement(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, AchievementIn)
    event, created = await request.app[ACHIEVEMENTS].define(tenant, body, idempotency_key(request))
    return _answer(event, created)


@routes.put("/achievements/{key}")
async def revise_achievement(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, AchievementIn)
    event, _ = await request.app[ACHIEVEMENTS].revise(
        tenant, _achievement_id(request), body, idempotency_key(request)
    )
    return _answer(event, False)


@routes.post("/achievements/{key}/retire")
async def retire_achievement(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    event, _ = await request.app[ACHIEVEMENTS].retire(
        tenant, _achievement_id(request), idempotency_key(request)
    )
    return _answer(event, False)


@routes.get("/achievements")
async def list_achievements(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    try:
        query = msgspec.convert(dict(request.query), ListQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    request.app[ACHIEVEMENTS].require_caught_up()
    store = request.app[STORE]
    await store.state.require()
    dids = None
    if query.provider is not None:
        provider_id = query.provider
        if "/" not in provider_id:
            provider_id = f"{request.app[ACHIEVEMENTS].public_base_url}/providers/{provider_id}"
        provider = await store.provider(provider_id)
        dids = frozenset(provider.issuer_dids) if provider is not None else frozenset()
    return json_response(page(await store.achievements_of(tenant), tenant, query, dids))


async def _public(request: web.Request) -> AchievementPublished:
    """The achievement, or the revision `?revision=N` of it (public); 503
    while the replica is rebuilt (a stale revision is never a 200)."""
    store = request.app[STORE]
    await store.state.require()
    achievement_id = _achievement_id(request)
    wanted = request.query.get("revision")
    if wanted is None:
        event = await store.achievement(achievement_id)
    elif wanted.isdigit() and len(wanted) < 10:
        event = await store.achievement_revision(achievement_id, int(wanted))
    else:
        raise invalid_field("$.revision", "the query's revision must be a revision number")
    if event is None:
        raise AchievementNotFound("no such achievement or revision")
    return event


@routes.get("/achievements/{key}")
async def get_achievement(request: web.Request) -> web.Response:
    event = await _public(request)
    # With its endorsements (OB 3.0 Achievement.endorsement), as awarded credentials carry them.
    document = dict(event.achievement)
    endorsed = await request.app[STORE].endorsements.of_achievement(event.achievement_id)
    if endorsed:
        document["endorsement"] = [e.credential_ldp for e in endorsed]
    # The pathways it stacks into (our microcred term `stackableInto`, docs/credential-format.md).
    stacks = await request.app[PATHWAYS].stackable_into(event.achievement_id)
    if stacks:
        document["stackableInto"] = stacks
    headers = {"X-Achievement-Revision": str(event.revision), "X-Achievement-Status": event.status}
    return json_response(document, content_type="application/ld+json", headers=headers)


@routes.get("/achievements/{key}/revisions")
async def achievement_history(request: web.Request) -> web.Response:
    store = request.app[STORE]
    await store.state.require()  # a partial history is never a 200
    history = await store.achievement_history(_achievement_id(request))
    if not history:
        raise AchievementNotFound("no such achievement")
    return json_response(
        {
            "id": history[0].achievement_id,
            "revisions": [
                {
                    "revision": e.revision,
                    "status": e.status,
                    "publishedAt": e.occurred_at,
                    "achievement": e.achievement,
                }
                for e in history
            ],
        }
    )
