"""The employer's verification page at the verifier's `/` (issue 10).

`GET /` is a form (paste a credential or a JWT, upload a file or a baked
badge image, or give a link); `POST /` verifies what was sent and answers the
result page, or the same result as JSON when the client prefers
`application/json` (RFC 9110 §12.5.1 content negotiation).  Everything works
without JavaScript; `static/page.js` only adds drag-and-drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from services.verifier.app_keys import INTAKE, VERIFIER
from services.verifier.budget import LimitExceeded
from services.verifier.intake import NothingSent, UrlNotFetched
from services.verifier.page_i18n import LANGUAGES, catalogue
from services.verifier.page_render import PageRenderer, static_response
from services.verifier.page_view import result_view
from shared.errors import DomainError
from shared.web.body import json_response
from shared.web.metrics import OUTCOMES
from shared.web.negotiation import negotiate_language, prefers_json

if TYPE_CHECKING:
    from services.verifier.shares import SharedCredential, ShareNotFound, ShareUnpublished

PAGES: web.AppKey[PageRenderer] = web.AppKey("verifier.pages", PageRenderer)
page_routes = web.RouteTableDef()


def language(request: web.Request) -> str:
    """The page's language: `?lang=`, else `Accept-Language`, else English."""
    return negotiate_language(
        request.query.get("lang"), request.headers.get("Accept-Language"), LANGUAGES
    )


def wants_json(request: web.Request) -> bool:
    """JSON only when `Accept` ranks it above HTML (`*/*` gets the page)."""
    return prefers_json(request.headers.get("Accept", ""))


@dataclass(frozen=True)
class PageError:
    """Why the form is shown again: a sentence in the page's language
    (`error.<kind>`) and the technical detail, as the API gives it."""

    kind: str
    detail: str | None


def _error_kind(error: Exception) -> str:
    """The catalogue key suffix for what went wrong with a form."""
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return "too_large"
    if isinstance(error, NothingSent):
        return "empty"
    if isinstance(error, UrlNotFetched):
        return "url"
    if isinstance(error, LimitExceeded):
        return "limit"
    return "unreadable"


@page_routes.get("/")
async def index(request: web.Request) -> web.Response:
    lang = language(request)
    return request.app[PAGES].response("index.html", lang, error=None)


@page_routes.get("/static/{name}")
async def static(request: web.Request) -> web.Response:
    return static_response(request.match_info["name"])


@page_routes.post("/")
async def check(request: web.Request) -> web.Response:
    """Verify what the form sent (`intake.py` reads it: `credential`, `file`,
    `url` and `recipient`); unreadable input answers the form again with why
    (422), or a problem document to a JSON client."""
    lang = language(request)
    pages = request.app[PAGES]
    try:
        submission = await request.app[INTAKE].read_submission(request)
    except (DomainError, web.HTTPRequestEntityTooLarge) as error:
        if wants_json(request):
            raise
        if isinstance(error, web.HTTPRequestEntityTooLarge):  # aiohttp's cap on the form
            status, detail = error.status, None
        else:
            status, detail = error.status, error.detail
        return pages.response(
            "index.html", lang, status=status, error=PageError(_error_kind(error), detail)
        )
    item = submission.item
    report = await request.app[VERIFIER].verify(item, recipient=submission.recipient)
    body = report.to_vc_api()
    request.app[OUTCOMES].count("page_verification", body["verdict"])
    if wants_json(request):
        return json_response(body)
    compare = item if isinstance(item, str) else orjson.dumps(item).decode()
    return pages.response(
        "result.html", lang, view=result_view(body), compare=compare, email=submission.recipient
    )


async def share_page(
    request: web.Request, shared: SharedCredential | ShareNotFound | ShareUnpublished
) -> web.StreamResponse:
    """The share page's HTML (`GET /s/{share_id}`, `shares.py`): the result
    view with Open Graph and Twitter card tags (badge image and title, so a
    pasted link previews), LinkedIn's "Add to profile" button and the
    printable certificate; for a link that is unknown or unpublished, a page
    that says so with the same status (404, 410). Set at `shares.SHARE_PAGE`
    by `create_app`."""
    pages, lang = request.app[PAGES], language(request)
    if isinstance(shared, DomainError):
        gone = "share_unpublished" if shared.status == 410 else "share_not_found"
        return pages.response("share_gone.html", lang, status=shared.status, message=gone)
    facts = shared.facts
    # A link preview says when the credential is not in force.
    state = None if shared.in_force else catalogue(lang)(f"state.{shared.report.state}")
    return pages.response(
        "share.html",
        lang,
        share=shared,
        description=" · ".join(p for p in (facts.title, facts.provider, state) if p),
        view=result_view(shared.report.to_vc_api()),
        switch_href=request.path,
        compare=None,
        email=None,
    )
