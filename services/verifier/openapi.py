"""The verifier's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

OPENAPI: dict[str, object] = {
    "openapi": "3.1.0",
    "info": {"title": "microcred verifier", "version": "0.1.0"},
    "paths": {
        "/credentials/verify": {
            "post": {
                "summary": "VC-API: verify a credential (JSON with proof, VC-JWT, or enveloped)",
                "responses": {
                    "200": {"description": "Verified: {verified: true, problemDetails, results}"},
                    "400": {"description": "Not verified: the same body with verified: false"},
                },
            }
        },
    },
}
