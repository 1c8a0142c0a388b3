"""The catalog's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.catalog.domain import AchievementIn
from services.catalog.provider_domain import (
    AccreditationChangeIn,
    AccreditationIn,
    GenericIssuanceIn,
    ProviderChangeIn,
    ProviderIn,
    ProviderStatusIn,
)
from shared.web.openapi import document, operation

OPENAPI = document(
    "microcred catalog",
    {
        "/achievements": {
            "post": operation(
                "Define a micro-credential (an OB 3.0 Achievement)",
                {
                    "201": "Created: {id, revision, achievement}",
                    "401": "No or unknown bearer token",
                    "404": "No such issuer for this tenant",
                    "422": "Invalid definition",
                },
                body=AchievementIn,
                secured=True,
            )
        },
        "/achievements/{key}": {
            "get": operation(
                "The public OB 3.0 Achievement",
                {"200": "The achievement (application/ld+json)", "404": "No such achievement"},
            )
        },
        "/providers": {
            "post": operation(
                "Register a provider (tenant): registered, not accredited",
                {
                    "201": "Created: the provider record",
                    "401": "No or unknown bearer token",
                    "403": "An operator token",
                    "404": "An issuer DID that is not this tenant's",
                    "409": "An issuer DID of another provider",
                    "422": "Invalid record",
                },
                body=ProviderIn,
                secured=True,
            )
        },
        "/providers/{key}": {
            "get": operation(
                "A provider's public record, accreditations included",
                {"200": "The provider", "404": "No such provider"},
            ),
            "patch": operation(
                "Change the provider's own identity fields (its tenant)",
                {
                    "200": "The provider",
                    "403": "An operator token",
                    "404": "No such provider for this tenant",
                    "409": "An issuer DID of another provider",
                    "422": "Invalid change (status and accreditations are the operator's)",
                },
                body=ProviderChangeIn,
                secured=True,
            ),
        },
        "/providers/{key}/accreditations": {
            "post": operation(
                "Record an accreditation (operator only)",
                {
                    "201": "The provider with the accreditation",
                    "403": "Not an operator token",
                    "404": "No such provider",
                    "409": "An accreditation with this id exists",
                },
                body=AccreditationIn,
                secured=True,
            )
        },
        "/providers/{key}/accreditations/{accreditation}": {
            "patch": operation(
                "Suspend, withdraw, reinstate or re-date an accreditation (operator only)",
                {"200": "The provider", "403": "Not an operator token", "404": "No such one"},
                body=AccreditationChangeIn,
                secured=True,
            )
        },
        "/providers/{key}/status": {
            "put": operation(
                "Set the provider's status: active, suspended, withdrawn (operator only)",
                {"200": "The provider", "403": "Not an operator token", "404": "No such provider"},
                body=ProviderStatusIn,
                secured=True,
            )
        },
        "/providers/{key}/generic-issuance": {
            "put": operation(
                "Let the provider's issuers issue credentials of any type through the "
                "issuer's VC-API POST /credentials/issue, or stop it (operator only)",
                {"200": "The provider", "403": "Not an operator token", "404": "No such provider"},
                body=GenericIssuanceIn,
                secured=True,
            )
        },
        "/trust-list": {
            "get": operation(
                "The registry as a signed trust list: compact JWS (application/jwt) over a"
                " MicrocredTrustList v1 payload; ETag, Cache-Control",
                {"200": "The JWS", "304": "Not modified", "503": "No signing key"},
            )
        },
        "/trust-list.json": {
            "get": operation(
                "The trust list's payload, unsigned, for reading; ETag, Cache-Control",
                {"200": "MicrocredTrustList v1", "304": "Not modified"},
            )
        },
    },
    bodies=(
        AchievementIn,
        ProviderIn,
        ProviderChangeIn,
        AccreditationIn,
        AccreditationChangeIn,
        ProviderStatusIn,
        GenericIssuanceIn,
    ),
)
