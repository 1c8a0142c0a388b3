"""The employer's verification page at the verifier's `/` (issue 10).

`GET /` is a form (paste a credential or a JWT, upload a file or a baked
badge image, or give a link); `POST /` verifies what was sent and answers the
result page, or the same result as JSON when the client prefers
`application/json` (RFC 9110 §12.5.1 content negotiation).  Everything works
without JavaScript; `static/page.js` only adds drag-and-drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from services.verifier.app_keys import INTAKE, VERIFIER
from services.verifier.page_i18n import negotiate
from services.verifier.page_render import PageRenderer, static_response
from services.verifier.page_view import ResultView, result_view
from shared.errors import DomainError
from shared.web.body import json_response
from shared.web.metrics import OUTCOMES

PAGES: web.AppKey[PageRenderer] = web.AppKey("verifier.pages", PageRenderer)
page_routes = web.RouteTableDef()


def language(request: web.Request) -> str:
    """The page's language: `?lang=`, else `Accept-Language`, else English."""
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))


def wants_json(request: web.Request) -> bool:
    """True when `Accept` ranks application/json above text/html."""
    best: tuple[float, str] = (0.0, "text/html")
    for item in request.headers.get("Accept", "").split(","):
        kind, *params = item.split(";")
        kind = kind.strip().lower()
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if kind in ("application/json", "text/html") and q > best[0]:
            best = (q, kind)
    return best[1] == "application/json"


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
    except DomainError as error:
        if wants_json(request):
            raise
        return pages.response("index.html", lang, status=error.status, error=error.detail)
    item = submission.item
    report = await request.app[VERIFIER].verify(item, recipient=submission.recipient)
    request.app[OUTCOMES].count("page_verification", report.verdict)
    body = report.to_vc_api()
    if wants_json(request):
        return json_response(body)
    compare = item if isinstance(item, str) else orjson.dumps(item).decode()
    return pages.response(
        "result.html", lang, view=result_view(body), compare=compare, email=submission.recipient
    )


@dataclass(frozen=True)
class SharePage:
    """What a share link shows (the share service looks it up; this renders it)."""

    share_url: str
    report: dict[str, Any]  # the API's report body: state, results, credential summary
    image_url: str | None = None
    linkedin_url: str | None = None

    @property
    def view(self) -> ResultView:
        return result_view(self.report)

    @property
    def title(self) -> str | None:
        return self.view.title

    @property
    def description(self) -> str:
        issuer = dict(self.view.issuer).get("issuer_name")
        parts = [self.view.title, issuer]
        return " · ".join(p for p in parts if p)


def share_response(request: web.Request, page: SharePage) -> web.Response:
    """The share page: the result view, Open Graph and Twitter card tags with
    the badge image and title, and LinkedIn's "Add to profile" button; JSON
    (the report) when the client prefers it."""
    if wants_json(request):
        return json_response(page.report)
    lang = language(request)
    return request.app[PAGES].response(
        "share.html",
        lang,
        share=page,
        view=page.view,
        switch_href=request.path,
        email=None,
    )
