"""Signing keys, Multikey (multibase + multicodec) and JWK conversion.

Supported: Ed25519 (``EdDSA``), P-256 (``ES256``) and RSA of at least 2048
bits (``RS256``, the minimum algorithm of OB 3.0 §8.2) for signing and
verification. RSA keys have no Multikey form here (and so no did:key):
they are published as JWKs.

base58btc is implemented here (``b58encode``/``b58decode``): it is a plain
radix conversion of ~20 lines, only ever applied to public keys of at most a
few dozen bytes, and tested against the did:key specification's vectors, so a
dependency is not worth it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import CredentialError

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

# Multicodec table (varint-encoded code prefixes): ed25519-pub 0xed, p256-pub 0x1200.
ED25519_PUB_PREFIX = b"\xed\x01"
P256_PUB_PREFIX = b"\x80\x24"

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_MAX_B58_CHARS = 256  # public keys only: refuse absurd inputs before the bignum work


class KeyFormatError(CredentialError):
    """A key encoding (multibase, JWK) is malformed or of an unsupported type."""


# --- base58btc / base64url ---------------------------------------------------


def b58encode(data: bytes) -> str:
    """base58btc (Bitcoin alphabet); leading zero bytes become ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises ``KeyFormatError`` on bad input."""
    if len(text) > _MAX_B58_CHARS:
        raise KeyFormatError("bad_key", "base58 value too long")
    num = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise KeyFormatError("bad_key", "invalid base58btc character")
        num = num * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ``KeyFormatError``."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text):
        raise KeyFormatError("bad_key", "expected unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("bad_key", "invalid base64url") from exc


MIN_RSA_BITS = 2048

# --- signing keys ------------------------------------------------------------


def alg_for_key(key: PrivateKey | PublicKey) -> str:
    """The JOSE algorithm a key signs with (RFC 8037 EdDSA, RFC 7518 ES256/RS256)."""
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ES256"
        raise KeyFormatError("unsupported_key", f"unsupported curve {key.curve.name}")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        # RFC 7518 §3.3: a key of 2048 bits or larger MUST be used (we sign with it)
        raise KeyFormatError("unsupported_key", f"an RSA key of {key.key_size} bits is too small")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    raise KeyFormatError("unsupported_key", f"unsupported key type {type(key).__name__}")


@dataclass(frozen=True)
class SigningKey:
    """A private key with the verification method id (``kid``) that names it."""

    private_key: PrivateKey = field(repr=False)
    kid: str
    alg: str = ""

    def __post_init__(self) -> None:
        derived = alg_for_key(self.private_key)
        if self.alg and self.alg != derived:
            raise KeyFormatError("alg_key_mismatch", f"{self.alg} does not fit the key")
        object.__setattr__(self, "alg", derived)

    @property
    def public_key(self) -> PublicKey:
        """The public half."""
        return self.private_key.public_key()

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r}, private_key=<redacted>)"


def _did_key_kid(private_key: PrivateKey) -> str:
    value = public_key_multibase(private_key.public_key())
    return f"did:key:{value}#{value}"


def generate_ed25519(kid: str | None = None) -> SigningKey:
    """A fresh Ed25519 key; ``kid`` defaults to its did:key verification method."""
    private = Ed25519PrivateKey.generate()
    return SigningKey(private, kid or _did_key_kid(private))


def generate_p256(kid: str | None = None) -> SigningKey:
    """A fresh P-256 key; ``kid`` defaults to its did:key verification method."""
    private = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(private, kid or _did_key_kid(private))


# --- Multikey (Controlled Identifiers §2.2.2 Multikey) ------------------------


def public_key_multibase(public_key: PublicKey) -> str:
    """``z`` + base58btc(multicodec prefix + raw public key); P-256 compressed."""
    if isinstance(public_key, Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "z" + b58encode(ED25519_PUB_PREFIX + raw)
    if isinstance(public_key, ec.EllipticCurvePublicKey) and alg_for_key(public_key) == "ES256":
        raw = public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        return "z" + b58encode(P256_PUB_PREFIX + raw)
    raise KeyFormatError("unsupported_key", "Multikey supports Ed25519 and P-256 only (here)")


def public_key_from_multibase(value: str) -> Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """Decode a Multikey ``publicKeyMultibase`` (base58btc, ``z`` prefix)."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyFormatError("bad_key", "publicKeyMultibase must be base58btc ('z' prefix)")
    data = b58decode(value[1:])
    if data.startswith(ED25519_PUB_PREFIX):
        return ed25519_from_raw(data[2:])
    if data.startswith(P256_PUB_PREFIX):
        if len(data) != 2 + 33:
            raise KeyFormatError("bad_key", "P-256 Multikey must be a 33-byte compressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
        except ValueError as exc:
            raise KeyFormatError("bad_key", "invalid P-256 point") from exc
    raise KeyFormatError("unsupported_key", "unsupported multicodec key type")


def ed25519_from_raw(raw: bytes) -> Ed25519PublicKey:
    """A 32-byte raw Ed25519 public key."""
    if len(raw) != 32:
        raise KeyFormatError("bad_key", "Ed25519 public key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_ed25519(key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    """RFC 8032 §5.1.7 verification, by libsodium: 1.5-2x faster on this
    machine than OpenSSL's (the largest single cost of a VC-JWT check). The
    same equation as OpenSSL's, with more refusals: small-order keys and R
    points, and non-canonical encodings. Raises ``InvalidSignature`` as
    ``cryptography`` does."""
    if len(signature) != 64:  # §5.1.6: R || S, 32 octets each
        raise InvalidSignature
    try:
        nacl.bindings.crypto_sign_open(signature + message, key.public_bytes_raw())
    except nacl.exceptions.BadSignatureError:
        raise InvalidSignature from None


# --- JWK (RFC 7517, RFC 7518 §6, RFC 8037) -------------------------------------


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def public_key_to_jwk(public_key: PublicKey) -> dict[str, str]:
    """Public JWK (no ``kid``, no private members)."""
    if isinstance(public_key, Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    if isinstance(public_key, ec.EllipticCurvePublicKey) and alg_for_key(public_key) == "ES256":
        nums = public_key.public_numbers()
        x, y = (b64url_encode(n.to_bytes(32, "big")) for n in (nums.x, nums.y))
        return {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    if isinstance(public_key, rsa.RSAPublicKey):
        rsa_nums = public_key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(rsa_nums.n), "e": _int_b64(rsa_nums.e)}
    raise KeyFormatError("unsupported_key", "unsupported public key type")


def public_key_from_jwk(jwk: object) -> PublicKey:
    """Parse a public JWK; refuses private members and unsupported key types."""
    if not isinstance(jwk, dict):
        raise KeyFormatError("bad_key", "JWK must be an object")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise KeyFormatError("bad_key", "JWK contains private key material")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            return ed25519_from_raw(b64url_decode(jwk["x"]))
        if kty == "EC" and crv == "P-256":
            x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
            if len(x) != 32 or len(y) != 32:
                raise KeyFormatError("bad_key", "P-256 coordinates must be 32 bytes")
            point = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            return point.public_key()  # validates the point is on the curve
        if kty == "RSA":
            return _rsa_from_jwk(jwk)
    except (KeyError, TypeError) as exc:
        raise KeyFormatError("bad_key", f"JWK member missing or invalid: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError("bad_key", "invalid public key") from exc
    raise KeyFormatError("unsupported_key", f"unsupported JWK kty/crv {kty}/{crv}")


def _rsa_from_jwk(jwk: dict[str, object]) -> rsa.RSAPublicKey:
    n = int.from_bytes(b64url_decode(str(jwk["n"])), "big")
    e = int.from_bytes(b64url_decode(str(jwk["e"])), "big")
    if n.bit_length() < 2048:
        raise KeyFormatError("bad_key", "RSA keys shorter than 2048 bits are refused")
    return rsa.RSAPublicNumbers(e, n).public_key()


_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) over the required members."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise KeyFormatError("unsupported_key", "cannot thumbprint this JWK")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())
