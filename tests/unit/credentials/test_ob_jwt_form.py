"""OB 3.0 §8.2: the JWT form our issuer produces for Open Badges.

§8.2.1: the JOSE header holds ``alg``, ``kid`` (or ``jwk``) and ``typ``, which
MUST then be ``"JWT"``; no other header. When a credential carries both proofs,
the Data Integrity proof is made first and sits inside the JWT payload.
"""

from __future__ import annotations

import asyncio

import pytest
from openbadgeslib.ob3 import OB3Verifier

from services.issuer.signing import Signer
from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import verify_data_integrity
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.jws import peek_jws
from shared.credentials.jwt import verify_vc_jwt
from tests.unit.credentials.vc_samples import ob3_credential

RESOLVER = DidResolver()


@pytest.fixture(scope="module")
def signed() -> tuple[SigningKey, str, dict[str, object]]:
    key = generate_ed25519()
    did = did_key_for(key.public_key)
    jwt, credential = Signer.sign(ob3_credential(did, name="Header Rules"), key)
    return key, jwt, credential


def test_header_is_alg_kid_and_typ_jwt_only(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    key, jwt, _ = signed
    header, _ = peek_jws(jwt)
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_data_integrity_proof_is_inside_the_payload(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    _, jwt, credential = signed
    _, payload = peek_jws(jwt)
    assert payload["proof"] == credential["proof"]
    assert payload["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    # the credential read from the JWT is the Data Integrity one, and both proofs hold
    from_jwt = asyncio.run(verify_vc_jwt(jwt, RESOLVER))
    assert from_jwt == credential
    asyncio.run(verify_data_integrity(from_jwt, RESOLVER))


def test_an_independent_ob3_verifier_accepts_it(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    key, jwt, credential = signed
    verified = OB3Verifier(pubkey_pem=key.public_key).verify(jwt)
    assert verified.id == credential["id"]
    assert verified.achievement.name == "Header Rules"
