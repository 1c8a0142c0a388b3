"""The revocation service's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

from services.revocation.routes import StatusUpdateIn
from shared.web.openapi import document, operation

OPENAPI = document(
    "microcred revocation",
    {
        "/credentials/status": {
            "post": operation(
                "VC-API: revoke, suspend or reinstate a credential",
                {
                    "200": "The status was set: {credentialId, statusPurpose, status, changed}",
                    "404": "No such credential for this tenant",
                    "409": "Revocation is permanent",
                    "422": "Invalid request, or an Idempotency-Key reused for another request",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=StatusUpdateIn,
                secured=True,
                parameters=[
                    {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                ],
            )
        },
        "/status-lists/{list_id}": {
            "get": operation(
                "A signed BitstringStatusListCredential: JSON-LD with an eddsa-rdfc-2022 "
                "proof (application/vc+ld+json), or a VC-JWT when Accept asks for "
                "application/vc+jwt",
                {"200": "The list", "304": "Not modified", "404": "No such list"},
            )
        },
    },
    bodies=(StatusUpdateIn,),
)
