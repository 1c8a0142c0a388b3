"""The catalog's OpenAPI document (shared paths are merged in by the scaffold)."""

from __future__ import annotations

from services.catalog.domain import AchievementIn
from services.catalog.pathways import PathwayIn
from services.catalog.provider_domain import (
    AccreditationChangeIn,
    AccreditationIn,
    GenericIssuanceIn,
    ProviderChangeIn,
    ProviderIn,
    ProviderStatusIn,
)
from shared.web.openapi import document, operation


def _query(name: str, description: str, kind: str = "string") -> dict[str, object]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind},
    }


IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
LIST_PARAMETERS = [
    _query("provider", "A provider's id (or its key): its issuers' achievements"),
    _query("issuer", "An issuer DID"),
    _query("type", "achievementType, e.g. MicroCredential"),
    _query("level", "EQF level (1-8)", "integer"),
    _query("status", "active or retired"),
    _query("q", "Full text: every word in the name, description, tags or field of study"),
    _query("skill", "An alignment targetUrl, or its start (e.g. an ESCO skill URI)"),
    _query("language", "BCP 47 tag; `en` matches `en-GB`"),
    _query("limit", "Page size, 1-100 (default 20)", "integer"),
    _query("cursor", "Where the page starts: the previous page's `next`", "integer"),
]

OPENAPI = document(
    "microcred catalog",
    {
        "/achievements": {
            "post": operation(
                "Define a micro-credential (an OB 3.0 Achievement), revision 1",
                {
                    "201": "Created: {id, revision, status, achievement}",
                    "401": "No or unknown bearer token",
                    "404": "No such issuer for this tenant",
                    "422": "Invalid definition: `errors` names every member the credential"
                    " format refuses, or the provider's policy profile requires"
                    " (profile-requirements-unmet)",
                },
                body=AchievementIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            ),
            "get": operation(
                "List and search the tenant's achievements (current revisions)",
                {
                    "200": "{items: [{id, revision, status, issuerDid, updatedAt, achievement}],"
                    " total, next}",
                    "401": "No or unknown bearer token",
                    "422": "A bad query parameter",
                },
                secured=True,
                parameters=LIST_PARAMETERS,
            ),
        },
        "/achievements/{key}": {
            "get": operation(
                "The public OB 3.0 Achievement (its newest revision, or `?revision=N`);"
                " X-Achievement-Revision and X-Achievement-Status headers",
                {"200": "The achievement (application/ld+json)", "404": "No such achievement"},
                parameters=[_query("revision", "An older revision", "integer")],
            ),
            "put": operation(
                "Revise: the whole definition again, published as the next revision",
                {
                    "200": "{id, revision, status, achievement}",
                    "404": "No such achievement for this tenant",
                    "409": "The achievement is retired",
                    "422": "Invalid definition, or another issuerDid",
                },
                body=AchievementIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            ),
        },
        "/achievements/{key}/retire": {
            "post": operation(
                "Retire: no new awards; credentials already issued stay valid",
                {
                    "200": "{id, revision, status: retired, achievement}",
                    "404": "No such achievement for this tenant",
                },
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            )
        },
        "/achievements/{key}/revisions": {
            "get": operation(
                "Every revision of the achievement, oldest first",
                {
                    "200": "{id, revisions: [{revision, status, publishedAt, achievement}]}",
                    "404": "No such achievement",
                },
            )
        },
        "/pathways": {
            "post": operation(
                "Define a pathway (a stack): core components (all-of), electives (n-of),"
                " optional ordering, and the achievement it is awarded as (new or linked)",
                {
                    "201": "Created: {id, revision, status, name, achievementId, issuerDid,"
                    " core, electives, electivesRequired, ordered}",
                    "401": "No or unknown bearer token",
                    "404": "achievementId: no such achievement for this tenant",
                    "409": "achievementId: already another pathway's achievement",
                    "422": "invalid-pathway: `errors` names every unknown, retired or"
                    " unaccredited component and every cycle; or an invalid achievement",
                },
                body=PathwayIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            ),
            "get": operation(
                "The tenant's pathways (newest revisions)",
                {"200": "{items: [pathway]}", "401": "No or unknown bearer token"},
                secured=True,
            ),
        },
        "/pathways/{key}": {
            "get": operation(
                "A pathway of the tenant's",
                {"200": "The pathway", "404": "No such pathway for this tenant"},
                secured=True,
            ),
            "put": operation(
                "Revise: components and rule again (same achievement), the next revision",
                {
                    "200": "The pathway",
                    "404": "No such pathway for this tenant",
                    "409": "The pathway is retired",
                    "422": "invalid-pathway, as on creation (cycles included)",
                },
                body=PathwayIn,
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
            ),
        },
        "/pathways/{key}/retire": {
            "post": operation(
                "Retire: no more stacked awards; those made stay valid",
                {"200": "The pathway, status retired", "404": "No such pathway for this tenant"},
                secured=True,
                parameters=[IDEMPOTENCY_KEY],
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
    },
    bodies=(
        AchievementIn,
        PathwayIn,
        ProviderIn,
        ProviderChangeIn,
        AccreditationIn,
        AccreditationChangeIn,
        ProviderStatusIn,
        GenericIssuanceIn,
    ),
)
