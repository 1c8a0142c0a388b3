"""Request bodies in, JSON responses out.

`read_json` enforces content type (415), size (413) and syntax (400);
`decode_body` converts the parsed value into a msgspec Struct (422 with the
failing path; `invalid_field` gives the same answer for rules checked after
decoding). Responses are serialised with orjson.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import msgspec
import orjson
from aiohttp import web

from shared.errors import InvalidField
from shared.web.problems import Problem, domain_problem

T = TypeVar("T")
JSON_TYPES = frozenset({"application/json"})


def is_json_content_type(content_type: str) -> bool:
    """`application/json` or any `application/*+json` (RFC 6839 §3.1)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in JSON_TYPES or (mime.startswith("application/") and mime.endswith("+json"))


def _check_declared_length(request: web.Request, limit: int) -> None:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Problem(413, f"The request body is {declared} bytes; the limit is {limit}.")


async def read_body(request: web.Request, *, limit: int | None = None) -> bytes:
    """The raw body, refusing more than `limit` bytes (default: the app's
    `client_max_size`, which aiohttp also enforces on the actual bytes read)."""
    limit = request.client_max_size if limit is None else limit
    _check_declared_length(request, limit)
    body = await request.read()
    if len(body) > limit:
        raise Problem(413, f"The request body is {len(body)} bytes; the limit is {limit}.")
    return body


async def read_json(request: web.Request, *, limit: int | None = None) -> object:
    """The parsed JSON body: 415 unless the content type is JSON, 413 when too
    large, 400 when empty or malformed."""
    if not is_json_content_type(request.headers.get("Content-Type", "")):
        raise Problem(
            415,
            "Send the body as application/json (or an application/*+json type).",
            headers={"Accept-Post": "application/json"},
        )
    body = await read_body(request, limit=limit)
    if not body.strip():
        raise Problem(400, "The request body is empty; a JSON document is required.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"The request body is not valid JSON: {exc}") from None


def invalid_field(path: str, message: str) -> Problem:
    """A 422 problem naming the request member at `path` (`$.a.b`) and what is wrong."""
    return domain_problem(InvalidField(path, message))


def validation_error(exc: msgspec.ValidationError) -> Problem:
    """A 422 problem from msgspec's message ("Expected `int`, got `str` - at `$.a`")."""
    message, sep, path = str(exc).rpartition(" - at `")
    if not sep:
        message, path = str(exc), "$`"
    return invalid_field(path.rstrip("`"), message)


def convert(value: object, type_: type[T]) -> T:
    """`msgspec.convert` with validation errors turned into a 422 problem."""
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None


async def decode_body(request: web.Request, type_: type[T], *, limit: int | None = None) -> T:
    """Read the JSON body and convert it to `type_` (a msgspec Struct, usually)."""
    return convert(await read_json(request, limit=limit), type_)


def _default(value: object) -> object:
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def dumps(value: object) -> bytes:
    """orjson, also accepting msgspec Structs."""
    return orjson.dumps(value, default=_default)


def json_response(
    data: object,
    status: int = 200,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A JSON response serialised with orjson (aiohttp 3.14 `json_bytes_response`)."""
    return web.json_bytes_response(
        data, dumps=dumps, status=status, content_type=content_type, headers=headers
    )


IDEMPOTENCY_KEY = "Idempotency-Key"


def idempotency_key(request: web.Request, *, reserved: tuple[str, ...] = ()) -> str | None:
    """The request's `Idempotency-Key` header (IETF httpapi draft), one of
    them, 1 to 255 characters, not starting with a `reserved` prefix (keys
    the platform gives writes of its own); 400 otherwise."""
    keys = request.headers.getall(IDEMPOTENCY_KEY, [])
    if len(keys) > 1:
        raise Problem(400, f"send one {IDEMPOTENCY_KEY} header, not {len(keys)}")
    key = keys[0] if keys else None
    if key is not None and not 1 <= len(key) <= 255:
        raise Problem(400, f"{IDEMPOTENCY_KEY} must be 1 to 255 characters")
    if key is not None and key.startswith(reserved):
        raise Problem(400, f"{IDEMPOTENCY_KEY}s starting with {' or '.join(reserved)} are ours")
    return key
