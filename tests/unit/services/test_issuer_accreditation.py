"""The issuer embeds the operator's signed accreditation endorsements in the
issuer profile (Issuer Accreditation Extension 2.0), only while in force."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from services.issuer import accreditation
from services.issuer.accreditation import OPERATOR_TENANT
from shared.credentials.dids import DidResolver
from shared.credentials.verify import verify_credential
from shared.events import (
    AccreditationScope,
    AccreditationStatusAssigned,
    IssuerProfilePublished,
    ProviderAccreditation,
    ProviderPublished,
)
from tests.unit.services.test_application import (  # noqa: F401 (the fixture)
    TENANT,
    IssuerWorld,
    award,
    issuer,
)

ACCREDITATION = ProviderAccreditation(
    accreditation_id="QA-2026-17",
    quality_assurance_body="National QA Agency",
    quality_assurance_body_url="https://qa.example",
    scope=AccreditationScope(eqf_levels=[5, 6], fields_of_study=["ICT"]),
    valid_from="2025-01-01T00:00:00Z",
    valid_until="2099-01-01T00:00:00Z",
    recorded_by="ministry",
)


class NoLists:
    async def get(self, url: str) -> dict[str, Any] | str:
        return {}


async def _provider(
    world: IssuerWorld,
    *,
    status: str = "active",
    revision: int = 1,
    body: str = "National QA Agency",
) -> None:
    did = world.history[0].did  # type: ignore[attr-defined]
    accredited = ProviderAccreditation(
        **{**_fields(ACCREDITATION), "status": status, "quality_assurance_body": body}
    )
    await world.issuance.store.save_provider(
        ProviderPublished(
            tenant=TENANT,
            provider_id="https://catalog.example/providers/p1",
            revision=revision,
            legal_name="Example Polytechnic",
            country="FI",
            provider_type="university",
            issuer_dids=[did],
            accreditations=[accredited],
        )
    )


def _fields(accredited: ProviderAccreditation) -> dict[str, Any]:
    return {f: getattr(accredited, f) for f in accredited.__struct_fields__}


async def test_unaccredited_issuer_profile_is_unchanged(issuer: IssuerWorld) -> None:  # noqa: F811
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    assert "endorsement" not in event.credential_ldp["issuer"]
    assert [e for e in issuer.published.events if isinstance(e, IssuerProfilePublished)] == []


async def test_accredited_issuer_carries_the_operator_endorsement(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer)
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    await issuer.issuance.award(TENANT, award(learner="did:example:other"), None)
    credential = event.credential_ldp
    profile = credential["issuer"]
    assert "IssuerAccreditationProfile" in profile["type"]
    assert profile["accreditations"][0]["name"] == "National QA Agency"
    (endorsement,) = profile["endorsement"]
    assert endorsement["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert endorsement["credentialSubject"]["id"] == profile["id"]
    assert "QA-2026-17" in endorsement["credentialSubject"]["endorsementComment"]
    # the operator's identity: created once, announced with its role
    (operator,) = [e for e in issuer.published.events if isinstance(e, IssuerProfilePublished)]
    assert operator.role == "operator" and operator.tenant == OPERATOR_TENANT
    assert endorsement["issuer"]["id"] == operator.did
    # the credential and its embedded endorsement verify (ours, then openbadgeslib)
    report = await verify_credential(credential, resolver=DidResolver(), status_lists=NoLists())
    assert report.check("proof").outcome == "ok"  # type: ignore[union-attr]
    embedded = await verify_credential(endorsement, resolver=DidResolver(), status_lists=NoLists())
    # Everything verifies but the status, whose list (the operator's) is not served here.
    assert [c.name for c in embedded.checks if c.outcome != "ok"] == ["status"], embedded
    # Its revocation entry, in the operator's own lists, claimed once for both awards.
    (assigned,) = [e for e in issuer.published.events if isinstance(e, AccreditationStatusAssigned)]
    assert (assigned.operator_did, assigned.accreditation_id) == (operator.did, "QA-2026-17")
    assert assigned.endorsement_id == endorsement["id"] and assigned.issuer_did == profile["id"]
    status = endorsement["credentialStatus"]
    assert (status["type"], status["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")
    assert status["statusListIndex"] == str(assigned.entry.index)
    assert status["statusListCredential"] == assigned.entry.list_url
    signer = issuer.issuance.accreditations.signer
    key = await signer.signing_key(operator.signing_key_id or "", operator.did_document)
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verify_data_integrity_proof(copy.deepcopy(endorsement), pem)


async def test_same_endorsement_bytes_on_every_award(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer)
    first, _ = await issuer.issuance.award(TENANT, award(), None)
    second, _ = await issuer.issuance.award(TENANT, award(learner="did:example:b"), None)
    assert first.credential_ldp["issuer"] == second.credential_ldp["issuer"]


async def test_withdrawn_accreditation_is_no_longer_embedded(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer)
    await _provider(issuer, status="withdrawn", revision=2)
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    assert "endorsement" not in event.credential_ldp["issuer"]
    assert event.credential_ldp["issuer"]["type"] == ["Profile"]


async def test_each_endorsement_is_signed_once_not_per_award(
    issuer: IssuerWorld,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RDFC-1.0 and a signature per award cost ~4 ms of the event loop: the
    same document with the same key is signed once (services/issuer/accreditation.py)."""
    signed: list[str] = []
    real = accreditation.sign_data_integrity

    def counting(doc: Any, key: Any, **options: Any) -> dict[str, Any]:
        signed.append(str(doc.get("id")))
        return real(doc, key, **options)

    monkeypatch.setattr(accreditation, "sign_data_integrity", counting)
    await _provider(issuer)
    events = [
        (await issuer.issuance.award(TENANT, award(learner=f"did:example:{n}"), None))[0]
        for n in range(3)
    ]
    assert len(signed) == 1
    profiles = [e.credential_ldp["issuer"] for e in events]
    assert profiles[0] == profiles[1] == profiles[2]
    assert profiles[0]["endorsement"][0] is not profiles[1]["endorsement"][0]
    # A changed accreditation is a new document: signed again.
    await _provider(issuer, revision=2, body="Another QA Agency")
    event, _ = await issuer.issuance.award(TENANT, award(learner="did:example:later"), None)
    assert len(signed) == 2
    assert event.credential_ldp["issuer"]["accreditations"][0]["name"] == "Another QA Agency"
