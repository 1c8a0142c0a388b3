"""keys.py: Multikey, JWK, base58btc, SigningKey."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from shared.credentials.crypto_keys import (
    SigningKey,
    b58decode,
    b58encode,
    generate_ed25519,
    generate_p256,
    jwk_thumbprint,
    public_key_from_jwk,
    public_key_from_multibase,
    public_key_multibase,
    public_key_to_jwk,
)
from shared.credentials.errors import CredentialError

# did:key v0.7 specification test vectors (Multikey value and the same key as JWK).
ED25519_VECTOR = (
    "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    {"kty": "OKP", "crv": "Ed25519", "x": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"},
)
P256_VECTOR = (
    "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
        "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU",
    },
)


@pytest.mark.parametrize(("multibase", "jwk"), [ED25519_VECTOR, P256_VECTOR])
def test_spec_vectors_multikey_and_jwk_agree(multibase: str, jwk: dict[str, str]) -> None:
    key = public_key_from_multibase(multibase)
    assert public_key_to_jwk(key) == jwk
    assert public_key_multibase(public_key_from_jwk(jwk)) == multibase


def test_multicodec_prefixes() -> None:
    assert public_key_multibase(generate_ed25519().public_key).startswith("z6Mk")
    assert public_key_multibase(generate_p256().public_key).startswith("zDn")


@given(st.binary(max_size=64))
def test_base58_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


def test_base58_known_values() -> None:
    assert b58encode(b"hello world") == "StV1DL6CwTryKyV"
    assert b58encode(b"\0\0\x01") == "112"
    with pytest.raises(CredentialError):
        b58decode("0OIl")


def test_signing_key_alg_and_redacted_repr() -> None:
    ed, p256 = generate_ed25519(), generate_p256()
    assert (ed.alg, p256.alg) == ("EdDSA", "ES256")
    assert ed.kid.startswith("did:key:z6Mk") and "#z6Mk" in ed.kid
    text = repr(ed)
    assert "redacted" in text and "Ed25519PrivateKey" not in text
    with pytest.raises(CredentialError) as err:
        SigningKey(ed.private_key, "did:example:1#k", "ES256")
    assert err.value.code == "alg_key_mismatch"


def test_p384_refused() -> None:
    with pytest.raises(CredentialError):
        SigningKey(ec.generate_private_key(ec.SECP384R1()), "did:example:1#k")


def test_rsa_jwk_verification_only_round_trip() -> None:
    pub = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    jwk = public_key_to_jwk(pub)
    back = public_key_from_jwk(jwk)
    assert isinstance(back, rsa.RSAPublicKey)
    assert back.public_numbers() == pub.public_numbers()


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},  # wrong length
        {"kty": "OKP", "crv": "X25519", "x": ED25519_VECTOR[1]["x"]},
        {**ED25519_VECTOR[1], "d": "secret"},  # private member
        {"kty": "EC", "crv": "P-256", "x": P256_VECTOR[1]["x"], "y": P256_VECTOR[1]["x"]},
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-256"},
        "not a jwk",
    ],
)
def test_bad_jwks_refused(jwk: object) -> None:
    with pytest.raises(CredentialError):
        public_key_from_jwk(jwk)


@pytest.mark.parametrize(
    "value",
    [
        "6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",  # no multibase prefix
        "z" + b58encode(b"\xed\x01" + b"\x01" * 31),  # short Ed25519 key
        "z" + b58encode(b"\x80\x24" + b"\x02" + b"\xff" * 32),  # x not on the curve
        "z" + b58encode(b"\xe7\x01" + b"\x02" * 33),  # secp256k1: unsupported
    ],
)
def test_bad_multibase_refused(value: str) -> None:
    with pytest.raises(CredentialError):
        public_key_from_multibase(value)


def test_thumbprint_rfc7638_example() -> None:
    # RFC 8037 Appendix A.3: thumbprint of the example Ed25519 key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    key = public_key_from_jwk(jwk)
    assert isinstance(key, Ed25519PublicKey)
