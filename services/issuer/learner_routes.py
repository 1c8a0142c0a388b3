"""Issuer routes for learners' artefacts: downloads for the owning
institution (tenant token) and, through the private claim link, for the
learner, who also publishes and unpublishes the public share link there."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from services.issuer.app_keys import LEARNERS
from services.issuer.domain.errors import CredentialNotFound
from services.issuer.learner_page import claim_error_page, claim_page
from services.issuer.learners import DOWNLOADS, Claimed
from shared.errors import InvalidField, NotFound, Unavailable
from shared.events import CredentialIssued
from shared.sharing.badge import MEDIA_TYPES, ImageKind, baked_badge
from shared.sharing.certificate import certificate_language, certificate_pdf
from shared.sharing.facts import facts_of
from shared.web.auth import require_tenant
from shared.web.body import json_response
from shared.web.negotiation import prefers_html
from shared.web.problems import RETRY_AFTER_SECONDS, UNREADABLE_BODY_ERRORS

learner_routes = web.RouteTableDef()
# An SVG shown on its own must not run anything (an achievement's own image is
# the institution's file): no scripts, no fetches.
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}


def _filename(event: CredentialIssued, extension: str) -> str:
    title = facts_of(event.credential_ldp or event.credential_jwt).title
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "credential"
    return f"{slug}.{extension}"


async def download(event: CredentialIssued, name: str) -> web.Response:
    """One of the downloads: the credential as JSON or VC-JWT, or a baked badge."""
    disposition = {"Content-Disposition": f'attachment; filename="{_filename(event, name)}"'}
    if name == "credential.json":
        if event.credential_ldp is None:  # issued before both proof forms were made
            raise CredentialNotFound("this credential has no JSON form with an embedded proof")
        return json_response(
            event.credential_ldp, content_type="application/vc", headers=disposition
        )
    if name == "credential.jwt":
        return web.Response(
            text=event.credential_jwt, content_type="application/vc+jwt", headers=disposition
        )
    kind: ImageKind = "png" if name == "badge.png" else "svg"
    facts = facts_of(event.credential_ldp or event.credential_jwt)
    # Drawing and baking take milliseconds of CPU: off the event loop (invariant 10).
    body = await asyncio.to_thread(baked_badge, facts, kind, event.credential_jwt)
    return web.Response(
        body=body, content_type=MEDIA_TYPES[kind], headers={**IMAGE_HEADERS, **disposition}
    )


def _download_name(request: web.Request) -> str:
    return request.path.rsplit("/", 1)[-1]


async def tenant_download(request: web.Request) -> web.Response:
    tenant = require_tenant(request)
    learners = request.app[LEARNERS]
    event = await learners.for_tenant(tenant, request.match_info["credential_id"])
    return await download(event, _download_name(request))


async def _claimed(request: web.Request) -> Claimed:
    return await request.app[LEARNERS].claimed(request.match_info["token"])


def _private(response: web.StreamResponse) -> web.StreamResponse:
    """A claim link is a secret: never cached by shared caches, never sent on as a referrer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@learner_routes.get("/claims/{token}")
async def claim(request: web.Request) -> web.StreamResponse:
    learners = request.app[LEARNERS]
    if not prefers_html(request.headers.get("Accept", "")):
        return _private(json_response(learners.claim_view(await _claimed(request))))
    try:
        view = learners.claim_view(await _claimed(request))
    except (NotFound, Unavailable) as error:  # a person: a page, not a problem document
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if error.transient else None
        page = claim_error_page(error.status)
        answer = web.Response(
            text=page, status=error.status, content_type="text/html", headers=headers
        )
        return _private(answer)
    return _private(web.Response(text=claim_page(view), content_type="text/html"))


async def claim_download(request: web.Request) -> web.StreamResponse:
    claimed = await _claimed(request)
    return _private(await download(claimed.credential, _download_name(request)))


for _name in DOWNLOADS:  # literal paths, one per download (documented one by one)
    learner_routes.get(f"/credentials/{{credential_id}}/{_name}")(tenant_download)
    learner_routes.get(f"/claims/{{token}}/{_name}")(claim_download)


@learner_routes.get("/claims/{token}/certificate.pdf")
async def claim_certificate(request: web.Request) -> web.StreamResponse:
    learners = request.app[LEARNERS]
    claimed = await _claimed(request)
    share_url = learners.certified(claimed)
    event = claimed.credential
    facts = facts_of(event.credential_ldp or event.credential_jwt)
    lang = certificate_language(request)
    body = await asyncio.to_thread(certificate_pdf, facts, share_url, lang)
    headers = {
        "Content-Disposition": f'inline; filename="{_filename(event, "pdf")}"',
        "Content-Language": lang,
        "Vary": "Accept-Language",
    }
    response = web.Response(body=body, content_type="application/pdf", headers=headers)
    return _private(response)


@learner_routes.post("/claims/{token}/share")
async def publish_share(request: web.Request) -> web.StreamResponse:
    """Publish (JSON API: 201 the first time, then 200), or from the HTML page's
    form (`action=publish|unpublish`, answered with a 303 back to the page)."""
    learners = request.app[LEARNERS]
    claimed = await _claimed(request)
    if request.content_type in FORM_TYPES:
        action = await _form_action(request)
        await (learners.unpublish if action == "unpublish" else learners.publish)(claimed)
        raise web.HTTPSeeOther(f"/claims/{claimed.token}")
    claimed, created = await learners.publish(claimed)
    return _private(json_response(learners.claim_view(claimed), status=201 if created else 200))


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def _form_action(request: web.Request) -> str:
    """The page form's `action`: publish or unpublish (422 for anything else,
    or a form that cannot be read)."""
    try:
        form = await request.post()
    except (ValueError, LookupError, *UNREADABLE_BODY_ERRORS):  # bad bytes, charset,
        # part headers or Content-Encoding
        raise InvalidField("$.action", "the form cannot be read") from None
    action = form.get("action")
    if action not in ("publish", "unpublish"):
        raise InvalidField("$.action", "must be publish or unpublish")
    return str(action)


@learner_routes.delete("/claims/{token}/share")
async def unpublish_share(request: web.Request) -> web.StreamResponse:
    learners = request.app[LEARNERS]
    claimed = await learners.unpublish(await _claimed(request))
    return _private(json_response(learners.claim_view(claimed)))
