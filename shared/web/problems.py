"""RFC 9457 problem details and the middleware that renders every error.

Handlers raise `Problem`; aiohttp's own HTTP errors (404, 405, 413 ...) are
rendered the same way; any other exception becomes a 500 whose detail says
nothing internal (the traceback goes to the log, keyed by the request id).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from shared.errors import INFRASTRUCTURE_ERRORS, DomainError
from shared.logging import get_logger

PROBLEM_JSON = "application/problem+json"
REQUEST_ID: web.RequestKey[str] = web.RequestKey("shared.request_id", str)
_CORE_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
_SKIP_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})
_log = get_logger("shared.web.problems")


def status_phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("Not Found"), or "Error"."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# What reading a request body raises on bytes the client got wrong: a
# Content-Encoding that does not decode (gzip that is not gzip), a multipart
# part whose headers do not parse. A 400, never a 500.
UNREADABLE_BODY_ERRORS = (web.RequestPayloadError, HttpProcessingError)


# RFC 9457 §3.1.1: our own problem types are URNs (no page to dereference);
# the credential core names its verification problems the same way.
OWN_PROBLEM_TYPES = "urn:microcred:problem:"


def problem_type(name: str) -> str:
    """The type URI of one of our problems, e.g. `assessment-below-threshold`."""
    return OWN_PROBLEM_TYPES + name


class Problem(Exception):
    """An error response in RFC 9457 form.

    `type` is a URI reference naming the problem kind ("about:blank" means
    the status says it all, RFC 9457 §4.2.1); `extra` holds extension members.
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type: str = "about:blank",  # the RFC 9457 member name
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or status_phrase(status))
        self.status = status
        self.title = title or status_phrase(status)
        self.detail = detail
        self.type = type
        self.extra: dict[str, object] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})

    def body(self, instance: str | None = None) -> dict[str, object]:
        """The JSON members; extension members never override the core ones."""
        doc: dict[str, object] = {k: v for k, v in self.extra.items() if k not in _CORE_MEMBERS}
        doc.update(type=self.type, title=self.title, status=self.status)
        if self.detail is not None:
            doc["detail"] = self.detail
        if instance is not None:
            doc["instance"] = instance
        return doc


def problem_response(problem: Problem, request: web.Request | None = None) -> web.Response:
    """Render `problem` as `application/problem+json` (RFC 9457 §3)."""
    body = problem.body(request.path if request is not None else None)
    if request is not None and REQUEST_ID in request:
        body.setdefault("request_id", request[REQUEST_ID])
    response = web.Response(body=orjson.dumps(body), status=problem.status, headers=problem.headers)
    response.content_type = PROBLEM_JSON
    return response


def _http_detail(exc: web.HTTPException, request: web.Request) -> str:
    default_text = f"{exc.status}: {exc.reason}"
    if exc.text and exc.text != default_text:
        return exc.text
    if exc.status == 404:
        return f"No resource at {request.path}."
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return f"Method {request.method} is not allowed here (allowed: {allowed})."
    return exc.reason


def from_http_exception(exc: web.HTTPException, request: web.Request) -> Problem:
    """Turn one of aiohttp's HTTP errors into a Problem, keeping e.g. `Allow`."""
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in _SKIP_HEADERS}
    return Problem(exc.status, _http_detail(exc, request), headers=headers)


RETRY_AFTER_SECONDS = "1"


def domain_problem(error: DomainError) -> Problem:
    """The one mapping of domain errors to HTTP (the error class says how)."""
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if error.transient else None
    kind = problem_type(error.problem) if error.problem else "about:blank"
    return Problem(
        error.status, error.detail, title=error.title, type=kind, extra=error.extra, headers=headers
    )


def unavailable(request: web.Request) -> Problem:
    """A dependency failed under the request: 503, retry shortly (nothing internal said)."""
    return Problem(
        503,
        "A dependency of this service is unavailable; retry shortly.",
        type=problem_type("unavailable"),
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def internal_error(request: web.Request) -> Problem:
    """The generic 500: names the request id so operators can find the log line."""
    request_id = request.get(REQUEST_ID, "unknown")
    return Problem(
        500,
        f"The server could not complete the request (request id {request_id}).",
    )


def _reason(exc: Exception) -> str:
    """aiohttp's own words, without its `400, message:` prefix."""
    message = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return message.strip() or type(exc).__name__


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render `Problem`, domain errors, aiohttp HTTP errors >= 400, infrastructure
    errors (503) and unexpected errors (500) as RFC 9457."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem, request)
    except DomainError as error:
        return problem_response(domain_problem(error), request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(from_http_exception(exc, request), request)
    except UNREADABLE_BODY_ERRORS as exc:
        unreadable = Problem(400, f"The request body cannot be read: {_reason(exc)}")
        return problem_response(unreadable, request)
    except INFRASTRUCTURE_ERRORS as error:
        _log.warning("request.unavailable", path=request.path, error=repr(error))
        return problem_response(unavailable(request), request)
    except Exception:  # CancelledError is a BaseException and passes through
        _log.exception("request.failed", method=request.method, path=request.path)
        return problem_response(internal_error(request), request)
