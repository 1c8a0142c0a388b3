"""The verifier's trust levels and look-alike warnings (invariant 9), on a
replica fed by hand with the events Kafka would carry."""

from __future__ import annotations

from typing import Any

import pytest

from services.verifier.impostors import normalise_name
from services.verifier.replica import Replica
from services.verifier.settings import Settings
from services.verifier.trust import Claims, impersonation_check, trust_check, under_policy
from shared.events import (
    AccreditationScope,
    AchievementPublished,
    IssuerProfilePublished,
    ProviderAccreditation,
    ProviderPublished,
)
from shared.settings import SettingsError

NOW = "2026-06-01T00:00:00Z"
HARVARD = "did:key:zHarvard"
FAKE = "did:key:zFake"
ACHIEVEMENT = "https://catalog.example/achievements/mba"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Harvard University", "harvard"),
        ("HARVARD UNIVERSITY, Inc.", "Harvard"),
        ("University of Oxford", "Oxford University"),
        ("Universität Zürich", "Zurich University"),
        ("Université de Genève", "Geneve"),
        ("Acme Training GmbH", "ACME training Ltd."),
        ("Trinity College", "Trinity"),
    ],
)
def test_names_that_look_alike_normalise_alike(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b) != ""


def test_distinct_and_generic_names_do_not_match() -> None:
    assert normalise_name("Oxford Brookes University") != normalise_name("University of Oxford")
    assert normalise_name("Harvard Business School") != normalise_name("Harvard University")
    assert normalise_name("University College Ltd") == ""  # nothing distinctive


def issuer(did: str, tenant: str, name: str) -> IssuerProfilePublished:
    return IssuerProfilePublished(
        tenant=tenant, did=did, profile={"id": did, "name": name}, did_document={"id": did}
    )


def accreditation(**changes: Any) -> ProviderAccreditation:
    fields: dict[str, Any] = {
        "accreditation_id": "NECHE-7",
        "quality_assurance_body": "NECHE",
        "scope": AccreditationScope(
            eqf_levels=[7], fields_of_study=["Business"], achievement_types=["MicroCredential"]
        ),
        "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2030-01-01T00:00:00Z",
        "recorded_by": "operator",
        **changes,
    }
    return ProviderAccreditation(**fields)


def provider(*accreditations: ProviderAccreditation, **changes: Any) -> ProviderPublished:
    fields: dict[str, Any] = {
        "tenant": "harvard",
        "provider_id": "https://catalog.example/providers/h",
        "revision": 1 + len(accreditations),
        "legal_name": "Harvard University",
        "country": "US",
        "provider_type": "university",
        "issuer_dids": [HARVARD],
        "accreditations": list(accreditations),
        **changes,
    }
    return ProviderPublished(**fields)


def world(*events: Any) -> Replica:
    replica = Replica()
    replica.apply(issuer(HARVARD, "harvard", "Harvard University"))
    for event in events:
        replica.apply(event)
    return replica


def credential(did: str = HARVARD, *, level: int = 7, name: str = "Harvard University") -> Claims:
    return Claims.of(
        {
            "issuer": {"id": did, "name": name},
            "credentialSubject": {
                "achievement": {
                    "id": ACHIEVEMENT,
                    "achievementType": "MicroCredential",
                    "fieldOfStudy": "business",
                    "eqfLevel": level,
                }
            },
        }
    )


def level(replica: Replica, claims: Claims) -> str | None:
    result = trust_check(claims, replica, NOW)
    assert (result.outcome == "ok") == (result.code == "accredited"), result
    return result.code


def test_unknown_and_registered_are_never_trusted() -> None:
    assert level(world(), credential(FAKE)) == "unknown"
    assert level(world(), credential()) == "registered"  # a registered issuer, no provider
    result = trust_check(credential(), world(provider()), NOW)
    assert (result.outcome, result.code) == ("failed", "registered")
    assert "no accreditation" in (result.reason or "")


def test_accredited_within_scope_and_dates() -> None:
    result = trust_check(credential(), world(provider(accreditation())), NOW)
    assert (result.outcome, result.code) == ("ok", "accredited")
    assert result.details is not None
    assert result.details["accreditation"]["qualityAssuranceBody"]["name"] == "NECHE"
    assert result.details["accreditation"]["validUntil"] == "2030-01-01T00:00:00Z"
    assert "NECHE" in (result.reason or "") and "2030-01-01" in (result.reason or "")


def test_out_of_scope_or_out_of_date_is_only_registered() -> None:
    replica = world(provider(accreditation()))
    result = trust_check(credential(level=8), replica, NOW)
    assert result.code == "registered" and "EQF level 8" in (result.reason or "")
    expired = world(provider(accreditation(valid_until="2026-01-01T00:00:00Z")))
    result = trust_check(credential(), expired, NOW)
    assert result.code == "registered" and "expired" in (result.reason or "")
    future = world(provider(accreditation(valid_from="2027-01-01T00:00:00Z")))
    assert level(future, credential()) == "registered"
    other_field = accreditation(scope=AccreditationScope(fields_of_study=["Medicine"]))
    assert level(world(provider(other_field)), credential()) == "registered"


def test_withdrawn_and_suspended() -> None:
    assert level(world(provider(accreditation(status="withdrawn"))), credential()) == "withdrawn"
    assert level(world(provider(accreditation(status="suspended"))), credential()) == "suspended"
    suspended = provider(accreditation(), status="suspended", status_reason="audit")
    result = trust_check(credential(), world(suspended), NOW)
    assert result.code == "suspended" and "audit" in (result.reason or "")
    assert level(world(provider(accreditation(), status="withdrawn")), credential()) == "withdrawn"
    # A second, active accreditation in scope still counts.
    renewed = provider(accreditation(status="withdrawn"), accreditation(accreditation_id="N-2"))
    assert level(world(renewed), credential()) == "accredited"


def test_a_provider_record_cannot_adopt_another_tenants_issuer() -> None:
    replica = world(issuer(FAKE, "fraud", "Fake"))
    replica.apply(provider(accreditation(), tenant="fraud", issuer_dids=[HARVARD]))
    assert level(replica, credential()) == "registered"  # Harvard's DID, not the record's


def test_a_renamed_or_rewritten_provider_leaves_its_old_dids_and_name() -> None:
    replica = world(provider(accreditation()))
    replica.apply(provider(accreditation(), revision=5, issuer_dids=[], legal_name="Other"))
    assert replica.provider_for(HARVARD) is None
    replica.apply(provider(revision=4))  # an older revision never wins
    assert replica.providers["https://catalog.example/providers/h"].revision == 5


def test_look_alikes_are_named() -> None:
    replica = world(provider(accreditation()))
    lookalike = credential(FAKE, name="HARVARD university")
    result = impersonation_check(lookalike, replica, "unknown")
    assert (result.outcome, result.code) == ("failed", "impersonation")
    assert "Harvard University" in (result.reason or "") and HARVARD in (result.reason or "")
    assert result.details is not None and result.details["realIssuerDids"] == [HARVARD]
    real = impersonation_check(credential(), replica, "accredited")
    assert real.outcome == "ok"


def test_a_copied_achievement_is_named() -> None:
    replica = world(
        provider(accreditation()),
        AchievementPublished(
            tenant="harvard",
            issuer_did=HARVARD,
            achievement_id=ACHIEVEMENT,
            revision=1,
            achievement={},
            mastery_threshold=0.5,
            status="active",
        ),
    )
    result = impersonation_check(credential(FAKE, name="Totally Different"), replica, "unknown")
    assert result.outcome == "failed" and result.details is not None
    assert result.details["copied"] == "achievement"
    assert result.details["realProvider"] == "Harvard University"


def test_a_tenants_own_issuers_are_not_impostors() -> None:
    replica = world(provider(), issuer("did:key:zH2", "harvard", "Harvard University"))
    second = credential("did:key:zH2")
    assert impersonation_check(second, replica, "registered").outcome == "ok"
    # Another tenant registering the same name is flagged, even as a registered issuer.
    replica.apply(issuer(FAKE, "fraud", "Harvard University"))
    flagged = impersonation_check(credential(FAKE), replica, "registered")
    assert flagged.outcome == "failed" and "Harvard University" in (flagged.reason or "")


def judged(replica: Replica, claims: Claims, policy: Any) -> tuple[str, str | None]:
    result = under_policy(trust_check(claims, replica, NOW), policy)
    assert result.details is not None and result.details["policy"] == policy
    return result.outcome, result.code


def test_the_registered_policy_accepts_registered_and_nothing_worse() -> None:
    registered = world(provider())
    assert judged(registered, credential(), "accredited") == ("failed", "registered")
    assert judged(registered, credential(), "registered") == ("ok", "registered")
    # Out of scope is only registered: accepted under `registered` too.
    assert judged(world(provider(accreditation())), credential(level=8), "registered") == (
        "ok",
        "registered",
    )
    assert judged(world(provider(accreditation())), credential(), "registered") == (
        "ok",
        "accredited",
    )
    assert judged(world(), credential(FAKE), "registered") == ("failed", "unknown")
    for status in ("suspended", "withdrawn"):
        by_provider = world(provider(accreditation(), status=status))
        assert judged(by_provider, credential(), "registered") == ("failed", status)
        by_accreditation = world(provider(accreditation(status=status)))
        assert judged(by_accreditation, credential(), "registered") == ("failed", status)
    accepted = under_policy(trust_check(credential(), registered, NOW), "registered")
    assert "trust policy is `registered`" in (accepted.reason or "")


def test_the_policy_setting_is_off_by_default_and_strict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MICROCRED_VERIFIER_ACCEPT_REGISTERED", raising=False)
    assert Settings.from_env().accept_registered is False
    monkeypatch.setenv("MICROCRED_VERIFIER_ACCEPT_REGISTERED", "true")
    assert Settings.from_env().accept_registered is True
    monkeypatch.setenv("MICROCRED_VERIFIER_ACCEPT_REGISTERED", "registered-please")
    with pytest.raises(SettingsError, match="MICROCRED_VERIFIER_ACCEPT_REGISTERED"):
        Settings.from_env()


def test_the_example_contexts_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off by default in both services that process JSON-LD (docs/conformance.md)."""
    from services.issuer.settings import Settings as IssuerSettings

    monkeypatch.delenv("MICROCRED_JSONLD_EXAMPLE_CONTEXTS", raising=False)
    monkeypatch.setenv("MICROCRED_MASTER_KEY", "A" * 43)  # the issuer's key store needs one

    assert Settings.from_env().jsonld_example_contexts is False
    assert IssuerSettings.from_env().jsonld_example_contexts is False
    monkeypatch.setenv("MICROCRED_JSONLD_EXAMPLE_CONTEXTS", "true")
    assert Settings.from_env().jsonld_example_contexts is True
    assert IssuerSettings.from_env().jsonld_example_contexts is True
