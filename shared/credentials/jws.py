"""Compact JWS for JOSE-secured documents.

joserfc signs; verifying is our strict compact parse (orjson for the JSON)
and the JWA signature check of ``cryptography`` (the same library that does
the crypto inside joserfc): the verifier's hot path, where joserfc's generic
parse and key wrapping cost more than the Ed25519 verify itself
(bench/bench_jwt.py, issue 7).

Sources: RFC 7515 (compact serialisation; ``crit`` §4.1.11), RFC 7797 (no
``b64: false``), VC-JOSE-COSE §3.1 (the signer's key named by ``kid`` or
``jwk``). Used by ``jwt.py`` (VC-JWTs) and ``vp_jwt.py`` (VP-JWTs).

Policy: algorithms EdDSA, ES256, RS256 only; the key is one that the signer's
DID document authorises for the purpose (``kid``: a DID URL or a fragment of
the signer's DID; ``jwk``: only if it is one of those keys); the signature
must be canonical base64url, so one document has one token string.
"""

from __future__ import annotations

import binascii
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ec import (
    ECDSA,
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jws
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from .crypto_keys import (
    PrivateKey,
    PublicKey,
    SigningKey,
    alg_for_key,
    jwk_thumbprint,
    public_key_from_jwk,
    public_key_to_jwk,
    verify_ed25519,
)
from .dids import DidResolver, split_did_url
from .errors import CredentialError, ProofError

ALLOWED_ALGS = frozenset({"EdDSA", "ES256", "RS256"})
MAX_TOKEN_LENGTH = 2 * 1024 * 1024
MAX_HEADER_LENGTH = 8 * 1024  # base64url characters
MAX_SIGNATURE_LENGTH = 1024
_TO_STANDARD_B64 = bytes.maketrans(b"-_+/=", b"+/!!!")  # RFC 4648 §5 -> §4, foreign -> !


class _JwsRegistry(JWSRegistry):
    """Our allow-list for signing; no per-call SecurityWarning for EdDSA.

    joserfc warns on every use of ``EdDSA`` (RFC 9864 prefers ``Ed25519``), but
    OB 3.0 and VC-JOSE-COSE deployments use ``EdDSA``, so we keep it silently.
    """

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in ALLOWED_ALGS or name not in self.algorithms:
            raise ProofError("alg_not_allowed", f"JWS algorithm {name!r} is not allowed")
        return self.algorithms[name]


_REGISTRY = _JwsRegistry(algorithms=sorted(ALLOWED_ALGS), strict_check_header=False)


# --- keys ----------------------------------------------------------------------


def _joserfc_key(key: PrivateKey | PublicKey) -> OKPKey | ECKey | RSAKey:
    alg_for_key(key)  # refuses curves and types we do not support
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return OKPKey.import_key(key)
    if isinstance(key, EllipticCurvePrivateKey | EllipticCurvePublicKey):
        return ECKey.import_key(key)
    return RSAKey.import_key(key)


class _Parsed(NamedTuple):
    signing_input: bytes
    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes


# --- signing and parsing ---------------------------------------------------------


def sign_jws(claims: dict[str, Any], key: SigningKey, typ: str) -> str:
    """Compact JWS with header ``{alg, kid, typ}`` over the JSON ``claims``."""
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    payload = orjson.dumps(claims)
    return jws.serialize_compact(header, payload, _joserfc_key(key.private_key), registry=_REGISTRY)


def _segment(part: bytes, limit: int) -> bytes:
    """One compact JWS part: strict unpadded base64url (RFC 7515 §2, §7.1), at most
    ``limit`` characters. ``+``, ``/`` and ``=`` become ``!``, which strict
    decoding refuses like any other character outside the alphabet."""
    if len(part) > limit:
        raise ProofError("malformed_jwt", "a JWS part is too long")
    try:
        return binascii.a2b_base64(
            part.translate(_TO_STANDARD_B64) + b"=" * (-len(part) % 4), strict_mode=True
        )
    except binascii.Error as exc:
        raise ProofError("malformed_jwt", "a JWS part is not unpadded base64url") from exc


class _Decoded(NamedTuple):
    signing_input: bytes
    header: bytes  # JSON
    payload: bytes  # JSON
    signature: bytes


def _decode(token: str) -> _Decoded:
    """Strict compact split and decoding (RFC 7515 §7.1): three base64url parts
    within their size caps; the JSON is left to :func:`_parse`."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise ProofError("malformed_jwt", "token must be a compact JWS (three parts)")
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ProofError("malformed_jwt", "a compact JWS is ASCII") from exc
    head, body, sig = raw.split(b".")
    return _Decoded(
        raw[: len(head) + 1 + len(body)],
        _segment(head, MAX_HEADER_LENGTH),
        _segment(body, MAX_TOKEN_LENGTH),
        _segment(sig, MAX_SIGNATURE_LENGTH),
    )


# A pure, bounded memo of the last tokens decoded (immutable bytes only): one
# request looks at its token up to three times (OB 2.0 or not, the unverified
# document, the verification), and decoding is a third of that work (issue 7).
_decode_recent = functools.lru_cache(maxsize=32)(_decode)
_MEMO_MAX_LENGTH = 64 * 1024


def _parse(token: object) -> _Parsed:
    """The decoded parts, header and payload parsed as JSON objects (orjson, fresh
    dicts on every call: callers may keep or change them)."""
    if not isinstance(token, str):
        raise ProofError("malformed_jwt", "token must be a compact JWS (three parts)")
    decoded = _decode_recent(token) if len(token) <= _MEMO_MAX_LENGTH else _decode(token)
    try:
        header = orjson.loads(decoded.header)
        payload = orjson.loads(decoded.payload)
    except orjson.JSONDecodeError as exc:
        raise ProofError("malformed_jwt", "header or payload is not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ProofError("malformed_jwt", "header and payload must be JSON objects")
    return _Parsed(decoded.signing_input, header, payload, decoded.signature)


def peek_jws(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, parsed but not checked. Never trust the result."""
    parsed = _parse(token)
    return parsed.header, parsed.payload


def _check_header(header: dict[str, Any], typs: frozenset[str], kind: str) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise ProofError("alg_not_allowed", f"JWS algorithm {alg!r} is not allowed")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in typs):
        raise ProofError("malformed_jwt", f"typ {typ!r} is not a {kind} JWT")
    if "crit" in header or "b64" in header:  # RFC 7515 §4.1.11, RFC 7797: not for credentials
        raise ProofError("malformed_jwt", "crit/b64 header parameters are not supported")
    return alg


@dataclass(frozen=True)
class OpenedJws:
    """A parsed compact JWS whose header passed the checks; signature not yet verified."""

    token: str
    signing_input: bytes  # ASCII(BASE64URL(header) || '.' || BASE64URL(payload)), RFC 7515 §5.2
    signature: bytes
    header: dict[str, Any]
    payload: dict[str, Any]
    alg: str


def open_jws(token: str, *, typs: frozenset[str], kind: str) -> OpenedJws:
    """Parse ``token`` and check its header: the alg allow-list, ``typ`` among ``typs``
    (or absent), no ``crit``/``b64``. Raises ``ProofError`` (``malformed_jwt``,
    ``alg_not_allowed``)."""
    parsed = _parse(token)
    alg = _check_header(parsed.header, typs, kind)
    return OpenedJws(
        token, parsed.signing_input, parsed.signature, parsed.header, parsed.payload, alg
    )


# --- the signer's key --------------------------------------------------------------


def _same_key(a: PublicKey, b: PublicKey) -> bool:
    return jwk_thumbprint(public_key_to_jwk(a)) == jwk_thumbprint(public_key_to_jwk(b))


def _key_error(exc: CredentialError) -> ProofError:
    """``key_unavailable`` if the DID could not be fetched, else ``unknown_key``."""
    code = "key_unavailable" if exc.code == "unavailable" else "unknown_key"
    return ProofError(code, f"{exc.code}: {exc.detail}")


async def _resolved_key(resolver: DidResolver, vm_id: str, purpose: str) -> PublicKey:
    try:
        return await resolver.verification_key(vm_id, purpose)
    except CredentialError as exc:
        raise _key_error(exc) from exc


def kid_method_id(kid: object, controller: str) -> str:
    """The verification method a header ``kid`` names, relative to ``controller``'s DID."""
    if not isinstance(kid, str) or not kid:
        raise ProofError("malformed_jwt", "kid must be a non-empty string")
    if kid.startswith("#"):
        return controller + kid  # a bare fragment names a method of the controller
    if kid.startswith("did:"):
        return kid
    return f"{controller}#{kid}"


async def _key_from_kid(
    kid: object, signer: str, resolver: DidResolver, purpose: str, role: str
) -> PublicKey:
    vm_id = kid_method_id(kid, signer)
    if split_did_url(vm_id)[0] != signer:
        raise ProofError("unknown_key", f"kid names a key the {role} does not control")
    return await _resolved_key(resolver, vm_id, purpose)


async def _key_from_jwk(
    jwk: object, signer: str, resolver: DidResolver, purpose: str, role: str
) -> PublicKey:
    """A header ``jwk`` is usable only if the signer's DID document authorises it."""
    try:
        candidate = public_key_from_jwk(jwk)
    except CredentialError as exc:
        raise ProofError("malformed_jwt", f"header jwk: {exc.detail}") from exc
    try:
        doc = await resolver.resolve(signer)
    except CredentialError as exc:
        raise _key_error(exc) from exc
    entries = doc.get(purpose)
    for entry in entries if isinstance(entries, list) else []:
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(ref, str):
            continue
        vm_id = signer + ref if ref.startswith("#") else ref
        try:
            authorised = await resolver.verification_key(vm_id, purpose)
        except CredentialError:
            continue
        if _same_key(authorised, candidate):
            return candidate
    noun = "an assertion" if purpose == "assertionMethod" else f"an {purpose}"
    raise ProofError("unknown_key", f"header jwk is not {noun} key of the {role}")


async def _verification_key(
    header: dict[str, Any], signer: str | None, resolver: DidResolver, purpose: str, role: str
) -> PublicKey:
    if signer is None or not signer.startswith("did:"):
        raise ProofError("unknown_key", f"the {role} is not a DID: its keys cannot be found")
    if "kid" in header:
        key = await _key_from_kid(header["kid"], signer, resolver, purpose, role)
        if "jwk" in header and not _same_key(
            key, await _key_from_jwk(header["jwk"], signer, resolver, purpose, role)
        ):
            raise ProofError("unknown_key", "header jwk and kid name different keys")
        return key
    if "jwk" in header:
        return await _key_from_jwk(header["jwk"], signer, resolver, purpose, role)
    return await _resolved_key(resolver, signer, purpose)  # the signer's only key for purpose


# --- the signature -------------------------------------------------------------------

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}  # by length % 4 (RFC 4648 §3.5: unused bits are 0)


def _canonical_b64url(text: str) -> bool:
    """Non-empty unpadded base64url whose final character carries no stray bits."""
    mask = _UNUSED_BITS.get(len(text) % 4)
    if not text or mask is None:
        return False
    last = _B64URL.find(text[-1])
    return last >= 0 and not last & mask


def _verify_with(key: PublicKey, alg: str, signature: bytes, signing_input: bytes) -> None:
    """The JWA verification (RFC 7518 §3.3 RS256, §3.4 ES256; RFC 8037 §3.1 EdDSA),
    EdDSA by libsodium (``verify_ed25519``), the others by ``cryptography``;
    raises ``InvalidSignature``."""
    if isinstance(key, Ed25519PublicKey):
        verify_ed25519(key, signature, signing_input)
    elif isinstance(key, EllipticCurvePublicKey):
        if len(signature) != 64:  # §3.4: R || S, 32 octets each for P-256
            raise InvalidSignature
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.verify(encode_dss_signature(r, s), signing_input, ECDSA(SHA256()))
    else:
        key.verify(signature, signing_input, PKCS1v15(), SHA256())


def _check_signature(opened: OpenedJws, key: PublicKey) -> None:
    if alg_for_key(key) != opened.alg:
        raise ProofError("alg_key_mismatch", f"{opened.alg} cannot be used with this key type")
    if not _canonical_b64url(opened.token.rpartition(".")[2]):  # one document, one token
        raise ProofError("signature_invalid", "the signature is not canonical base64url")
    try:
        _verify_with(key, opened.alg, opened.signature, opened.signing_input)
    except InvalidSignature:
        raise ProofError("signature_invalid", "the JWS signature does not verify") from None


def check_jws_signature(opened: OpenedJws, key: PublicKey) -> None:
    """Check the signature with a key the caller already trusts (e.g. an
    Open Badges 2.0 issuer's CryptographicKey). Raises ``ProofError``."""
    _check_signature(opened, key)


async def verify_jws_signature(
    opened: OpenedJws, signer: str | None, resolver: DidResolver, *, purpose: str, role: str
) -> PublicKey:
    """Check the signature with the key that ``signer``'s DID document authorises for
    ``purpose`` (header ``kid``/``jwk`` resolved as for VC-JWTs); return that key.

    Raises ``ProofError``: ``alg_key_mismatch``, ``unknown_key``, ``key_unavailable``
    (the signer's did:web could not be fetched), ``malformed_jwt`` (a bad ``kid`` or
    ``jwk``), ``signature_invalid``."""
    key = await _verification_key(opened.header, signer, resolver, purpose, role)
    _check_signature(opened, key)
    return key
