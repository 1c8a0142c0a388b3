"""Issuer HTTP routes: identities and assessment-gated awards."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from services.issuer.app_keys import (
    ACCREDITATIONS,
    ATTEMPT_INDEX,
    ATTEMPTS,
    AWARD_QUEUE,
    ENDORSING,
    IDENTITIES,
    ISSUANCE,
    ISSUER_SETTINGS,
    LEARNERS,
    LINKAGES,
    ROTATION,
    SELF_HOSTING,
    STACKING,
    STORE,
    TRUST_LIST,
)
from services.issuer.attempts import AttemptQuery
from services.issuer.awards import PLATFORM_KEY_PREFIXES, issued_response
from services.issuer.domain.awarding import AwardIn, RecipientError, learner_key
from services.issuer.domain.errors import IssuerNotFound
from services.issuer.endorsing import EndorsementIn
from services.issuer.identities import IssuerIn
from services.issuer.linkage import linkage_form
from services.issuer.rotation import CompromiseIn, KeyChange
from services.issuer.stacking import StackedAwardIn
from services.issuer.store import IssuerIdentity
from shared.credentials.did_documents import web_did
from shared.errors import InvalidField
from shared.web.auth import require_endorser, require_tenant
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


def _did(request: web.Request) -> str:
    """The path's issuer: a DID, or the slug of a did:web hosted here
    (`/issuers/<slug>/did.json` is where did:web §3.2 looks for its document)."""
    value = request.match_info["did"]
    if value.startswith("did:"):
        return value
    return web_did(request.app[ISSUER_SETTINGS].public_base_url, "issuers", value)


async def _identity(request: web.Request) -> IssuerIdentity:
    identity = await request.app[STORE].issuer(_did(request))
    if identity is None:
        await request.app[STORE].state.require()  # missing only because of a rebuild: 503
        raise IssuerNotFound("no such issuer")
    return identity


@routes.get("/issuers/{did}")
async def get_issuer(request: web.Request) -> web.Response:
    identity = await _identity(request)
    # With the operator's signed accreditation endorsements, as credentials carry it.
    profile = await request.app[ACCREDITATIONS].profile_for(identity, datetime.now(UTC))
    return json_response(profile, content_type="application/ld+json")


@routes.get("/issuers/{did}/did.json")
async def get_did_document(request: web.Request) -> web.Response:
    identity = await _identity(request)
    return json_response(identity.did_document, content_type="application/did+json")


@routes.get("/issuers/{did}/did-configuration.json")
async def get_did_configuration(request: web.Request) -> web.Response:
    """The DID Configuration Resource for the issuer's provider's web domain,
    to host at `https://<webDomain>/.well-known/did-configuration.json`."""
    tenant = require_tenant(request)
    form = linkage_form(request.query.get("format"))
    found = await request.app[LINKAGES].configuration(tenant, _did(request), form)
    return json_response(
        found["configuration"],
        headers={
            "Content-Disposition": 'attachment; filename="did-configuration.json"',
            "X-Web-Domain": found["domain"],
            "Cache-Control": "no-store",
        },
    )


@routes.get("/issuers/{did}/self-hosting")
async def get_self_hosting(request: web.Request) -> web.Response:
    """For a did:web on the institution's own domain: its DID document and
    DID Configuration Resource to host there, and where (self_hosting.py)."""
    tenant = require_tenant(request)
    form = linkage_form(request.query.get("format"))
    found = await request.app[SELF_HOSTING].export(tenant, _did(request), form)
    return json_response(found, headers={"Cache-Control": "no-store"})


def _key_change(change: KeyChange) -> dict[str, object]:
    answer: dict[str, object] = {
        "id": change.did,
        "verificationMethod": change.method_id,
        "signingMethod": change.signing_method_id,
        "didDocument": change.did_document,
    }
    if change.compromised_at is not None:
        answer["compromisedAt"] = change.compromised_at
    return answer


@routes.post("/issuers/{did}/keys")
async def rotate_key(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    key = idempotency_key(request)
    change, created = await request.app[ROTATION].rotate(tenant, _did(request), key)
    return json_response(_key_change(change), status=201 if created else 200)


@routes.post("/issuers/{did}/keys/{method}/compromise")
async def compromise_key(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, CompromiseIn)
    key = idempotency_key(request)
    change, _ = await request.app[ROTATION].compromise(
        tenant, _did(request), request.match_info["method"], body, key
    )
    return json_response(_key_change(change))


@routes.post("/awards")
async def create_award(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    body = await decode_body(request, AwardIn)
    key = idempotency_key(request, reserved=PLATFORM_KEY_PREFIXES)
    event, created = await request.app[AWARD_QUEUE].award(tenant, body, key)
    answer = {**issued_response(event), **request.app[LEARNERS].award_links(event)}
    return json_response(answer, status=201 if created else 200)


@routes.post("/attempts")
async def record_attempt(request: web.Request) -> web.Response:
    """A formative assessment's result, recorded and never issued."""
    tenant = require_tenant(request)
    body = await decode_body(request, AwardIn)
    key = idempotency_key(request)
    attempt, created = await request.app[ATTEMPTS].formative(tenant, body, key)
    return json_response(attempt, status=201 if created else 200)


@routes.post("/attempts/search")
async def search_attempts(request: web.Request) -> web.Response:
    """The tenant's attempts (formative and refused), newest first."""
    tenant = require_tenant(request)
    query = await decode_body(request, AttemptQuery)
    page = await request.app[ATTEMPT_INDEX].search(tenant, query)
    return json_response({"items": page.items, "nextCursor": page.next_cursor})


@routes.get("/credentials/{credential_id}")
async def get_credential(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    learners = request.app[LEARNERS]
    event = await learners.for_tenant(tenant, request.match_info["credential_id"])
    return json_response({**issued_response(event), **learners.award_links(event)})


@routes.post("/pathway-awards/find")
async def find_pathway_award(request: web.Request) -> web.Response:
    """The credential a completed pathway was awarded with (services.issuer.stacking)."""
    tenant = require_tenant(request)
    body = await decode_body(request, StackedAwardIn)
    try:
        learner = learner_key(request.app[ISSUANCE].learner_keys, body.recipient)
    except RecipientError as error:
        raise InvalidField("$.recipient", str(error)) from None
    event = await request.app[STACKING].awarded(tenant, body.pathwayId, learner)
    return json_response({**issued_response(event), **request.app[LEARNERS].award_links(event)})


@routes.post("/endorsements")
async def create_endorsement(request: web.Request) -> web.Response:
    """An endorser's signed EndorsementCredential about an achievement."""
    endorser = require_endorser(request)
    body = await decode_body(request, EndorsementIn)
    key = idempotency_key(request)
    event, created = await request.app[ENDORSING].endorse(endorser, body, key)
    answer = {
        "id": event.endorsement_id,
        "achievementId": event.achievement_id,
        "endorser": {"name": event.endorser, "id": event.endorser_did},
        "credential": event.credential_ldp,
        "jwt": event.credential_jwt,
    }
    return json_response(answer, status=201 if created else 200)


@routes.delete("/endorsements/{endorsement_id}")
async def withdraw_endorsement(request: web.Request) -> web.Response:
    """The endorser withdraws its own endorsement."""
    endorser = require_endorser(request)
    key = idempotency_key(request)
    endorsement_id = request.match_info["endorsement_id"]
    event, _ = await request.app[ENDORSING].withdraw(endorser, endorsement_id, key)
    return json_response({"id": event.endorsement_id, "status": event.status})


TRUST_LIST_MAX_AGE = 60


async def _trust_list(request: web.Request, *, signed: bool) -> web.Response:
    """The operator's trust list (`trust_list.py`): ETag, Cache-Control, 304
    on a matching If-None-Match (RFC 9110 §13.1.2)."""
    published, jws = await request.app[TRUST_LIST].current()
    etag = published.etag if not signed else published.etag[:-1] + '-jwt"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={TRUST_LIST_MAX_AGE}"}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if signed:
        return web.Response(text=jws, content_type="application/jwt", headers=headers)
    return json_response(published.payload, headers=headers)


@routes.get("/trust-list")
async def get_trust_list(request: web.Request) -> web.Response:
    """The registry as a trust list signed by the operator (compact JWS, docs/api.md)."""
    return await _trust_list(request, signed=True)


@routes.get("/trust-list.json")
async def get_trust_list_json(request: web.Request) -> web.Response:
    """The same payload, unsigned, for reading."""
    return await _trust_list(request, signed=False)
