"""data_integrity.py: eddsa-rdfc-2022 / ecdsa-rdfc-2019 sign and verify."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.credentials.crypto_keys import (
    SigningKey,
    b58decode,
    b58encode,
    generate_ed25519,
    generate_p256,
    public_key_from_multibase,
    public_key_multibase,
)
from shared.credentials.data_integrity import (
    VerifiedProof,
    _verify_signature,
    sign_data_integrity,
    verify_data_integrity,
    verify_data_integrity_proofs,
)
from shared.credentials.dids import DidResolver
from shared.credentials.errors import ContextError, CredentialError, DidError, ProofError
from shared.credentials.jsonld import default_registry
from tests.unit.credentials.di_samples import (
    CREATED,
    StaticResolver,
    did_of,
    fresh_badge,
    mutate,
)

# W3C vc-di-eddsa test vector (TestVectors/keyPair.json, eddsa-rdfc-2022/signedDataInt.json).
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_VM = f"https://vc.example/issuers/5678#{W3C_PUBLIC}"
W3C_UNSIGNED: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": W3C_VM,
    "proofPurpose": "assertionMethod",
    "proofValue": "z21EVs3eXERqTn4acNHT9viboqgzUaQ3kTmhPT3eA8qrVPE7CrQq78WkzctnMX5W4"
    "CrzcKnHw8V6dvy5pgWYCU5e9",
}


# W3C vc-di-ecdsa vector (TestVectors/ecdsa-rdfc-2019-p256: sigHex, combinedHash). Its
# proof configuration was canonicalised before the VC 2.0 context typed
# ``cryptosuite`` as ``cryptosuiteString``, so only its document hash (the second
# half) and its signature over the combined hash can be checked against us.
W3C_P256 = "zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP"
W3C_P256_HASH_DATA = bytes.fromhex(
    "3a8a522f689025727fb9d1f0fa99a618da023e8494ac74f51015d009d35abc2e"
    "517744132ae165a5349155bef0bb0cf2258fff99dfe1dbd914b938d775a36017"
)
W3C_P256_SIGNATURE = bytes.fromhex(
    "1cb4290918ffb04a55ff7ae1e55e316a9990fda8eec67325eac7fcbf2ddf9dd2"
    "b06716a657e72b284c9604df3a172ecbf06a1a475b49ac807b1d9162df855636"
)


def _w3c_key() -> SigningKey:
    raw = b58decode(W3C_SECRET[1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw[2:]), W3C_VM)


async def _verify(doc: dict[str, Any], **kwargs: Any) -> VerifiedProof:
    return await verify_data_integrity(doc, DidResolver(), **kwargs)


async def _code(doc: dict[str, Any], **kwargs: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        await _verify(doc, **kwargs)
    return info.value


def _flip_bit(proof_value: str) -> str:
    signature = bytearray(b58decode(proof_value[1:]))
    signature[10] ^= 0x01
    return "z" + b58encode(bytes(signature))


# --- round trips -------------------------------------------------------------------


async def test_eddsa_round_trip() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key, created=CREATED)
    proof = signed["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2025-03-01T09:30:00Z"
    assert proof["verificationMethod"] == key.kid
    assert key.kid.startswith("did:key:z6Mk") and key.kid.endswith("#" + key.kid[8:56])
    assert len(b58decode(proof["proofValue"][1:])) == 64
    assert "@context" not in proof
    assert {k: v for k, v in signed.items() if k != "proof"} == doc  # input untouched
    result = await _verify(signed)
    assert result == VerifiedProof(
        verification_method=key.kid,
        controller=did_of(key),
        purpose="assertionMethod",
        cryptosuite="eddsa-rdfc-2022",
        created="2025-03-01T09:30:00Z",
        challenge=None,
        domain=(),
    )


async def test_ecdsa_rdfc_2019_round_trip() -> None:
    key, doc = fresh_badge(generate_p256())
    signed = sign_data_integrity(doc, key)
    assert signed["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert (await _verify(signed)).cryptosuite == "ecdsa-rdfc-2019"
    signed["credentialSubject"]["name"] = "Someone Else"
    assert (await _code(signed)).code == "signature_invalid"


async def test_w3c_vector_verifies_and_signing_reproduces_it() -> None:
    examples = default_registry(allow_examples=True)
    resolver = StaticResolver({W3C_VM: (_w3c_key().public_key, ("assertionMethod",))})
    secured = {**W3C_UNSIGNED, "proof": W3C_PROOF}
    result = await verify_data_integrity(secured, resolver, contexts=examples)
    assert result.controller == "https://vc.example/issuers/5678"
    assert public_key_multibase(_w3c_key().public_key) == W3C_PUBLIC
    created = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    resigned = sign_data_integrity(W3C_UNSIGNED, _w3c_key(), created=created, contexts=examples)
    assert resigned["proof"] == W3C_PROOF  # Ed25519 is deterministic
    with pytest.raises(ContextError) as info:  # the example contexts need the flag
        await verify_data_integrity(secured, resolver)
    assert info.value.code == "context_not_bundled"


def test_w3c_ecdsa_vector_document_hash_and_signature_encoding() -> None:
    examples = default_registry(allow_examples=True)
    canonical = examples.canonize(W3C_UNSIGNED)
    assert hashlib.sha256(canonical.encode()).digest() == W3C_P256_HASH_DATA[32:]
    key = public_key_from_multibase(W3C_P256)
    _verify_signature("ecdsa-rdfc-2019", key, W3C_P256_SIGNATURE, W3C_P256_HASH_DATA, "proof")
    flipped = bytes([W3C_P256_SIGNATURE[0] ^ 1]) + W3C_P256_SIGNATURE[1:]
    with pytest.raises(ProofError):
        _verify_signature("ecdsa-rdfc-2019", key, flipped, W3C_P256_HASH_DATA, "proof")


# --- tampering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("credentialSubject.name", "Mallory"),
        ("validFrom", "2020-01-15T00:00:00Z"),
        ("credentialSubject.achievement.name", "Advanced Data Science"),
        ("credentialSubject.result.0.value", "100"),
        ("credentialSubject.id", "did:example:someone-else"),
    ],
)
async def test_changed_content_breaks_the_signature(path: str, value: str) -> None:
    key, doc = fresh_badge()
    signed = mutate(sign_data_integrity(doc, key), path, value)
    error = await _code(signed)
    assert (type(error), error.code, error.path) == (ProofError, "signature_invalid", "proof")


async def test_flipped_signature_bit() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key)
    signed["proof"]["proofValue"] = _flip_bit(signed["proof"]["proofValue"])
    assert (await _code(signed)).code == "signature_invalid"


async def test_swapped_issuer_is_not_the_key_controller() -> None:
    key, doc = fresh_badge()
    other = did_of(generate_ed25519())
    signed = mutate(sign_data_integrity(doc, key), "issuer.id", other)
    error = await _code(signed)
    assert (error.code, error.path) == ("controller_mismatch", "proof.verificationMethod")


async def test_key_of_another_did_cannot_sign_for_the_issuer() -> None:
    issuer_key, doc = fresh_badge()
    intruder = generate_ed25519()
    signed = sign_data_integrity(doc, intruder)  # vm of the intruder's own DID
    assert (await _code(signed)).code == "controller_mismatch"
    # Claiming a method under the issuer's DID that its document does not list:
    posing = SigningKey(intruder.private_key, f"{did_of(issuer_key)}#{intruder.kid[8:56]}")
    error = await _code(sign_data_integrity(doc, posing))
    assert (type(error), error.code) == (DidError, "not_found")
    # Naming the issuer's real method with the intruder's private key:
    forged = SigningKey(intruder.private_key, issuer_key.kid)
    assert (await _code(sign_data_integrity(doc, forged))).code == "signature_invalid"


async def test_property_added_after_signing_fails_safe_mode_before_any_resolution() -> None:
    key, doc = fresh_badge()
    signed = mutate(sign_data_integrity(doc, key), "credentialSubject.extraField", "x")
    resolver = StaticResolver({})
    with pytest.raises(ContextError) as info:
        await verify_data_integrity(signed, resolver)
    assert (info.value.code, info.value.path) == ("undefined_term", "credentialSubject.extraField")
    assert resolver.calls == []


async def test_unknown_context_url() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key)
    signed["@context"] = [*signed["@context"], "https://example.com/ctx/v1"]
    error = await _code(signed)
    assert (type(error), error.code) == (ContextError, "context_not_bundled")


async def test_undefined_term_in_the_proof() -> None:
    key, doc = fresh_badge()
    signed = mutate(sign_data_integrity(doc, key), "proof.note", "hello")
    error = await _code(signed)
    assert (error.code, error.path) == ("undefined_term", "proof.note")


async def test_lone_surrogate_is_a_clean_error() -> None:
    key, doc = fresh_badge()
    signed = mutate(sign_data_integrity(doc, key), "credentialSubject.name", "bad \ud800")
    assert (await _code(signed)).code == "bad_text"


# --- proof checks -----------------------------------------------------------------------


async def test_missing_and_malformed_proofs() -> None:
    key, doc = fresh_badge()
    assert (await _code(doc)).code == "missing_proof"
    signed = sign_data_integrity(doc, key)
    assert (await _code({**signed, "proof": "z123"})).code == "bad_proof"
    jcs = mutate(signed, "proof.cryptosuite", "eddsa-jcs-2022")  # supported, not this proof
    assert (await _code(jcs)).code == "signature_invalid"
    other = mutate(signed, "proof.cryptosuite", "bbs-2023")
    assert (await _code(other)).code == "unsupported_cryptosuite"
    legacy = mutate(signed, "proof.type", "Ed25519Signature2020")
    assert (await _code(legacy)).code == "unsupported_cryptosuite"
    for bad in ("u" + signed["proof"]["proofValue"][1:], "z0OIl", "z" + b58encode(b"\1" * 63), 7):
        error = await _code(mutate(signed, "proof.proofValue", bad))
        assert (error.code, error.path) == ("bad_proof_value", "proof.proofValue")
    no_date = mutate(signed, "proof.created", "yesterday")
    assert (await _code(no_date)).code == "bad_proof"
    no_month = mutate(signed, "proof.expires", "2025-13-01T00:00:00Z")
    assert (await _code(no_month)).code == "bad_proof"
    assert (await _code([signed])).code == "bad_document"  # type: ignore[arg-type]


async def test_missing_context_is_a_proof_failure() -> None:
    # a KeyError (HTTP 500) once; now the verifier reports it like any bad proof
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key)
    proof = signed["proof"]
    jcs_proof = {**proof, "cryptosuite": "eddsa-jcs-2022"}
    credential = {k: v for k, v in signed.items() if k != "@context"}
    presentation = {"type": ["VerifiablePresentation"], "proof": proof}
    for bare, purpose in [
        (credential, "assertionMethod"),
        ({**credential, "proof": jcs_proof}, "assertionMethod"),
        (presentation, "authentication"),
    ]:
        error = await _code(bare, expected_purpose=purpose)
        assert (type(error), error.code, error.path) == (ProofError, "missing_context", "@context")


async def test_purpose_must_match() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key, proof_purpose="authentication")
    error = await _code(signed)
    assert (error.code, error.path) == ("purpose_mismatch", "proof.proofPurpose")
    proof = await _verify(signed, expected_purpose="authentication")
    assert proof.purpose == "authentication"


async def test_method_not_authorised_for_the_purpose() -> None:
    key, doc = fresh_badge()
    doc["issuer"]["id"] = "https://issuer.example"
    key = SigningKey(key.private_key, "https://issuer.example#k1")
    signed = sign_data_integrity(doc, key)
    resolver = StaticResolver({key.kid: (key.public_key, ("authentication",))})
    with pytest.raises(DidError) as info:
        await verify_data_integrity(signed, resolver)
    assert info.value.code == "key_not_authorized"


async def test_challenge_and_domain() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key, challenge="n-0S6_WzA2Mj", domain="verifier.example")
    ok = await _verify(signed, challenge="n-0S6_WzA2Mj", domain="verifier.example")
    assert (ok.challenge, ok.domain) == ("n-0S6_WzA2Mj", ("verifier.example",))
    wrong = await _code(signed, challenge="other", domain="verifier.example")
    assert (wrong.code, wrong.path) == ("challenge_mismatch", "proof.challenge")
    wrong = await _code(signed, challenge="n-0S6_WzA2Mj", domain="evil.example")
    assert (wrong.code, wrong.path) == ("domain_mismatch", "proof.domain")
    # The challenge is signed: editing it to the expected value breaks the signature.
    replayed = mutate(signed, "proof.challenge", "fresh")
    assert (await _code(replayed, challenge="fresh")).code == "signature_invalid"
    unbound = sign_data_integrity(doc, key)
    assert (await _code(unbound, challenge="fresh")).code == "challenge_mismatch"


async def test_expired_proof() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key)
    signed["proof"]["expires"] = "2025-01-01T00:00:00Z"  # also breaks the signature
    later = datetime(2025, 6, 1, tzinfo=UTC)
    assert (await _code(signed, now=later)).code == "proof_expired"


async def test_key_type_must_fit_the_cryptosuite() -> None:
    key, doc = fresh_badge()
    signed = mutate(sign_data_integrity(doc, key), "proof.cryptosuite", "ecdsa-rdfc-2019")
    assert (await _code(signed)).code == "key_type_mismatch"


# --- proof sets ---------------------------------------------------------------------------


async def test_proof_set_every_proof_must_verify() -> None:
    key, doc = fresh_badge()
    second = generate_p256()
    once = sign_data_integrity(doc, key)
    twice = sign_data_integrity(once, second, created=CREATED + timedelta(days=1))
    assert [p["verificationMethod"] for p in twice["proof"]] == [key.kid, second.kid]
    proofs = await verify_data_integrity_proofs(twice, DidResolver(), check_controller=False)
    assert [p.verification_method for p in proofs] == [key.kid, second.kid]
    broken = copy.deepcopy(twice)
    broken["proof"][1]["proofValue"] = _flip_bit(broken["proof"][1]["proofValue"])
    error = await _code(broken, check_controller=False)
    assert (error.code, error.path) == ("signature_invalid", "proof[1]")
    # With the issuer binding on, the second signer (another DID) is a co-signer:
    # accepted next to the issuer's own proof, never instead of it.
    bound = await verify_data_integrity_proofs(twice, DidResolver())
    assert [p.verification_method for p in bound] == [key.kid, second.kid]
    alone = {**twice, "proof": twice["proof"][1]}
    assert (await _code(alone)).path == "proof.verificationMethod"


# --- properties ---------------------------------------------------------------------------

_KEY = generate_ed25519()


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40),
    value=st.one_of(st.text(max_size=20), st.integers().map(str)),
    other=st.text(min_size=1, max_size=40),
)
def test_round_trip_over_subject_values(name: str, value: str, other: str) -> None:
    doc = mutate(fresh_badge(_KEY, subject_name=name)[1], "credentialSubject.result.0.value", value)
    signed = sign_data_integrity(doc, _KEY)
    assert asyncio.run(_verify(signed)).controller == did_of(_KEY)
    if other != name:
        tampered = mutate(signed, "credentialSubject.name", other)
        with pytest.raises(ProofError) as info:
            asyncio.run(_verify(tampered))
        assert info.value.code == "signature_invalid"


async def test_proof_chains() -> None:
    """VC Data Integrity §4.2-4.3: a proof naming a previousProof signs over
    it; the chain verifies only with every named proof present and valid."""
    first_key, second_key = generate_ed25519(), generate_ed25519()
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_of(first_key),
        "credentialSubject": {"id": "did:example:subject"},
    }
    one = sign_data_integrity(doc, first_key, proof_id="urn:uuid:proof-1")
    chained = sign_data_integrity(
        one, second_key, proof_id="urn:uuid:proof-2", previous_proof="urn:uuid:proof-1"
    )
    proofs = await verify_data_integrity_proofs(chained, DidResolver(), check_controller=False)
    assert len(proofs) == 2
    # the second proof covers the first: dropping it breaks the chain
    alone = {**chained, "proof": [chained["proof"][1]]}
    with pytest.raises(ProofError) as info:
        await verify_data_integrity_proofs(alone, DidResolver(), check_controller=False)
    assert info.value.code == "missing_previous_proof"
    # a different first proof (same id) does not satisfy the second
    other = sign_data_integrity(doc, generate_ed25519(), proof_id="urn:uuid:proof-1")
    swapped = {**chained, "proof": [other["proof"], chained["proof"][1]]}
    with pytest.raises(ProofError) as info:
        await verify_data_integrity_proofs(swapped, DidResolver(), check_controller=False)
    assert info.value.code == "signature_invalid"
    with pytest.raises(ProofError):
        sign_data_integrity(doc, second_key, previous_proof="urn:uuid:none")


async def test_co_signers_in_a_proof_set() -> None:
    """One proof by the (DID) issuer is needed; others may be co-signers, and
    the issuer's proof is the one answered first."""
    issuer, notary = generate_ed25519(), generate_ed25519()
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_of(issuer),
        "credentialSubject": {"id": "did:example:subject"},
    }
    cosigned = sign_data_integrity(sign_data_integrity(doc, notary), issuer)
    first = await verify_data_integrity(cosigned, DidResolver())
    assert first.controller == did_of(issuer)
    notarised_only = sign_data_integrity(doc, notary)
    with pytest.raises(ProofError) as info:
        await verify_data_integrity(notarised_only, DidResolver())
    assert info.value.code == "controller_mismatch"
    broken = copy.deepcopy(cosigned)
    broken["proof"][0]["created"] = "2020-01-01T00:00:00Z"  # the co-signer's proof
    with pytest.raises(ProofError) as info:
        await verify_data_integrity(broken, DidResolver())
    assert info.value.code == "signature_invalid"  # every proof must still verify


# W3C vc-di-eddsa test vector (TestVectors/eddsa-jcs-2022, sigBTC58JCS.txt): the
# unsigned credential above, same key, under eddsa-jcs-2022 (RFC 8785).
W3C_JCS_PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": f"https://vc.example/issuers/5678#{W3C_PUBLIC}",
    "proofPurpose": "assertionMethod",
    "proofValue": (
        "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
    ),
}


async def test_w3c_jcs_vector_verifies_and_signing_reproduces_it() -> None:
    examples = default_registry(allow_examples=True)
    vm = W3C_JCS_PROOF["verificationMethod"]
    resolver = StaticResolver({vm: (_w3c_key().public_key, ("assertionMethod",))})
    secured = {**W3C_UNSIGNED, "proof": W3C_JCS_PROOF}
    result = await verify_data_integrity(secured, resolver, contexts=examples)
    assert result.cryptosuite == "eddsa-jcs-2022"
    created = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    key = SigningKey(_w3c_key().private_key, vm)
    resigned = sign_data_integrity(
        W3C_UNSIGNED, key, created=created, contexts=examples, cryptosuite="eddsa-jcs-2022"
    )
    assert resigned["proof"] == W3C_JCS_PROOF  # Ed25519 is deterministic
    changed = {**secured, "name": "Another Credential"}
    with pytest.raises(ProofError) as info:
        await verify_data_integrity(changed, resolver, contexts=examples)
    assert info.value.code == "signature_invalid"
    with pytest.raises(ContextError):  # the allow-listed contexts hold for JCS too
        await verify_data_integrity(secured, resolver)
