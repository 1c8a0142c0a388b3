"""The provider registry's request bodies and the pure changes they make.

A provider (a tenant) registers itself and edits its own identity fields;
only the operator writes accreditations and the provider's status
(architecture invariant 9): the provider's bodies have no such members and
refuse unknown ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.credentials.builders import format_datetime
from shared.credentials.shape_rules import is_url
from shared.errors import Conflict, InvalidField, NotFound
from shared.events import (
    AccreditationScope,
    KeyedWrite,
    Lifecycle,
    ProviderAccreditation,
    ProviderPublished,
    next_record,
)
from shared.policy_profiles import DEFAULT_PROFILE, PolicyProfile
from shared.providers import WebDomain
from shared.text import has_visible_character
from shared.timestamps import Timestamp, TimestampError, utc_instant

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Did = Annotated[str, msgspec.Meta(pattern="^did:[a-z0-9]+:.+$", max_length=2000)]
IssuerDids = Annotated[list[Did], msgspec.Meta(min_length=1, max_length=50)]
ProviderType = Literal[
    "university", "college", "vocational", "training-provider", "employer", "other"
]
# Kept on the record: a retry of any of them replays, even after compaction.
MAX_WRITES_KEPT = 500


class ProviderIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /providers` (tenant): the provider registers itself."""

    legalName: Name
    country: Country
    type: ProviderType
    issuerDids: IssuerDids
    webDomain: WebDomain | None = None
    policyProfile: PolicyProfile = DEFAULT_PROFILE


class ProviderChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    """`PATCH /providers/{key}` (its tenant): identity fields only."""

    legalName: Name | None = None
    country: Country | None = None
    type: ProviderType | None = None
    issuerDids: IssuerDids | None = None
    webDomain: WebDomain | None = None
    policyProfile: PolicyProfile | None = None


class QualityAssuranceBodyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ScopeIn(msgspec.Struct, forbid_unknown_fields=True):
    """An empty (or missing) list leaves that dimension open."""

    eqfLevels: list[Annotated[int, msgspec.Meta(ge=1, le=8)]] = []
    fieldsOfStudy: list[Short] = []
    achievementTypes: list[Short] = []


class AccreditationIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /providers/{key}/accreditations` (operator)."""

    id: Short
    qualityAssuranceBody: QualityAssuranceBodyIn
    scope: ScopeIn
    validFrom: Timestamp
    validUntil: Timestamp | None = None
    status: Lifecycle = "active"


class AccreditationChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    """`PATCH /providers/{key}/accreditations/{id}` (operator)."""

    status: Lifecycle | None = None
    validUntil: Timestamp | None = None


class ProviderStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    """`PUT /providers/{key}/status` (operator)."""

    status: Lifecycle
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class GenericIssuanceIn(msgspec.Struct, forbid_unknown_fields=True):
    """`PUT /providers/{key}/generic-issuance` (operator)."""

    enabled: bool


class ProviderNotFound(NotFound):
    title = "Provider not found"


class AccreditationNotFound(NotFound):
    title = "Accreditation not found"


class IssuerClaimed(Conflict):
    title = "Issuer belongs to another provider"


class DomainClaimed(Conflict):
    title = "Web domain belongs to another provider"


class AccreditationWithdrawn(Conflict):
    """A withdrawal is final: the operator's endorsement of it is revoked in
    its status list, and revocation is permanent (Bitstring Status List v1.0
    §2.1). Record a new accreditation instead."""

    title = "Accreditation withdrawn"
    problem = "accreditation-withdrawn"


class AccreditationExists(Conflict):
    title = "Accreditation exists"


def _instant(path: str, moment: datetime) -> str:
    try:
        return format_datetime(utc_instant(moment))
    except TimestampError as error:
        raise InvalidField(path, str(error)) from None


def _check_window(valid_from: str, valid_until: str | None) -> None:
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidField("$.validUntil", "must be after validFrom")


def accreditation(body: AccreditationIn, operator: str) -> ProviderAccreditation:
    url = body.qualityAssuranceBody.url
    if url is not None and not is_url(url):
        # It becomes the accreditor's `id` and `url` in every credential of the provider.
        raise InvalidField("$.qualityAssuranceBody.url", "must be an http(s) URL")
    valid_from = _instant("$.validFrom", body.validFrom)
    valid_until = None if body.validUntil is None else _instant("$.validUntil", body.validUntil)
    _check_window(valid_from, valid_until)
    return ProviderAccreditation(
        accreditation_id=body.id,
        quality_assurance_body=body.qualityAssuranceBody.name,
        quality_assurance_body_url=body.qualityAssuranceBody.url,
        scope=AccreditationScope(
            eqf_levels=sorted(set(body.scope.eqfLevels)),
            fields_of_study=list(body.scope.fieldsOfStudy),
            achievement_types=list(body.scope.achievementTypes),
        ),
        valid_from=valid_from,
        valid_until=valid_until,
        status=body.status,
        recorded_by=operator,
    )


def _check_legal_name(name: str | None) -> None:
    if name is not None and not has_visible_character(name):
        # The name the trust list and verification pages show.
        raise InvalidField("$.legalName", "must have a visible character")


def registered(
    tenant: str, provider_id: str, body: ProviderIn, write: KeyedWrite | None
) -> ProviderPublished:
    """A new provider: registered, not accredited."""
    _check_legal_name(body.legalName)
    return ProviderPublished(
        tenant=tenant,
        provider_id=provider_id,
        revision=1,
        legal_name=body.legalName,
        country=body.country,
        provider_type=body.type,
        web_domain=body.webDomain,
        issuer_dids=list(dict.fromkeys(body.issuerDids)),
        writes=[] if write is None else [write],
        policy_profile=body.policyProfile,
    )


def _next(
    current: ProviderPublished, write: KeyedWrite | None, **changes: object
) -> ProviderPublished:
    writes = current.writes if write is None else [*current.writes, write][-MAX_WRITES_KEPT:]
    return next_record(current, revision=current.revision + 1, writes=writes, **changes)


def changed(
    current: ProviderPublished, body: ProviderChangeIn, write: KeyedWrite | None
) -> ProviderPublished:
    _check_legal_name(body.legalName)
    dids = current.issuer_dids if body.issuerDids is None else list(dict.fromkeys(body.issuerDids))
    return _next(
        current,
        write,
        legal_name=body.legalName or current.legal_name,
        country=body.country or current.country,
        provider_type=body.type or current.provider_type,
        web_domain=body.webDomain or current.web_domain,
        issuer_dids=dids,
        policy_profile=body.policyProfile or current.policy_profile,
    )


def accredited(
    current: ProviderPublished, new: ProviderAccreditation, write: KeyedWrite | None
) -> ProviderPublished:
    if any(a.accreditation_id == new.accreditation_id for a in current.accreditations):
        raise AccreditationExists(f"accreditation {new.accreditation_id} is recorded already")
    return _next(current, write, accreditations=[*current.accreditations, new])


def accreditation_changed(
    current: ProviderPublished,
    accreditation_id: str,
    body: AccreditationChangeIn,
    write: KeyedWrite | None,
) -> ProviderPublished:
    found = [a for a in current.accreditations if a.accreditation_id == accreditation_id]
    if not found:
        raise AccreditationNotFound(f"no accreditation {accreditation_id} for this provider")
    old = found[0]
    if old.status == "withdrawn":
        raise AccreditationWithdrawn(
            f"accreditation {accreditation_id} was withdrawn; record a new one instead"
        )
    until = old.valid_until
    if body.validUntil is not None:
        until = _instant("$.validUntil", body.validUntil)
        _check_window(old.valid_from, until)
    new = msgspec.structs.replace(old, status=body.status or old.status, valid_until=until)
    accreditations = [new if a is old else a for a in current.accreditations]
    return _next(current, write, accreditations=accreditations)


def status_set(
    current: ProviderPublished, body: ProviderStatusIn, write: KeyedWrite | None
) -> ProviderPublished:
    return _next(current, write, status=body.status, status_reason=body.reason)


def generic_issuance_set(
    current: ProviderPublished, body: GenericIssuanceIn, write: KeyedWrite | None
) -> ProviderPublished:
    return _next(current, write, generic_issuance=body.enabled)
