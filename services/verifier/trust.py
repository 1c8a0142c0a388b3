"""Whom the verifier trusts, and who looks like someone it trusts.

Trust is earned, not claimed (architecture invariant 9): the `trust` check
is `ok` only when the issuer DID belongs to a provider that the operator
accredited, with an active accreditation, valid now, whose scope covers the
achievement's EQF level (`eqfLevel`, our extension), field of study and
achievement type as the credential states them. Otherwise the check fails
with its level as `code`: `registered` (a known provider or registered
issuer, not accredited, or an accreditation out of scope or out of date),
`unknown`, `suspended` or `withdrawn` (the provider's status, or that of
the accreditation that would cover the credential). The verdict is `valid`
only for `accredited`, unless the caller's trust policy is `registered`
(`MICROCRED_VERIFIER_ACCEPT_REGISTERED`, or the VC-API `options.trust`): then
`registered` counts too, while `unknown`, `suspended` and `withdrawn` never
do (issue 8: "a documented verifier policy may also accept registered").
`verified` stays the W3C meaning (proof, validity, status).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from services.verifier.impostors import Named
from services.verifier.replica import Replica
from shared.credentials.report import CheckResult, Outcome
from shared.events import AccreditationScope, ProviderAccreditation, ProviderPublished
from shared.providers import accreditation_view

TRUST = "trust"
IMPERSONATION = "impersonation"

# Which trust levels give the verdict `valid`: `accredited` only (the
# default), or `registered` providers as well.
TrustPolicy = Literal["accredited", "registered"]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _level(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@dataclass(frozen=True)
class Claims:
    """What a credential says about its issuer and achievement."""

    issuer_did: str | None
    issuer_name: str | None
    achievement_id: str | None
    eqf_level: int | None
    field_of_study: str | None
    achievement_type: str | None
    achievement_revision: int | None = None  # the catalog revision it was issued under

    @classmethod
    def of(cls, credential: dict[str, Any]) -> Claims:
        issuer = credential.get("issuer")
        profile = issuer if isinstance(issuer, dict) else {"id": issuer}
        subject = credential.get("credentialSubject")
        found = subject.get("achievement") if isinstance(subject, dict) else None
        achievement = found if isinstance(found, dict) else {}
        return cls(
            issuer_did=_text(profile.get("id")),
            issuer_name=_text(profile.get("name")),
            achievement_id=_text(achievement.get("id")),
            eqf_level=_level(achievement.get("eqfLevel")),
            field_of_study=_text(achievement.get("fieldOfStudy")),
            achievement_type=_text(achievement.get("achievementType")),
            achievement_revision=_level(achievement.get("revision")),
        )


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def out_of_scope(scope: AccreditationScope, claims: Claims) -> str | None:
    """Why the scope does not cover the claims (None: it does; an empty list
    leaves that dimension open)."""
    if scope.eqf_levels and claims.eqf_level not in scope.eqf_levels:
        levels = ", ".join(map(str, scope.eqf_levels))
        return f"EQF level {claims.eqf_level or 'none'} is not among {levels}"
    wanted = claims.field_of_study or ""
    if scope.fields_of_study and not any(_same(f, wanted) for f in scope.fields_of_study):
        return f"field of study {claims.field_of_study or 'none'!r} is not in its scope"
    kind = claims.achievement_type or ""
    if scope.achievement_types and not any(_same(t, kind) for t in scope.achievement_types):
        return f"achievement type {claims.achievement_type or 'none'!r} is not in its scope"
    return None


def _in_force(accreditation: ProviderAccreditation, now: str) -> str | None:
    if now < accreditation.valid_from:
        return f"valid only from {accreditation.valid_from}"
    if accreditation.valid_until is not None and now >= accreditation.valid_until:
        return f"expired on {accreditation.valid_until}"
    return None


def _provider(provider: ProviderPublished) -> dict[str, Any]:
    return {
        "id": provider.provider_id,
        "legalName": provider.legal_name,
        "country": provider.country,
        "status": provider.status,
        "issuerDids": list(provider.issuer_dids),
    }


def _result(level: str, reason: str, **details: Any) -> CheckResult:
    outcome: Outcome = "ok" if level == "accredited" else "failed"
    return CheckResult(TRUST, outcome, reason, level, details={"level": level, **details})


def _accreditation_level(provider: ProviderPublished, claims: Claims, now: str) -> CheckResult:
    name, why_not = provider.legal_name, []
    lapsed: ProviderAccreditation | None = None
    for accreditation in provider.accreditations:
        gap = out_of_scope(accreditation.scope, claims) or _in_force(accreditation, now)
        if gap is not None:
            why_not.append(f"accreditation {accreditation.accreditation_id}: {gap}")
        elif accreditation.status == "active":
            until = accreditation.valid_until or "no end date"
            reason = (
                f"{name} is accredited by {accreditation.quality_assurance_body} "
                f"({accreditation.accreditation_id}, until {until})"
            )
            view = accreditation_view(accreditation)
            return _result("accredited", reason, provider=_provider(provider), accreditation=view)
        elif lapsed is None or accreditation.status == "withdrawn":
            lapsed = accreditation
    if lapsed is not None:
        reason = (
            f"the accreditation of {name} by {lapsed.quality_assurance_body} "
            f"({lapsed.accreditation_id}) is {lapsed.status}"
        )
        view = accreditation_view(lapsed)
        return _result(lapsed.status, reason, provider=_provider(provider), accreditation=view)
    because = "; ".join(why_not) if why_not else "no accreditation"
    reason = f"{name} is a registered provider, not accredited for this credential ({because})"
    return _result("registered", reason, provider=_provider(provider))


def provider_level(provider: ProviderPublished, claims: Claims, now: str) -> CheckResult:
    """A registry record's trust level for these claims (ours, or an entry
    of another trust list)."""
    if provider.status != "active":
        why = f": {provider.status_reason}" if provider.status_reason else ""
        reason = f"the operator has {provider.status} provider {provider.legal_name}{why}"
        return _result(provider.status, reason, provider=_provider(provider))
    return _accreditation_level(provider, claims, now)


def trust_check(claims: Claims, replica: Replica, now: str) -> CheckResult:
    """The issuer's trust level; `now` in the registry's form (`...Z`, seconds)."""
    did = claims.issuer_did or ""
    provider = replica.provider_for(did)
    if provider is not None:
        return provider_level(provider, claims, now)
    issuer = replica.issuers.get(did)
    if issuer is not None:
        reason = f"issuer {issuer.profile.get('name')!s} is registered here, not accredited"
        return _result("registered", reason)
    return _result("unknown", "the issuer is not registered on this platform")


def under_policy(trust: CheckResult, policy: TrustPolicy) -> CheckResult:
    """The trust check as the policy judges it: under `registered`, a
    `registered` level passes (its `code` stays `registered`); every other
    level is judged as before. The details name the policy applied."""
    details = {**(trust.details or {}), "policy": policy}
    if policy == "registered" and trust.code == "registered":
        reason = f"{trust.reason} (accepted: the trust policy is `registered`)"
        return dataclasses.replace(trust, outcome="ok", reason=reason, details=details)
    return dataclasses.replace(trust, details=details)


def _holder(replica: Replica, named: Named) -> tuple[str, str, list[str]] | None:
    """(tenant, name, DIDs) of a name's holder."""
    if named.kind == "provider":
        provider = replica.providers.get(named.id)
        if provider is None:
            return None
        return provider.tenant, provider.legal_name, list(provider.issuer_dids)
    issuer = replica.issuers.get(named.id)
    if issuer is None:
        return None
    provider = replica.provider_for(named.id)
    if provider is not None:
        return provider.tenant, provider.legal_name, list(provider.issuer_dids)
    return issuer.tenant, str(issuer.profile.get("name")), [named.id]


def _impostor(claims: Claims, replica: Replica) -> tuple[str, tuple[str, str, list[str]]] | None:
    """What the issuer copies (name or achievement) and whose it is."""
    did = claims.issuer_did or ""
    own = replica.issuers.get(did)
    own_tenant = own.tenant if own is not None else None
    for named in replica.names.find(claims.issuer_name):
        holder = _holder(replica, named)
        if holder is not None and holder[0] != own_tenant and did not in holder[2]:
            return "name", holder
    achievement = replica.achievements.get(claims.achievement_id or "")
    if achievement is not None and achievement.issuer_did != did:
        holder = _holder(replica, Named("issuer", achievement.issuer_did))
        if holder is not None and holder[0] != own_tenant:
            return "achievement", holder
    return None


def impersonation_check(claims: Claims, replica: Replica, level: str | None) -> CheckResult:
    """Failed when an issuer that is not accredited copies another's name or
    achievement; names the real provider (or issuer) and its DIDs."""
    if level == "accredited":
        return CheckResult(IMPERSONATION, "ok", "an accredited provider")
    found = _impostor(claims, replica)
    if found is None:
        return CheckResult(IMPERSONATION, "ok", "no registered name or achievement is copied")
    copied, (_, name, dids) = found
    what = (
        f"the issuer name {claims.issuer_name!r} is that of"
        if copied == "name"
        else f"the achievement {claims.achievement_id} belongs to"
    )
    reason = (
        f"{what} {name}, whose issuer DIDs are {', '.join(dids)}; "
        f"this credential is signed by {claims.issuer_did}"
    )
    details = {"copied": copied, "realProvider": name, "realIssuerDids": dids}
    return CheckResult(IMPERSONATION, "failed", reason, "impersonation", details=details)
