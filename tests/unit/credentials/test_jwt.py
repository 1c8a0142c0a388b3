"""jwt.py: VC-JWT signing and verification, positive and negative cases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from shared.credentials.crypto_keys import (
    SigningKey,
    b64url_encode,
    generate_ed25519,
    generate_p256,
    public_key_multibase,
    public_key_to_jwk,
)
from shared.credentials.dids import DidResolver, did_jwk_for, did_key_for
from shared.credentials.errors import ProofError
from shared.credentials.jwt import peek_vc_jwt, sign_vc_jwt, vc_jwt_claims, verify_vc_jwt
from tests.unit.credentials.vc_samples import NOW, iso, ob3_credential


def _issuer_key(kind: str = "ed25519") -> tuple[SigningKey, str]:
    key = generate_ed25519() if kind == "ed25519" else generate_p256()
    return key, did_key_for(key.public_key)


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
        sig,
    )


def _encode(obj: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(obj).encode())


async def _reason(token: str, resolver: DidResolver | None = None) -> str:
    with pytest.raises(ProofError) as err:
        await verify_vc_jwt(token, resolver or DidResolver())
    return err.value.code


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
async def test_round_trip_and_claims(kind: str) -> None:
    key, did = _issuer_key(kind)
    credential = ob3_credential(did, valid_until=NOW + timedelta(days=365))
    token = sign_vc_jwt(credential, key)
    header, payload, _ = _segments(token)
    assert header == {"alg": key.alg, "kid": key.kid, "typ": "vc+jwt"}
    assert payload["iss"] == did
    assert payload["jti"] == credential["id"]
    assert payload["sub"] == "did:example:learner-1"
    assert payload["nbf"] == int((NOW - timedelta(days=1)).timestamp())
    assert payload["exp"] == int((NOW + timedelta(days=365)).timestamp())
    assert await verify_vc_jwt(token, DidResolver()) == credential
    assert peek_vc_jwt(token) == (header, credential)


async def test_changed_subject_name_breaks_signature() -> None:
    key, did = _issuer_key()
    head, payload, sig = sign_vc_jwt(ob3_credential(did, name="Data Analysis"), key).split(".")
    body = _segments(f"{head}.{payload}.{sig}")[1]
    body["credentialSubject"]["achievement"]["name"] = "Data Analysis Expert"
    assert await _reason(f"{head}.{_encode(body)}.{sig}") == "signature_invalid"
    # one changed character directly in the payload segment
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    assert await _reason(f"{head}.{flipped}.{sig}") in ("signature_invalid", "malformed_jwt")


async def test_flipped_signature_bit() -> None:
    key, did = _issuer_key()
    head, payload, sig = sign_vc_jwt(ob3_credential(did), key).split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[5] ^= 0x01
    assert await _reason(f"{head}.{payload}.{b64url_encode(bytes(raw))}") == "signature_invalid"


async def test_swapped_issuer() -> None:
    key, did = _issuer_key()
    _, other_did = _issuer_key()
    head, _, sig = sign_vc_jwt(ob3_credential(did), key).split(".")
    body = _segments(sign_vc_jwt(ob3_credential(did), key))[1]
    body["issuer"]["id"] = other_did
    body["iss"] = other_did
    # the kid names a key of the original issuer, not of the claimed one
    assert await _reason(f"{head}.{_encode(body)}.{sig}") == "unknown_key"
    # only the iss claim swapped: claim and credential disagree (and the signature breaks)
    body2 = _segments(sign_vc_jwt(ob3_credential(did), key))[1]
    body2["iss"] = other_did
    assert await _reason(f"{head}.{_encode(body2)}.{sig}") in ("signature_invalid",)


async def test_signature_from_key_the_issuer_does_not_control() -> None:
    _, victim = _issuer_key()
    attacker, _ = _issuer_key()
    credential = ob3_credential(victim)
    # attacker's own kid: the DID in kid is not the issuer
    assert await _reason(sign_vc_jwt(credential, attacker)) == "unknown_key"
    # attacker claims the victim's verification method
    vm = f"{victim}#{victim.removeprefix('did:key:')}"
    forged = sign_vc_jwt(credential, SigningKey(attacker.private_key, vm))
    assert await _reason(forged) == "signature_invalid"


async def test_alg_none_refused() -> None:
    key, did = _issuer_key()
    _, body, _ = _segments(sign_vc_jwt(ob3_credential(did), key))
    token = f"{_encode({'alg': 'none', 'typ': 'vc+jwt', 'kid': key.kid})}.{_encode(body)}."
    assert await _reason(token) == "alg_not_allowed"


async def test_hs256_with_public_key_as_secret_refused() -> None:
    key, did = _issuer_key()
    _, body, _ = _segments(sign_vc_jwt(ob3_credential(did), key))
    head = _encode({"alg": "HS256", "typ": "vc+jwt", "kid": key.kid})
    payload = _encode(body)
    for secret in (
        key.public_key.public_bytes_raw(),
        public_key_multibase(key.public_key).encode(),
        key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        assert await _reason(f"{head}.{payload}.{b64url_encode(mac)}") == "alg_not_allowed"


async def test_alg_that_does_not_fit_the_key() -> None:
    key, did = _issuer_key()
    good = sign_vc_jwt(ob3_credential(did), key)
    _, body, sig = _segments(good)
    for alg in ("ES256", "RS256"):
        head = _encode({"alg": alg, "typ": "vc+jwt", "kid": key.kid})
        assert await _reason(f"{head}.{_encode(body)}.{sig}") == "alg_key_mismatch"


async def test_claim_mismatches() -> None:
    key, did = _issuer_key()
    cases = {
        "jti": "urn:uuid:other",
        "sub": "did:example:someone-else",
        "nbf": int(NOW.timestamp()) + 3600,
        "exp": int(NOW.timestamp()) + 3600,  # exp without validUntil
    }
    for claim, value in cases.items():
        credential = ob3_credential(did)
        head = _encode({"alg": "EdDSA", "typ": "vc+jwt", "kid": key.kid})
        body = {**credential, "iss": did, "jti": credential["id"], claim: value}
        signing_input = f"{head}.{_encode(body)}"
        sig = b64url_encode(key.private_key.sign(signing_input.encode()))
        assert await _reason(f"{signing_input}.{sig}") == "claim_mismatch", claim


def _sign_raw(key: SigningKey, header: dict[str, Any], body: dict[str, Any]) -> str:
    signing_input = f"{_encode(header)}.{_encode(body)}"
    return f"{signing_input}.{b64url_encode(key.private_key.sign(signing_input.encode()))}"


async def test_vc11_vc_claim_form() -> None:
    key, did = _issuer_key()
    vc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"name": "x"},
    }
    nbf = int(NOW.timestamp())
    body = {
        "vc": vc,
        "iss": did,
        "jti": "urn:uuid:1",
        "sub": "did:example:s",
        "nbf": nbf,
        "exp": nbf + 60,
    }
    token = _sign_raw(key, {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}, body)
    credential = await verify_vc_jwt(token, DidResolver())
    assert credential["issuer"] == did
    assert credential["id"] == "urn:uuid:1"
    assert credential["issuanceDate"] == iso(NOW)
    assert credential["expirationDate"] == iso(NOW + timedelta(seconds=60))
    assert credential["credentialSubject"] == {"name": "x", "id": "did:example:s"}
    # a vc claim whose own issuer disagrees with iss
    body["vc"] = {**vc, "issuer": "did:example:other"}
    token = _sign_raw(key, {"alg": "EdDSA", "kid": key.kid}, body)
    assert await _reason(token) == "unknown_key"


async def test_header_jwk_must_belong_to_the_issuer() -> None:
    key = generate_ed25519()
    did = did_jwk_for(key.public_key)
    credential = ob3_credential(did)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "jwk": public_key_to_jwk(key.public_key)}

    token = _sign_raw(key, header, vc_jwt_claims(credential))
    assert await verify_vc_jwt(token, DidResolver()) == credential
    # the same jwk claiming some other issuer is refused
    other = generate_ed25519()
    forged = ob3_credential(did_key_for(other.public_key))
    assert await _reason(_sign_raw(key, header, vc_jwt_claims(forged))) == "unknown_key"


async def test_rs256_via_did_web_jwk() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    did = "did:web:rsa.example"
    doc = {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#rsa",
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": public_key_to_jwk(private.public_key()),
            }
        ],
        "assertionMethod": [f"{did}#rsa"],
    }

    credential = ob3_credential(did)
    signing_input = (
        f"{_encode({'alg': 'RS256', 'kid': f'{did}#rsa'})}.{_encode(vc_jwt_claims(credential))}"
    )
    sig = private.sign(signing_input.encode(), padding.PKCS1v15(), SHA256())
    token = f"{signing_input}.{b64url_encode(sig)}"
    assert await verify_vc_jwt(token, DidResolver(known={did: doc})) == credential


@pytest.mark.parametrize(
    "token", ["", "a.b", "a.b.c.d", "!!!.???.sig", f"{_encode({'alg': 'EdDSA'})}.bm90IGpzb24.x"]
)
async def test_malformed(token: str) -> None:
    assert await _reason(token) == "malformed_jwt"


async def test_wrong_typ_refused() -> None:
    key, did = _issuer_key()

    token = _sign_raw(
        key, {"alg": "EdDSA", "kid": key.kid, "typ": "vp+jwt"}, vc_jwt_claims(ob3_credential(did))
    )
    assert await _reason(token) == "malformed_jwt"


async def test_non_canonical_signature_encoding_refused() -> None:
    key, did = _issuer_key()
    token = sign_vc_jwt(ob3_credential(did), key)
    head, body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    twin = alphabet[last ^ 0b0001]  # differs only in bits the 64-byte signature does not use
    same_bytes = base64.urlsafe_b64decode(sig[:-1] + twin + "==")
    assert same_bytes == base64.urlsafe_b64decode(sig + "==")
    assert await _reason(f"{head}.{body}.{sig[:-1]}{twin}") == "signature_invalid"
    assert await verify_vc_jwt(token, DidResolver())  # the canonical one still verifies


def _standard_b64(part: str) -> str:
    """The same bytes in the standard alphabet (RFC 4648 §4), padded."""
    return part.replace("-", "+").replace("_", "/") + "=" * (-len(part) % 4)


@pytest.mark.parametrize("where", [0, 1, 2])
async def test_parts_must_be_unpadded_base64url(where: int) -> None:
    """RFC 7515 §2: base64url without padding; our own strict parse (issue 7)."""
    key, did = _issuer_key()
    parts = sign_vc_jwt(ob3_credential(did), key).split(".")
    padded = parts.copy()
    padded[where] += "=" * (-len(padded[where]) % 4 or 4)
    assert await _reason(".".join(padded)) == "malformed_jwt"
    standard = parts.copy()
    standard[where] = _standard_b64(standard[where]).rstrip("=") + "+/"
    assert await _reason(".".join(standard)) == "malformed_jwt"
    non_ascii = parts.copy()
    non_ascii[where] = non_ascii[where][:-1] + "é"
    assert await _reason(".".join(non_ascii)) == "malformed_jwt"


async def test_es256_signature_must_be_r_and_s_of_32_octets() -> None:
    """RFC 7518 §3.4: the ES256 signature is R || S, 64 octets; DER or short forms fail."""
    key, did = _issuer_key("p256")
    head, body, sig = sign_vc_jwt(ob3_credential(did), key).split(".")
    raw = base64.urlsafe_b64decode(sig + "==")
    assert len(raw) == 64
    assert await _reason(f"{head}.{body}.{b64url_encode(raw[:63])}") == "signature_invalid"
    longer = b64url_encode(raw + bytes(1))
    assert await _reason(f"{head}.{body}.{longer}") == "signature_invalid"
