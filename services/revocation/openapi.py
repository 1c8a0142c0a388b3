"""The revocation service's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

OPENAPI: dict[str, object] = {
    "openapi": "3.1.0",
    "info": {"title": "microcred revocation", "version": "0.1.0"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/credentials/status": {
            "post": {
                "summary": "VC-API: revoke, suspend or reinstate a credential",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "The status was set"},
                    "404": {"description": "No such credential for this tenant"},
                    "409": {"description": "Revocation is permanent"},
                },
            }
        },
        "/status-lists/{listId}": {
            "get": {
                "summary": "A signed BitstringStatusListCredential (application/vc+jwt)",
                "responses": {
                    "200": {"description": "The list"},
                    "304": {"description": "Not modified"},
                },
            }
        },
    },
}
