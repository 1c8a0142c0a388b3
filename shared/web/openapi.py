"""The OpenAPI fragments every service shares, merged into its own document."""

from __future__ import annotations

import copy

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
