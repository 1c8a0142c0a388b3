"""Accreditation endorsements (OB 3.0 EndorsementCredential) and the Issuer
Accreditation Extension: ours verify in openbadgeslib (independent code)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from openbadgeslib.ob3 import OB3VerificationError, verify_endorsement_jwt
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from shared.credentials.crypto_keys import PublicKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.endorsements import (
    accredited_profile,
    build_accreditation_profile,
    build_endorsement,
)
from shared.credentials.jsonld import CONTEXTS_DIR, expand
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.verify import verify_credential
from shared.credentials.vocab import ACCRED_CONTEXT
from tests.unit.credentials.vc_samples import ob3_credential

CREATED = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)
_ACCRED = {
    url: json.loads((CONTEXTS_DIR / "ob-accred-v2p0-context.json").read_text("utf-8"))
    for url in (ACCRED_CONTEXT, ACCRED_CONTEXT + "/")
}


class NoLists:
    async def get(self, url: str) -> dict[str, Any] | str:
        raise AssertionError(url)


def _pem(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _endorsement(issuer_did: str) -> tuple[dict[str, Any], str, str, bytes]:
    operator = generate_ed25519()
    operator_did = did_key_for(operator.public_key)
    unsigned = build_endorsement(
        id="https://catalog.example/providers/p1/accreditations/QA-1/endorsement",
        issuer={"id": operator_did, "type": ["Profile"], "name": "Platform Operator"},
        subject_id=issuer_did,
        comment="Accredited by QA Agency (QA-1) for EQF 5-6 in ICT.",
        valid_from="2025-01-01T00:00:00Z",
        name="Accreditation by QA Agency",
    )
    signed = sign_data_integrity(unsigned, operator, created=CREATED)
    return signed, sign_vc_jwt(unsigned, operator), operator_did, _pem(operator.public_key)


def _accredited_badge() -> tuple[dict[str, Any], bytes, bytes]:
    issuer = generate_ed25519()
    issuer_did = did_key_for(issuer.public_key)
    endorsement, _, operator_did, operator_pem = _endorsement(issuer_did)
    credential = ob3_credential(issuer_did)
    accreditor = build_accreditation_profile(
        id=operator_did, name="QA Agency", accreditation_date="2025-01-01T00:00:00Z"
    )
    credential["issuer"] = accredited_profile(credential["issuer"], [accreditor], [endorsement])
    credential["@context"] = [*credential["@context"], ACCRED_CONTEXT]
    signed = sign_data_integrity(credential, issuer, created=CREATED)
    return signed, operator_pem, _pem(issuer.public_key)


def test_accreditation_endorsement_jwt_verifies_in_openbadgeslib() -> None:
    _, jwt, operator_did, _ = _endorsement("did:example:issuer")
    result = verify_endorsement_jwt(jwt)
    assert result["issuer"] == operator_did
    assert result["endorses"] == "did:example:issuer"
    assert "QA-1" in result["comment"]


def test_embedded_endorsement_verifies_in_openbadgeslib() -> None:
    credential, operator_pem, issuer_pem = _accredited_badge()
    assert ACCRED_CONTEXT in credential["@context"]
    embedded = credential["issuer"]["endorsement"][0]
    verify_data_integrity_proof(copy.deepcopy(embedded), operator_pem)
    tampered = copy.deepcopy(embedded)
    tampered["credentialSubject"]["endorsementComment"] = "Accredited for everything."
    with pytest.raises(OB3VerificationError):
        verify_data_integrity_proof(tampered, operator_pem)
    # and the whole credential, accreditation extension included
    verify_data_integrity_proof(copy.deepcopy(credential), issuer_pem, extra_contexts=_ACCRED)


async def test_accredited_credential_verifies_here_and_expands_every_term() -> None:
    credential, _, _ = _accredited_badge()
    report = await verify_credential(credential, resolver=DidResolver(), status_lists=NoLists())
    assert report.verified, report
    expanded = str(expand({k: v for k, v in credential.items() if k != "proof"}))
    assert "#accreditations" in expanded and "accreditationDate" in expanded
    assert "IssuerAccreditationProfile" in expanded


def test_both_url_spellings_are_bundled() -> None:
    for url in (ACCRED_CONTEXT, ACCRED_CONTEXT + "/"):
        doc = {"@context": [url], "@id": "urn:x", "@type": "IssuerAccreditationProfile"}
        assert expand(doc)
