"""The revocation service's OpenAPI document (shared paths are merged in)."""

from __future__ import annotations

from services.revocation.jobs import StatusJobIn
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
        "/status-jobs": {
            "post": operation(
                "A bulk revoke / suspend / reinstate job over a list of credential ids or a"
                " selection (achievement, revision, issue dates)",
                {
                    "202": "The job: {id, state, action, submittedAt, progress, items}",
                    "200": "The same job, for a retried Idempotency-Key",
                    "422": "Both or neither of credentialIds and selection; an empty selection",
                },
                body=StatusJobIn,
                secured=True,
                parameters=[
                    {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                ],
            )
        },
        "/status-jobs/{job_id}": {
            "get": operation(
                "A job's state, progress counters and per-item outcomes",
                {"200": "The job", "404": "No such job for this tenant"},
                secured=True,
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
                "A signed BitstringStatusListCredential: JSON-LD with an eddsa-rdfc-2022 "
                "proof (application/vc+ld+json), or a VC-JWT when Accept asks for "
                "application/vc+jwt",
                {"200": "The list", "304": "Not modified", "404": "No such list"},
            )
        },
    },
    bodies=(StatusUpdateIn, StatusJobIn),
)
