"""The issuer's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.issuer.domain.awarding import AwardIn
from services.issuer.identities import IssuerIn
from shared.web.openapi import document, operation

IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}

OPENAPI = document(
    "microcred issuer",
    {
        "/issuers": {
            "post": operation(
                "Create a did:key issuer identity and publish its profile",
                {"201": "Created: {id, profile, didDocument}", "401": "No or unknown token"},
                body=IssuerIn,
                secured=True,
            )
        },
        "/issuers/{did}": {
            "get": operation("The issuer's OB 3.0 Profile", {"200": "Profile", "404": "Unknown"})
        },
        "/issuers/{did}/did.json": {
            "get": operation("The issuer's DID document", {"200": "DID document", "404": "Unknown"})
        },
        "/awards": {
            "post": operation(
                "Award a micro-credential for a passed assessment",
                {
                    "201": "Issued: {credentialId, jwt, credential}",
                    "200": "A retry with the same Idempotency-Key: the first credential",
                    "404": "No such achievement for this tenant",
                    "409": "The achievement is retired or unusable, or its issuer cannot sign",
                    "422": "Score below the mastery threshold, invalid input, or a reused key",
                    "503": "Rebuilding state from Kafka; retry",
                },
                body=AwardIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/credentials/{credential_id}": {
            "get": operation(
                "An issued credential",
                {"200": "{credentialId, jwt, credential}", "404": "Unknown"},
                secured=True,
            )
        },
    },
    bodies=(IssuerIn, AwardIn),
)
