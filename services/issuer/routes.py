"""Issuer HTTP routes: identities and assessment-gated awards."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from services.issuer.awards import award, issued_response
from services.issuer.domain.awarding import AwardIn
from services.issuer.keys import ISSUER_SETTINGS, SIGNER, STORE
from services.issuer.store import IssuerIdentity
from shared.credentials.builders import build_profile
from shared.events import IssuerProfilePublished
from shared.kafka.topics import ISSUER_PROFILES, topic_name
from shared.service import PRODUCER
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, json_response
from shared.web.problems import Problem

routes = web.RouteTableDef()

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class IssuerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    url: Text
    email: Text | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    # EU 2022 Annex I: the country or region of the issuer.
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)] | None = None
    region: Text | None = None


@routes.post("/issuers")
async def create_issuer(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, IssuerIn)
    key_id, did, did_document = await request.app[SIGNER].create_identity(tenant)
    profile = build_profile(
        did,
        body.name,
        url=body.url,
        email=body.email,
        description=body.description,
        country_code=body.country,
        region=body.region,
    )
    event = IssuerProfilePublished(
        tenant=tenant,
        did=did,
        profile=profile,
        did_document=did_document,
        signing_key_id=key_id,
    )
    settings = request.app[ISSUER_SETTINGS]
    await request.app[PRODUCER].publish(
        topic_name(settings.common, ISSUER_PROFILES), event, key=did
    )
    await request.app[STORE].save_issuer(event)
    return json_response({"id": did, "profile": profile, "didDocument": did_document}, status=201)


async def _identity(request: web.Request) -> IssuerIdentity:
    identity = await request.app[STORE].issuer(request.match_info["did"])
    if identity is None:
        raise Problem(404, "no such issuer", title="Issuer not found")
    return identity


@routes.get("/issuers/{did}")
async def get_issuer(request: web.Request) -> web.Response:
    identity = await _identity(request)
    return json_response(identity.profile, content_type="application/ld+json")


@routes.get("/issuers/{did}/did.json")
async def get_did_document(request: web.Request) -> web.Response:
    identity = await _identity(request)
    return json_response(identity.did_document, content_type="application/did+json")


@routes.post("/awards")
async def create_award(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, AwardIn)
    key = idempotency_key(request)
    event, created = await award(request.app, tenant, body, key)
    return json_response(issued_response(event), status=201 if created else 200)


@routes.get("/credentials/{credential_id}")
async def get_credential(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    event = await request.app[STORE].credential(request.match_info["credential_id"])
    if event is None or event.tenant != tenant:
        raise Problem(404, "no such credential", title="Credential not found")
    return json_response(issued_response(event))
