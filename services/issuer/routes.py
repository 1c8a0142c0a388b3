"""Issuer HTTP routes: identities and assessment-gated awards."""

from __future__ import annotations

from aiohttp import web

from services.issuer.app_keys import IDENTITIES, ISSUANCE, STORE
from services.issuer.awards import issued_response
from services.issuer.domain.awarding import AwardIn
from services.issuer.domain.errors import CredentialNotFound, IssuerNotFound
from services.issuer.identities import IssuerIn
from services.issuer.store import IssuerIdentity
from shared.web.auth import require_tenant
from shared.web.body import decode_body, idempotency_key, json_response

routes = web.RouteTableDef()


@routes.post("/issuers")
async def create_issuer(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, IssuerIn)
    key = idempotency_key(request)
    identity, created = await request.app[IDENTITIES].register(tenant, body, key)
    return json_response(
        {"id": identity.did, "profile": identity.profile, "didDocument": identity.did_document},
        status=201 if created else 200,
    )


async def _identity(request: web.Request) -> IssuerIdentity:
    identity = await request.app[STORE].issuer(request.match_info["did"])
    if identity is None:
        await request.app[STORE].state.require()  # missing only because of a rebuild: 503
        raise IssuerNotFound("no such issuer")
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
    event, created = await request.app[ISSUANCE].award(tenant, body, key)
    return json_response(issued_response(event), status=201 if created else 200)


@routes.get("/credentials/{credential_id}")
async def get_credential(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    event = await request.app[STORE].credential(request.match_info["credential_id"])
    if event is None:
        await request.app[STORE].state.require()
    if event is None or event.tenant != tenant:
        raise CredentialNotFound("no such credential")
    return json_response(issued_response(event))
