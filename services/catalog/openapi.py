"""The catalog's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

OPENAPI: dict[str, object] = {
    "openapi": "3.1.0",
    "info": {"title": "microcred catalog", "version": "0.1.0"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "paths": {
        "/achievements": {
            "post": {
                "summary": "Define a micro-credential (an OB 3.0 Achievement)",
                "security": [{"bearer": []}],
                "responses": {"201": {"description": "Created"}},
            }
        },
        "/achievements/{key}": {
            "get": {
                "summary": "The public OB 3.0 Achievement",
                "responses": {"200": {"description": "The achievement"}},
            }
        },
    },
}
