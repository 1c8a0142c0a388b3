"""Cross-checks of VC-JWT and DIDs against openbadgeslib, an independent implementation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from openbadgeslib.ob3 import (
    Achievement,
    Issuer,
    OB3Signer,
    OB3Verifier,
    OpenBadgeCredential,
    did_key_from_pem,
)

from shared.credentials.crypto_keys import SigningKey, generate_ed25519, generate_p256
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.errors import ProofError
from shared.credentials.jwt import sign_vc_jwt, verify_vc_jwt
from tests.unit.credentials.vc_samples import NOW, ob3_credential

KINDS = {"EdDSA": generate_ed25519, "ES256": generate_p256}


@pytest.mark.parametrize("alg", sorted(KINDS))
def test_did_key_derivation_agrees(alg: str) -> None:
    key = KINDS[alg]()
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert did_key_from_pem(pem) == did_key_for(key.public_key)


@pytest.mark.parametrize("alg", sorted(KINDS))
def test_our_vc_jwt_verifies_in_openbadgeslib(alg: str) -> None:
    key = KINDS[alg]()
    credential = ob3_credential(did_key_for(key.public_key), name="Interop Badge")
    token = sign_vc_jwt(credential, key)
    verified = OB3Verifier(pubkey_pem=key.public_key).verify(token)
    assert verified.id == credential["id"]
    assert verified.issuer.id == credential["issuer"]["id"]
    assert verified.recipient_id == "did:example:learner-1"
    assert verified.achievement.name == "Interop Badge"
    # and a token we tampered with is refused there too
    head, body, sig = token.split(".")
    with pytest.raises(Exception, match=r"(?i)signature"):
        OB3Verifier(pubkey_pem=key.public_key).verify(f"{head}.{body}.{sig[:-4]}AAAA")


def _their_token(key: SigningKey, alg: str, issuer_did: str) -> tuple[str, OpenBadgeCredential]:
    credential = OpenBadgeCredential(
        issuer=Issuer(id=issuer_did, name="Other Implementation University"),
        recipient_id="did:example:learner-2",
        achievement=Achievement(
            id="https://other.example/achievements/1",
            name="Cross-checked",
            description="Issued by openbadgeslib.",
            criteria_narrative="Be interoperable.",
        ),
        issuance_date=NOW,
    )
    return OB3Signer(privkey_pem=key.private_key, algorithm=alg).sign(credential), credential


@pytest.mark.parametrize("alg", sorted(KINDS))
async def test_openbadgeslib_vc_jwt_verifies_here(alg: str) -> None:
    key = KINDS[alg]()
    token, theirs = _their_token(key, alg, did_key_for(key.public_key))
    credential = await verify_vc_jwt(token, DidResolver())
    assert credential["id"] == theirs.id
    assert credential["credentialSubject"]["id"] == "did:example:learner-2"
    assert credential["credentialSubject"]["achievement"]["name"] == "Cross-checked"
    assert "iss" not in credential and "nbf" not in credential


async def test_openbadgeslib_token_for_a_foreign_issuer_is_refused() -> None:
    key, other = generate_ed25519(), generate_ed25519()
    token, _ = _their_token(key, "EdDSA", did_key_for(other.public_key))
    with pytest.raises(ProofError) as err:
        await verify_vc_jwt(token, DidResolver())
    assert err.value.code == "unknown_key"
