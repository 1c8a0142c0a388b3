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

from services.verifier.app_keys import VERIFIER
from services.verifier.page_i18n import negotiate
from services.verifier.page_render import PageRenderer, static_response
from services.verifier.page_view import ResultView, result_view
from shared.credentials.baking import unbake
from shared.credentials.errors import ShapeError
from shared.credentials.report import CheckResult, VerificationReport
from shared.web.body import json_response
from shared.web.metrics import OUTCOMES
from shared.web.problems import Problem

PAGES: web.AppKey[PageRenderer] = web.AppKey("verifier.pages", PageRenderer)
page_routes = web.RouteTableDef()
MAX_TEXT = 1024 * 1024

Submission = dict[str, Any] | str


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


class NothingSent(Exception):
    """The form carried no credential, file or link."""


async def _form(request: web.Request) -> tuple[Submission | VerificationReport, str | None]:
    """The submission (or a report saying why it is unreadable) and the e-mail
    to compare, from an urlencoded or multipart form."""
    form = await request.post()
    email = str(form.get("email") or "").strip() or None
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_TEXT * 10 + 1)
        if data:
            return _from_bytes(data), email
    text = str(form.get("credential") or "").strip()
    if text:
        return _from_text(text), email
    raise NothingSent()


def _unreadable(code: str, detail: str) -> VerificationReport:
    report = VerificationReport(None)
    report.add(CheckResult("format", "failed", detail, code))
    return report


def _from_bytes(data: bytes) -> Submission | VerificationReport:
    if data.startswith(b"\x89PNG") or data.lstrip()[:1] == b"<":
        try:
            return unbake(data)
        except ShapeError as exc:
            return _unreadable(exc.code, exc.detail)
    try:
        return _from_text(data.decode("utf-8").strip())
    except UnicodeDecodeError:
        return _unreadable("malformed_input", "not a credential, a JWT or a badge image")


def _from_text(text: str) -> Submission:
    if text.startswith("{"):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        return parsed if isinstance(parsed, dict) else text
    return text


def state(report: VerificationReport) -> str:
    """One verdict word for people (the report's checks, most serious first)."""
    codes = {c.name: c for c in report.checks if c.outcome != "ok"}
    proof = codes.get("proof")
    if "format" in codes or "shape" in codes or (proof and proof.code == "missing_proof"):
        return "malformed"
    if proof is not None:
        return "unchecked" if proof.outcome == "not_checked" else "tampered"
    status = codes.get("status")
    if status is not None and status.code in ("revoked", "suspended"):
        return str(status.code)
    validity = codes.get("validity")
    if validity is not None and validity.code in ("expired", "not_yet_valid"):
        return str(validity.code)
    if status is not None:
        return "unchecked"
    return report.verdict if report.verdict != "invalid" else "tampered"


@page_routes.post("/")
async def check(request: web.Request) -> web.Response:
    lang = language(request)
    pages = request.app[PAGES]
    try:
        submission, email = await _form(request)
    except NothingSent:
        if wants_json(request):
            raise Problem(422, "Send a credential, a file or a link.") from None
        return pages.response("index.html", lang, status=422, error="advice.malformed")
    if isinstance(submission, VerificationReport):
        report = submission
        text = None
    else:
        report = await request.app[VERIFIER].verify(submission)
        text = submission if isinstance(submission, str) else orjson.dumps(submission).decode()
    request.app[OUTCOMES].count("page_verification", report.verdict)
    body = {**report.to_vc_api(), "state": state(report)}
    if wants_json(request):
        return json_response(body)
    view = result_view(body, report.credential)
    return pages.response("result.html", lang, view=view, submitted=text, email=email)


@dataclass(frozen=True)
class SharePage:
    """What a share link shows (the share service looks it up; this renders it)."""

    share_url: str
    credential: dict[str, Any]
    report: dict[str, Any]  # the API's report body, with `state`
    image_url: str | None = None
    linkedin_url: str | None = None

    @property
    def view(self) -> ResultView:
        return result_view(self.report, self.credential)

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
