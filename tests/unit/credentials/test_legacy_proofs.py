"""legacy_proofs.py: VC 1.1 proofs verified through didkit."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import didkit
import pytest

from shared.credentials.crypto_keys import b58decode, b58encode
from shared.credentials.errors import ContextError, CredentialError, ProofError
from shared.credentials.legacy_proofs import LEGACY_PROOF_TYPES, verify_legacy_proof
from tests.unit.credentials.di_samples import VC2, mutate

VC1 = "https://www.w3.org/2018/credentials/v1"


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC1],
        "id": "urn:uuid:3f7e1c50-2a4d-4c1b-8e0f-5d6a7b8c9d01",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2024-05-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner-3"},
    }


async def _issue(proof_type: str, purpose: str = "assertionMethod") -> dict[str, Any]:
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    vm = await didkit.key_to_verification_method("key", jwk)
    options = {"proofPurpose": purpose, "verificationMethod": vm, "type": proof_type}
    signed = await didkit.issue_credential(json.dumps(_credential(did)), json.dumps(options), jwk)
    doc: dict[str, Any] = json.loads(signed)
    return doc


async def _error(doc: dict[str, Any], **kwargs: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        await verify_legacy_proof(doc, **kwargs)
    return info.value


def _flip_signature(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    proof = out["proof"]
    if "proofValue" in proof:
        raw = bytearray(b58decode(proof["proofValue"][1:]))
        raw[5] ^= 0x01
        proof["proofValue"] = "z" + b58encode(bytes(raw))
    else:  # detached JWS: header..signature
        header, _, signature = proof["jws"].split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[5] ^= 0x01
        proof["jws"] = f"{header}..{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    return out


@pytest.mark.parametrize("proof_type", sorted(LEGACY_PROOF_TYPES))
async def test_round_trip(proof_type: str) -> None:
    doc = await _issue(proof_type)
    result = await verify_legacy_proof(doc)
    assert result.cryptosuite == proof_type
    assert result.controller == doc["issuer"]
    assert result.verification_method == doc["proof"]["verificationMethod"]


@pytest.mark.parametrize("proof_type", sorted(LEGACY_PROOF_TYPES))
async def test_tampering_is_detected(proof_type: str) -> None:
    doc = await _issue(proof_type)
    changed = mutate(doc, "credentialSubject.id", "did:example:mallory")
    assert (await _error(changed)).code == "signature_invalid"
    assert (await _error(_flip_signature(doc))).code == "signature_invalid"
    dated = mutate(doc, "issuanceDate", "2020-01-01T00:00:00Z")
    assert (await _error(dated)).code == "signature_invalid"


async def test_added_property_is_an_undefined_term_with_its_path() -> None:
    doc = mutate(await _issue("Ed25519Signature2020"), "credentialSubject.extra", "x")
    error = await _error(doc)
    assert isinstance(error, ContextError)
    assert (error.code, error.path) == ("undefined_term", "credentialSubject.extra")


async def test_didkit_own_strict_expansion_covers_contexts_we_do_not_bundle() -> None:
    doc = await _issue("JsonWebSignature2020")
    doc["@context"] = [VC1, "https://w3id.org/security/suites/jws-2020/v1"]
    doc["credentialSubject"]["extra"] = "x"
    error = await _error(doc)
    assert (type(error), error.code) == (ContextError, "undefined_term")
    assert "Expansion failed" in error.detail


async def test_swapped_issuer_and_foreign_key() -> None:
    doc = await _issue("Ed25519Signature2018")
    other = await _issue("Ed25519Signature2018")
    swapped = mutate(doc, "issuer", other["issuer"])
    error = await _error(swapped)
    assert (error.code, error.path) == ("controller_mismatch", "proof.verificationMethod")
    foreign = {**doc, "proof": other["proof"]}  # a proof by a key the issuer does not control
    assert (await _error(foreign)).code == "controller_mismatch"


async def test_purpose_challenge_and_domain_are_checked_before_didkit() -> None:
    doc = await _issue("Ed25519Signature2020")
    error = await _error(doc, expected_purpose="authentication")
    assert (type(error), error.code) == (ProofError, "purpose_mismatch")
    assert (await _error(doc, challenge="abc")).code == "challenge_mismatch"
    assert (await _error(doc, domain="verifier.example")).code == "domain_mismatch"


async def test_network_dids_are_refused_unless_allowed() -> None:
    doc = await _issue("Ed25519Signature2020")
    doc["issuer"] = "did:web:issuer.example"
    doc["proof"]["verificationMethod"] = "did:web:issuer.example#key-1"
    error = await _error(doc)
    assert (error.code, error.path) == ("network_resolution_refused", "proof.verificationMethod")


async def test_unsupported_types_and_documents() -> None:
    doc = await _issue("Ed25519Signature2020")
    dip = mutate(doc, "proof.type", "DataIntegrityProof")
    assert (await _error(dip)).code == "unsupported_cryptosuite"
    assert (await _error({k: v for k, v in doc.items() if k != "proof"})).code == "missing_proof"
    # didkit 0.3.3 cannot process the VC 2.0 context at all.
    v2 = {k: v for k, v in doc.items() if k != "issuanceDate"}
    v2["@context"] = [VC2]
    v2["validFrom"] = doc["issuanceDate"]
    assert (await _error(v2)).code == "unsupported_document"
