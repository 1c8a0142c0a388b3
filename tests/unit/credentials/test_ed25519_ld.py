"""ed25519_ld.py: VC 1.1 Ed25519Signature2020/2018 on our RDFC path.

Checked against independent signers (didkit, and the W3C VC-API verifier
suite's vector), then with every Open Badges 3.0 context revision we bundle,
which didkit cannot read (it knows only OB 3.0.0)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import didkit
import pytest

from shared.credentials.crypto_keys import generate_ed25519, public_key_from_multibase
from shared.credentials.dids import DidResolver
from shared.credentials.ed25519_ld import (
    SUITE_CONTEXT,
    sign_ed25519_2020,
    verify_ed25519_ld,
)
from shared.credentials.errors import CredentialError, ProofError
from shared.credentials.jsonld import default_registry
from shared.credentials.verify import VerifyOptions, verify_credential
from shared.credentials.vocab import OB_CONTEXTS
from tests.unit.credentials.di_samples import StaticResolver, did_of, mutate
from tests.unit.credentials.test_model_samples import vc11_badge

VC1 = "https://www.w3.org/2018/credentials/v1"
W3C_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SIGNATURE = (
    "z57Mm1vboMtZiCyJ4aReZsv8co4Re64Y8GEjL1ZARzMbXZgkARFLqFs1P345NpPGG2hgCrS4nNdvJhpwnrNyG3kEF"
)

# The W3C VC-API verifier suite's valid vector (tests/vectors.js, ed25519Vector).
W3C_VECTOR: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/security/suites/ed25519-2020/v1",
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": {
        "type": "Ed25519Signature2020",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": f"did:key:{W3C_KEY}#{W3C_KEY}",
        "proofPurpose": "assertionMethod",
        "proofValue": W3C_SIGNATURE,
    },
}


async def _error(doc: dict[str, Any], **kwargs: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        await verify_ed25519_ld(doc, DidResolver(), **kwargs)
    return info.value


async def test_the_w3c_vector_verifies() -> None:
    examples = default_registry(allow_examples=True)
    vm = W3C_VECTOR["proof"]["verificationMethod"]
    key = public_key_from_multibase(vm.partition("#")[2])
    resolver = StaticResolver({vm: (key, ("assertionMethod",))})
    result = await verify_ed25519_ld(W3C_VECTOR, resolver, contexts=examples)
    assert result.cryptosuite == "Ed25519Signature2020"
    changed = mutate(W3C_VECTOR, "credentialSubject.alumniOf", "Another School")
    with pytest.raises(ProofError) as info:
        await verify_ed25519_ld(changed, resolver, contexts=examples)
    assert info.value.code == "signature_invalid"


@pytest.mark.parametrize("proof_type", ["Ed25519Signature2020", "Ed25519Signature2018"])
async def test_didkit_signed_credentials_verify(proof_type: str) -> None:
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    vm = await didkit.key_to_verification_method("key", jwk)
    credential = {
        "@context": [VC1, SUITE_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2024-05-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner-3"},
    }
    options = {"proofPurpose": "assertionMethod", "verificationMethod": vm, "type": proof_type}
    signed = json.loads(
        await didkit.issue_credential(json.dumps(credential), json.dumps(options), jwk)
    )
    result = await verify_ed25519_ld(signed, DidResolver())
    assert (result.controller, result.cryptosuite) == (did, proof_type)
    assert (await _error(mutate(signed, "issuanceDate", "2020-01-01T00:00:00Z"))).code == (
        "signature_invalid"
    )
    report = await verify_credential(signed, resolver=DidResolver(), status_lists=_NoLists())
    assert report.verified, report.checks


@pytest.mark.parametrize("ob_context", sorted(OB_CONTEXTS))
async def test_every_bundled_ob_context(ob_context: str) -> None:
    key = generate_ed25519()
    badge = vc11_badge()
    badge["@context"] = [VC1, ob_context, SUITE_CONTEXT]
    badge["issuer"] = {**badge["issuer"], "id": did_of(key)}  # type: ignore[dict-item]
    created = datetime(2024, 5, 1, tzinfo=UTC)
    signed = sign_ed25519_2020(badge, key, created=created)
    assert (await verify_ed25519_ld(signed, DidResolver())).controller == did_of(key)
    report = await verify_credential(signed, resolver=DidResolver(), status_lists=_NoLists())
    assert report.check("proof") is not None and report.check("proof").outcome == "ok"  # type: ignore[union-attr]
    tampered = mutate(signed, "credentialSubject.achievement.name", "Something Else")
    assert (await _error(tampered)).code == "signature_invalid"
    other = generate_ed25519()
    forged = sign_ed25519_2020(badge, other, created=created)
    assert (await _error(forged)).code == "controller_mismatch"
    wrong_purpose = sign_ed25519_2020(badge, key, created=created, proof_purpose="authentication")
    assert (await _error(wrong_purpose)).code == "purpose_mismatch"


class _NoLists:
    async def get(self, url: str) -> dict[str, Any] | str:
        raise ConnectionError(url)


async def test_the_example_contexts_only_when_the_verifier_is_told() -> None:
    """MICROCRED_JSONLD_EXAMPLE_CONTEXTS: the registry reaches the proof check
    through VerifyOptions; without it the vector's examples context is refused."""
    refused = await verify_credential(W3C_VECTOR, resolver=DidResolver(), status_lists=_NoLists())
    proof = refused.check("proof")
    assert proof is not None and proof.outcome == "failed"
    assert proof.code == "context_not_bundled"
    allowed = await verify_credential(
        W3C_VECTOR,
        resolver=DidResolver(),
        status_lists=_NoLists(),
        options=VerifyOptions(contexts=default_registry(allow_examples=True)),
    )
    proof = allowed.check("proof")
    assert proof is not None and proof.outcome == "ok", allowed.checks
