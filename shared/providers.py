"""The provider registry's public view, shared by the catalog (its API) and
the verifier (the trust details it reports): one rendering of a
`ProviderPublished` record, in the API's camelCase; and the one type of a
web domain (a provider's, or a self-hosted did:web identity's)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from shared.events import AccreditationScope, ProviderAccreditation, ProviderPublished

# A lower-case DNS name (RFC 1035 §2.3.1 labels; no port, no scheme).
WebDomain = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="a lower-case DNS name, e.g. poly.example",
    ),
]


def scope_view(scope: AccreditationScope) -> dict[str, Any]:
    return {
        "eqfLevels": list(scope.eqf_levels),
        "fieldsOfStudy": list(scope.fields_of_study),
        "achievementTypes": list(scope.achievement_types),
    }


def accreditation_view(accreditation: ProviderAccreditation) -> dict[str, Any]:
    return {
        "id": accreditation.accreditation_id,
        "qualityAssuranceBody": {
            "name": accreditation.quality_assurance_body,
            "url": accreditation.quality_assurance_body_url,
        },
        "scope": scope_view(accreditation.scope),
        "validFrom": accreditation.valid_from,
        "validUntil": accreditation.valid_until,
        "status": accreditation.status,
        "recordedBy": accreditation.recorded_by,
    }


def provider_view(provider: ProviderPublished) -> dict[str, Any]:
    """The public record (`GET /providers/{key}`); no tenant, no idempotency keys."""
    return {
        "id": provider.provider_id,
        "revision": provider.revision,
        "legalName": provider.legal_name,
        "country": provider.country,
        "type": provider.provider_type,
        "webDomain": provider.web_domain,
        "issuerDids": list(provider.issuer_dids),
        "status": provider.status,
        "statusReason": provider.status_reason,
        "accreditations": [accreditation_view(a) for a in provider.accreditations],
        "policyProfile": provider.policy_profile,
        "genericIssuance": provider.generic_issuance,
    }


def accredited(provider: ProviderPublished, now: str) -> bool:
    """Whether the provider is active with an accreditation in force at
    `now` (RFC 3339 UTC): the registry's meaning of "accredited"."""
    return provider.status == "active" and any(
        a.status == "active"
        and a.valid_from <= now
        and (a.valid_until is None or now < a.valid_until)
        for a in provider.accreditations
    )
