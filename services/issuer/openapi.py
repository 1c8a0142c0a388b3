"""The issuer's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

OPENAPI: dict[str, object] = {
    "openapi": "3.1.0",
    "info": {"title": "microcred issuer", "version": "0.1.0"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/issuers": {
            "post": {
                "summary": "Create a did:key issuer identity and publish its profile",
                "security": _BEARER,
                "responses": {"201": {"description": "Created"}},
            }
        },
        "/issuers/{did}": {
            "get": {
                "summary": "The issuer's OB 3.0 Profile",
                "responses": {"200": {"description": "Profile"}},
            }
        },
        "/issuers/{did}/did.json": {
            "get": {
                "summary": "The issuer's DID document",
                "responses": {"200": {"description": "DID document"}},
            }
        },
        "/awards": {
            "post": {
                "summary": "Award a micro-credential for a passed assessment",
                "security": _BEARER,
                "parameters": [
                    {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                ],
                "responses": {
                    "201": {"description": "Issued: credentialId, jwt, credential"},
                    "200": {"description": "A retry with the same Idempotency-Key"},
                    "422": {"description": "Score below the mastery threshold, or invalid input"},
                },
            }
        },
        "/credentials/{credentialId}": {
            "get": {
                "summary": "An issued credential",
                "security": _BEARER,
                "responses": {"200": {"description": "The credential"}},
            }
        },
    },
}
