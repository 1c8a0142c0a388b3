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
        "/presentations/verify": {
            "post": {
                "summary": (
                    "VC-API: verify a presentation (Data Integrity, VP-JWT, or enveloped "
                    "VP-JWT) and every credential in it"
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["verifiablePresentation"],
                                "properties": {
                                    "verifiablePresentation": {"type": ["object", "string"]},
                                    "options": {
                                        "type": "object",
                                        "properties": {
                                            "challenge": {"type": "string"},
                                            "domain": {"type": "string"},
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": (
                            "Verified: {verified: true, problemDetails: [], results: "
                            "{presentation: {proof, challenge, domain, holder}, credentials: "
                            "[each as /credentials/verify answers]}}"
                        )
                    },
                    "400": {"description": "Not verified: the same body with verified: false"},
                    "422": {"description": "Malformed request, or more than 100 credentials"},
                },
            }
        },
    },
}
