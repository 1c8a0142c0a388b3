"""keys.py: Multikey, JWK, base58btc, SigningKey."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
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
    verify_ed25519,
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


# --- verify_ed25519 (libsodium) ---------------------------------------------------

RFC8032_TEST_2 = (  # RFC 8032 §7.1, TEST 2: public key, message, signature
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    "72",
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
)


def test_verify_ed25519_accepts_the_rfc_8032_vector() -> None:
    public, message, signature = (bytes.fromhex(x) for x in RFC8032_TEST_2)
    key = Ed25519PublicKey.from_public_bytes(public)
    verify_ed25519(key, signature, message)
    with pytest.raises(InvalidSignature):
        verify_ed25519(key, signature, message + b"!")


@given(st.binary(max_size=2048), st.integers(min_value=0, max_value=511))
def test_verify_ed25519_agrees_with_cryptography(message: bytes, bit: int) -> None:
    """A valid signature passes and a one-bit change fails, as with OpenSSL."""
    key = generate_ed25519()
    public = key.private_key.public_key()
    assert isinstance(public, Ed25519PublicKey)
    signature = key.private_key.sign(message)  # type: ignore[call-arg]
    verify_ed25519(public, signature, message)
    flipped = bytearray(signature)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        public.verify(bytes(flipped), message)
    with pytest.raises(InvalidSignature):
        verify_ed25519(public, bytes(flipped), message)


def test_verify_ed25519_refuses_wrong_lengths_and_a_small_order_key() -> None:
    key = generate_ed25519()
    public = key.private_key.public_key()
    assert isinstance(public, Ed25519PublicKey)
    signature = key.private_key.sign(b"m")  # type: ignore[call-arg]
    for wrong in (signature[:63], signature + b"\0", b""):
        with pytest.raises(InvalidSignature):
            verify_ed25519(public, wrong, b"m")
    # The neutral point as the key, R the neutral point and S = 0: the
    # equation holds for any message; libsodium refuses the small-order key.
    identity = bytes([1]) + bytes(31)
    with pytest.raises(InvalidSignature):
        verify_ed25519(Ed25519PublicKey.from_public_bytes(identity), identity + bytes(32), b"m")
