"""The work one public request may cause (architecture invariant 10).

The verifier answers anyone, so every request gets a budget, checked before
any expensive work and each cap answered with a 422 problem
(`urn:microcred:problem:limit-exceeded`) whose `limit` member names the
setting that refused it:

- the JSON of the body and of a VC-JWT's payload: nesting depth, the length
  of any one array, the number of values in all (pyld's node map is
  quadratic in the length of an array: 1,000 results cost 3 s, 10,000 cost
  47 s of canonicalisation, so the caps come first);
- per credential: proofs and `credentialStatus` entries;
- per request: distinct documents fetched over HTTP (status lists, did:web
  documents, DID configurations). The count lives in a context variable set
  by the middleware, since the fetches happen deep in the credential core;
  a refused fetch fails the whole request, whatever the core made of it;
- time: canonicalisation (`canon_ms`, enforced in the worker) and the whole
  request (`request_ms`: 503, the work is abandoned).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from shared.errors import DomainError, Unavailable
from shared.settings import env_int, env_var
from shared.web.body import is_json_content_type


@dataclass(frozen=True)
class Limits:
    """Each cap is `MICROCRED_VERIFIER_<NAME>` (defaults in docs/api.md)."""

    max_json_depth: int = 32
    max_array_length: int = 128
    max_json_values: int = 5_000
    max_proofs: int = 4
    max_status_entries: int = 8
    max_fetches: int = 8
    canon_ms: int = 2_000
    request_ms: int = 10_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        def read(name: str, default: int, maximum: int | None = None) -> int:
            return env_int(f"VERIFIER_{name.upper()}", default, environ, minimum=1, maximum=maximum)

        return cls(
            max_json_depth=read("max_json_depth", cls.max_json_depth, 200),  # recursion
            max_array_length=read("max_array_length", cls.max_array_length),
            max_json_values=read("max_json_values", cls.max_json_values),
            max_proofs=read("max_proofs", cls.max_proofs),
            max_status_entries=read("max_status_entries", cls.max_status_entries),
            max_fetches=read("max_fetches", cls.max_fetches),
            canon_ms=read("canon_ms", cls.canon_ms),
            request_ms=read("request_ms", cls.request_ms),
        )


def setting_name(limit: str) -> str:
    """The environment variable of a limit, e.g. `MICROCRED_VERIFIER_MAX_PROOFS`."""
    return env_var(f"VERIFIER_{limit.upper()}")


class LimitExceeded(DomainError):
    """A request over one of the verifier's work limits."""

    problem = "limit-exceeded"
    title = "Request exceeds a verifier limit"

    def __init__(self, limit: str, allowed: int, detail: str) -> None:
        super().__init__(f"{detail} (limit {allowed}, {setting_name(limit)})")
        self.extra = {"limit": setting_name(limit), "allowed": allowed}


class RequestTooSlow(Unavailable):
    """The request ran past its deadline; its work was abandoned."""

    problem = "deadline-exceeded"


# --- the shape of JSON -------------------------------------------------------------


class _Over(Exception):
    """A JSON cap hit at `path` (keys from the inside out, added while unwinding)."""

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__(detail)
        self.limit, self.detail, self.path = limit, detail, list[object]()


def _walk(node: dict[Any, Any] | list[Any], depth: int, limits: Limits, seen: list[int]) -> None:
    """Recursion bounded by `max_json_depth` (checked before going deeper);
    scalars cost no call."""
    if depth >= limits.max_json_depth:
        raise _Over("max_json_depth", "is nested too deeply")
    if isinstance(node, list) and len(node) > limits.max_array_length:
        raise _Over("max_array_length", f"has {len(node)} items")
    seen[0] += len(node)
    if seen[0] > limits.max_json_values:
        raise _Over("max_json_values", "holds too many JSON values")
    pairs = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in pairs:
        if child and isinstance(child, dict | list):
            try:
                _walk(child, depth + 1, limits, seen)
            except _Over as over:
                over.path.append(key)
                raise


def check_json(value: object, limits: Limits, where: str = "$") -> None:
    """Depth, array lengths and value count of parsed JSON."""
    if not (value and isinstance(value, dict | list)):
        return
    try:
        _walk(value, 1, limits, [1])
    except _Over as over:
        keys = reversed(over.path)
        path = where + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)
        allowed = getattr(limits, over.limit)
        raise LimitExceeded(over.limit, allowed, f"{path} {over.detail}") from None


def _count(value: object) -> int:
    return 0 if value is None else len(value) if isinstance(value, list) else 1


def check_credential(doc: Mapping[str, Any], limits: Limits, where: str = "$") -> None:
    """Per-credential caps on the (unwrapped) credential: proofs and status entries."""
    proofs = _count(doc.get("proof"))
    if proofs > limits.max_proofs:
        raise LimitExceeded("max_proofs", limits.max_proofs, f"{where} carries {proofs} proofs")
    entries = _count(doc.get("credentialStatus"))
    if entries > limits.max_status_entries:
        raise LimitExceeded(
            "max_status_entries",
            limits.max_status_entries,
            f"{where} has {entries} credentialStatus entries",
        )


def check_unwrapped(limits: Limits, doc: dict[str, Any], token: str | None) -> None:
    """The caps of one submitted credential, once unwrapped (the credential
    core's `VerifyOptions.precheck`): proofs and status entries, then its
    JSON, however it came (a VC-JWT's payload, text, a form, a file, a
    fetched URL, a batch line: the body check sees only a JSON body)."""
    check_credential(doc, limits)
    where = "$.verifiableCredential" + (" (JWT payload)" if token is not None else "")
    check_json(doc, limits, where)


# --- per request: fetches and time --------------------------------------------------


@dataclass
class RequestBudget:
    """What one request has spent so far (fetches are counted by distinct URL)."""

    limits: Limits
    fetched: set[str] = field(default_factory=set)
    refused: LimitExceeded | None = None

    def spend_fetch(self, url: str) -> None:
        if url in self.fetched:
            return
        if len(self.fetched) >= self.limits.max_fetches:
            self.refused = self.refused or LimitExceeded(
                "max_fetches",
                self.limits.max_fetches,
                "the request needs more documents fetched (status lists, DID documents)",
            )
            raise self.refused
        self.fetched.add(url)


T = TypeVar("T")

# The body's JSON object as the budget check parsed it, for the handler: the
# body is parsed once per request (issue 7). Absent for other bodies.
PARSED_BODY: web.RequestKey[dict[str, Any]] = web.RequestKey("verifier.parsed_body", dict)

_CURRENT: contextvars.ContextVar[RequestBudget | None] = contextvars.ContextVar(
    "verifier_request_budget", default=None
)


def spend_fetch(url: str) -> None:
    """Count a fetch of `url` against the current request's budget (if any:
    background work such as trust list refreshes has none)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.spend_fetch(url)


async def _checked_body(request: web.Request, limits: Limits) -> None:
    if request.method != "POST" or not is_json_content_type(request.content_type):
        return
    if request.content_length is not None and request.content_length > request.client_max_size:
        return  # the handler answers 413 without reading it
    body = await request.read()  # aiohttp keeps it for the handler
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return  # the handler answers 400
    check_json(parsed, limits)
    if isinstance(parsed, dict):
        request[PARSED_BODY] = parsed


async def within_budget(limits: Limits, work: Awaitable[T]) -> T:
    """Run `work` under a fresh budget and the `request_ms` deadline; a
    refused fetch fails it, whatever the core made of the refusal."""
    budget = RequestBudget(limits)
    token = _CURRENT.set(budget)
    deadline = asyncio.timeout(limits.request_ms / 1000)
    try:
        async with deadline:
            result = await work
    except TimeoutError:
        if not deadline.expired():
            raise
        raise RequestTooSlow(
            f"the request took longer than {limits.request_ms} ms ({setting_name('request_ms')})"
        ) from None
    finally:
        _CURRENT.reset(token)
    if budget.refused is not None:
        raise budget.refused
    return result


def budget_middleware(limits: Limits, per_item: frozenset[str] = frozenset()) -> Any:
    """Checks the body's JSON, opens the request's budget and deadline, and
    refuses the request when the work inside ran over a limit. Requests to
    the `per_item` paths (the batch) budget each of their items instead."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in per_item:
            return await handler(request)
        await _checked_body(request, limits)
        return await within_budget(limits, handler(request))

    return middleware
