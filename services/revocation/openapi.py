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
        "/credentials/{credential_id}/status-history": {
            "get": operation(
                "The audit trail of a credential's status changes (who, when, why, request)",
                {
                    "200": "{credentialId, changes: [{eventId, at, action, statusPurpose, status, "
                    "reason, tenant, actor, requestId, idempotencyKey}]}, oldest first",
                    "404": "No such credential for this tenant",
                    "503": "Rebuilding state from Kafka; retry",
                },
                secured=True,
            )
        },
        "/status-lists/{list_id}": {
            "get": operation(
                "A signed BitstringStatusListCredential (application/vc+jwt)",
                {"200": "The list", "304": "Not modified", "404": "No such list"},
            )
        },
    },
    bodies=(StatusUpdateIn,),
)
