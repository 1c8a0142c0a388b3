"""The OpenAPI fragments every service shares, merged into its own document."""

from __future__ import annotations

import copy
import re

import msgspec

PROBLEM_SCHEMA: dict[str, object] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "format": "uri-reference"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status"],
}


def _problem(description: str) -> dict[str, object]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _get(summary: str, ok: dict[str, object], **more: dict[str, object]) -> dict[str, object]:
    return {"get": {"summary": summary, "tags": ["operations"], "responses": {"200": ok, **more}}}


SHARED_PATHS: dict[str, object] = {
    "/healthz": _get("Liveness: 200 while the process runs", {"description": "alive"}),
    "/readyz": _get(
        "Readiness: 200 once every ready check passes (e.g. Kafka replicas caught up)",
        {"description": "ready"},
        **{"503": _problem("not ready; `failing` lists the checks")},
    ),
    "/metrics": _get(
        "Prometheus metrics",
        {"description": "text exposition", "content": {"text/plain": {}}},
    ),
    "/openapi.json": _get("This document", {"description": "OpenAPI 3.1 document"}),
}


def merge_openapi(document: dict[str, object]) -> dict[str, object]:
    """A copy of `document` with the shared paths and the Problem schema added
    (the service's own definitions win on conflict)."""
    merged = copy.deepcopy(document)
    merged.setdefault("openapi", "3.1.0")
    paths = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    if not isinstance(paths, dict) or not isinstance(components, dict):
        raise TypeError("openapi document: 'paths' and 'components' must be objects")
    for path, item in SHARED_PATHS.items():
        paths.setdefault(path, copy.deepcopy(item))
    schemas = components.setdefault("schemas", {})
    if not isinstance(schemas, dict):
        raise TypeError("openapi document: 'components.schemas' must be an object")
    schemas.setdefault("Problem", copy.deepcopy(PROBLEM_SCHEMA))
    return merged


SCHEMA_REF = "#/components/schemas/{name}"
BEARER = "bearer"


def json_body(type_: type) -> dict[str, object]:
    """An OpenAPI `requestBody` for a msgspec Struct (see `document`)."""
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": SCHEMA_REF.format(name=type_.__name__)}}
        },
    }


def operation(
    summary: str,
    responses: dict[str, str],
    *,
    body: type | None = None,
    secured: bool = False,
    **extra: object,
) -> dict[str, object]:
    """One operation: `responses` maps status codes to descriptions."""
    op: dict[str, object] = {
        "summary": summary,
        "responses": {code: {"description": text} for code, text in responses.items()},
        **extra,
    }
    if body is not None:
        op["requestBody"] = json_body(body)
    if secured:
        op["security"] = [{BEARER: []}]
    return op


def document(
    title: str, paths: dict[str, object], *, bodies: tuple[type, ...] = ()
) -> dict[str, object]:
    """A service's OpenAPI 3.1 document; request body schemas come from the
    very msgspec Structs that validate the bodies, so they cannot drift."""
    _, schemas = msgspec.json.schema_components(bodies, ref_template=SCHEMA_REF)
    for path, item in paths.items():
        if isinstance(item, dict):
            _declare_path_parameters(path, item)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "0.1.0"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {BEARER: {"type": "http", "scheme": "bearer"}},
        },
        "paths": paths,
    }


def _declare_path_parameters(path: str, item: dict[str, object]) -> None:
    """Every `{name}` of a path template, declared on each of its operations."""
    names = re.findall(r"{(\w+)}", path)
    for op in item.values():
        if isinstance(op, dict) and names:
            declared = op.setdefault("parameters", [])
            assert isinstance(declared, list)
            declared.extend(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in names
            )
