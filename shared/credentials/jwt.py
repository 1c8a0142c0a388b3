"""VC-JWT: sign and verify credentials as compact JWS (joserfc does the JWS).

Sources: VC-JOSE-COSE §3.1.1 (the JWT payload is the credential itself,
``typ: vc+jwt``), OB 3.0 §8.2 "JSON Web Token Proof Format" (claims ``iss``,
``jti``, ``sub``, ``nbf``, ``exp`` mirror the credential), VC-DATA-MODEL 1.1
§6.3.1 (the older ``vc`` claim form, dates carried by ``nbf``/``exp``).

Presence of the registered claims is not required when verifying (VC-JOSE-COSE
makes them optional and the payload is signed either way); when present they
must agree with the credential. The validity window is checked by verify.py.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import CompactSignature, JWSRegistry

from .dids import DidResolver, split_did_url
from .errors import CredentialError, ProofError
from .keys import (
    PrivateKey,
    PublicKey,
    SigningKey,
    alg_for_key,
    ed25519_from_raw,
    jwk_thumbprint,
    public_key_from_jwk,
    public_key_to_jwk,
)

ALLOWED_ALGS = frozenset({"EdDSA", "ES256", "RS256"})
VC_JWT_TYP = "vc+jwt"
# typ values seen in the wild for credentials; anything else (vp+jwt, at+jwt...) is refused.
_ACCEPTED_TYPS = frozenset({"vc+jwt", "vc+ld+jwt", "vc-ld+jwt", "jwt"})
_REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
MAX_TOKEN_LENGTH = 2 * 1024 * 1024


class _VcJwtRegistry(JWSRegistry):
    """Our allow-list; no ``none``/HS*; no per-call SecurityWarning for EdDSA.

    joserfc warns on every use of ``EdDSA`` (RFC 9864 prefers ``Ed25519``), but
    OB 3.0 and VC-JOSE-COSE deployments use ``EdDSA``, so we keep it silently.
    """

    max_header_length = 8 * 1024
    max_payload_length = MAX_TOKEN_LENGTH
    max_signature_length = 1024

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in ALLOWED_ALGS or name not in self.algorithms:
            raise ProofError("alg_not_allowed", f"JWS algorithm {name!r} is not allowed")
        return self.algorithms[name]


_REGISTRY = _VcJwtRegistry(algorithms=sorted(ALLOWED_ALGS), strict_check_header=False)


# --- dates -------------------------------------------------------------------


def parse_vc_datetime(value: object, path: str) -> datetime:
    """An XSD dateTimeStamp (timezone required) as an aware datetime."""
    if not isinstance(value, str):
        raise CredentialError("bad_date", "date must be a string", path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CredentialError("bad_date", f"not an ISO 8601 date-time: {value!r}", path) from exc
    if parsed.tzinfo is None:
        raise CredentialError("bad_date", "date-time needs a time zone", path)
    return parsed


def _numeric_date(value: object, path: str) -> int:
    return math.floor(parse_vc_datetime(value, path).timestamp())


# --- helpers on the credential -------------------------------------------------


def issuer_id(credential: dict[str, Any]) -> str | None:
    """The issuer's id (``issuer`` is a URL or an object with ``id``)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def subject_id(credential: dict[str, Any]) -> str | None:
    """The subject id when there is exactly one subject with an id."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if len(subject) == 1 else None
    value = subject.get("id") if isinstance(subject, dict) else None
    return value if isinstance(value, str) else None


def _joserfc_key(key: PrivateKey | PublicKey) -> OKPKey | ECKey | RSAKey:
    alg_for_key(key)  # refuses curves and types we do not support
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return OKPKey.import_key(key)
    if isinstance(key, EllipticCurvePrivateKey | EllipticCurvePublicKey):
        return ECKey.import_key(key)
    return RSAKey.import_key(key)


def _public_bytes(key: PublicKey) -> bytes:
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes_raw()
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@functools.lru_cache(maxsize=1024)
def _verifier_for(encoded: bytes) -> OKPKey | ECKey | RSAKey:
    """A pure, bounded memo: the joserfc key for a public key (by its encoding).

    joserfc exports a key to a JWK dict on first use; keeping the prepared key
    saves that work on every verification (see bench/bench_jwt.py).
    """
    loaded = ed25519_from_raw(encoded) if len(encoded) == 32 else load_der_public_key(encoded)
    if not isinstance(loaded, Ed25519PublicKey | EllipticCurvePublicKey | RSAPublicKey):
        raise ProofError("unknown_key", "unsupported public key type")
    prepared = _joserfc_key(loaded)
    prepared.check_use("sig")  # builds and caches the JWK form now
    return prepared


# --- signing -----------------------------------------------------------------


def vc_jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The payload: the credential plus the OB 3.0 §8.2 registered claims."""
    claims = {k: v for k, v in credential.items() if k != "proof"}
    issuer = issuer_id(credential)
    if issuer is None:
        raise ProofError("claim_mismatch", "credential has no issuer id", "/issuer")
    claims["iss"] = issuer
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    subject = subject_id(credential)
    if subject is not None:
        claims["sub"] = subject
    if "validFrom" in credential:
        claims["nbf"] = _numeric_date(credential["validFrom"], "/validFrom")
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"], "/validUntil")
    return claims


def sign_jws(claims: dict[str, Any], key: SigningKey, typ: str) -> str:
    """Compact JWS with header ``{alg, kid, typ}`` over the JSON ``claims``."""
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    payload = orjson.dumps(claims)
    return jws.serialize_compact(header, payload, _joserfc_key(key.private_key), registry=_REGISTRY)


def sign_vc_jwt(credential: dict[str, Any], key: SigningKey) -> str:
    """Compact JWS with header ``{alg, kid, typ: vc+jwt}`` over the credential."""
    return sign_jws(vc_jwt_claims(credential), key, VC_JWT_TYP)


# --- parsing -----------------------------------------------------------------


def _parse(token: object) -> tuple[CompactSignature, dict[str, Any]]:
    """joserfc's strict compact parse (sizes, base64url, header JSON) + the payload JSON."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise ProofError("malformed_jwt", "token must be a compact JWS (three parts)")
    try:
        obj = jws.extract_compact(token.encode("ascii"), registry=_REGISTRY)
        payload = orjson.loads(obj.payload)
    except (JoseError, ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ProofError("malformed_jwt", "header or payload is not base64url JSON") from exc
    if not isinstance(obj.protected, dict) or not isinstance(payload, dict):
        raise ProofError("malformed_jwt", "header and payload must be JSON objects")
    return obj, payload


def _credential_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """VC 2.0: the payload minus registered claims; VC 1.1: the ``vc`` claim, completed."""
    vc = payload.get("vc")
    if vc is None:
        return {k: v for k, v in payload.items() if k not in _REGISTERED_CLAIMS}
    if not isinstance(vc, dict):
        raise ProofError("malformed_jwt", "the vc claim must be an object")
    credential = dict(vc)
    # VC-DATA-MODEL 1.1 §6.3.1: JWT claims stand in for the credential's properties.
    fills = {"iss": "issuer", "jti": "id", "nbf": "issuanceDate", "exp": "expirationDate"}
    for claim, prop in fills.items():
        if claim in payload and prop not in credential:
            value = payload[claim]
            credential[prop] = _from_numeric(value) if claim in ("nbf", "exp") else value
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and "sub" in payload and "id" not in subject:
        credential["credentialSubject"] = {**subject, "id": payload["sub"]}
    return credential


def _from_numeric(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProofError("malformed_jwt", "nbf/exp must be NumericDate numbers")
    try:
        moment = datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ProofError("malformed_jwt", "nbf/exp out of range") from exc
    return moment.isoformat().replace("+00:00", "Z")


def peek_vc_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, credential) without any verification. Never trust the result."""
    obj, payload = _parse(token)
    return dict(obj.protected), _credential_from_payload(payload)


# --- verification --------------------------------------------------------------


def _check_header(
    header: dict[str, Any], typs: frozenset[str] = _ACCEPTED_TYPS, kind: str = "credential"
) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise ProofError("alg_not_allowed", f"JWS algorithm {alg!r} is not allowed")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in typs):
        raise ProofError("malformed_jwt", f"typ {typ!r} is not a {kind} JWT")
    if "crit" in header or "b64" in header:  # RFC 7515 §4.1.11, RFC 7797: not for credentials
        raise ProofError("malformed_jwt", "crit/b64 header parameters are not supported")
    return alg


def _same_key(a: PublicKey, b: PublicKey) -> bool:
    return jwk_thumbprint(public_key_to_jwk(a)) == jwk_thumbprint(public_key_to_jwk(b))


def _key_error(exc: CredentialError) -> ProofError:
    """``key_unavailable`` if the DID could not be fetched, else ``unknown_key``."""
    code = "key_unavailable" if exc.code == "unavailable" else "unknown_key"
    return ProofError(code, f"{exc.code}: {exc.detail}")


async def _issuer_key(
    resolver: DidResolver, vm_id: str, purpose: str = "assertionMethod"
) -> PublicKey:
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
    kid: object,
    issuer: str,
    resolver: DidResolver,
    purpose: str = "assertionMethod",
    role: str = "issuer",
) -> PublicKey:
    vm_id = kid_method_id(kid, issuer)
    if split_did_url(vm_id)[0] != issuer:
        raise ProofError("unknown_key", f"kid names a key the {role} does not control")
    return await _issuer_key(resolver, vm_id, purpose)


async def _key_from_jwk(
    jwk: object,
    issuer: str,
    resolver: DidResolver,
    purpose: str = "assertionMethod",
    role: str = "issuer",
) -> PublicKey:
    """A header ``jwk`` is usable only if the signer's DID document authorises it."""
    try:
        candidate = public_key_from_jwk(jwk)
    except CredentialError as exc:
        raise ProofError("malformed_jwt", f"header jwk: {exc.detail}") from exc
    try:
        doc = await resolver.resolve(issuer)
    except CredentialError as exc:
        raise _key_error(exc) from exc
    entries = doc.get(purpose)
    for entry in entries if isinstance(entries, list) else []:
        ref = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(ref, str):
            continue
        vm_id = issuer + ref if ref.startswith("#") else ref
        try:
            authorised = await resolver.verification_key(vm_id, purpose)
        except CredentialError:
            continue
        if _same_key(authorised, candidate):
            return candidate
    noun = "an assertion" if purpose == "assertionMethod" else f"an {purpose}"
    raise ProofError("unknown_key", f"header jwk is not {noun} key of the {role}")


async def _verification_key(
    header: dict[str, Any],
    issuer: str | None,
    resolver: DidResolver,
    purpose: str = "assertionMethod",
    role: str = "issuer",
) -> PublicKey:
    if issuer is None or not issuer.startswith("did:"):
        raise ProofError("unknown_key", f"the {role} is not a DID: its keys cannot be found")
    if "kid" in header:
        key = await _key_from_kid(header["kid"], issuer, resolver, purpose, role)
        if "jwk" in header and not _same_key(
            key, await _key_from_jwk(header["jwk"], issuer, resolver, purpose, role)
        ):
            raise ProofError("unknown_key", "header jwk and kid name different keys")
        return key
    if "jwk" in header:
        return await _key_from_jwk(header["jwk"], issuer, resolver, purpose, role)
    return await _issuer_key(resolver, issuer, purpose)  # the signer's only key for purpose


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}  # by length % 4 (RFC 4648 §3.5: unused bits are 0)


def _canonical_b64url(text: str) -> bool:
    """Non-empty unpadded base64url whose final character carries no stray bits."""
    mask = _UNUSED_BITS.get(len(text) % 4)
    if not text or mask is None:
        return False
    last = _B64URL.find(text[-1])
    return last >= 0 and not last & mask


def _check_signature(token: str, obj: CompactSignature, alg: str, key: PublicKey) -> None:
    if alg_for_key(key) != alg:
        raise ProofError("alg_key_mismatch", f"{alg} cannot be used with this key type")
    if not _canonical_b64url(token.rpartition(".")[2]):  # one credential, one token string
        raise ProofError("signature_invalid", "the signature is not canonical base64url")
    try:
        valid = jws.validate_compact(obj, _verifier_for(_public_bytes(key)), registry=_REGISTRY)
    except JoseError as exc:
        raise ProofError("signature_invalid", f"JWS rejected: {exc}") from exc
    if not valid:
        raise ProofError("signature_invalid", "the JWS signature does not verify")


def _claim(payload: dict[str, Any], name: str, expected: object, path: str) -> None:
    if name in payload and payload[name] != expected:
        raise ProofError("claim_mismatch", f"JWT {name} does not match the credential", path)


def _date_claim(payload: dict[str, Any], name: str, value: object, path: str) -> None:
    if name not in payload:
        return
    if value is None:
        raise ProofError("claim_mismatch", f"JWT {name} has no matching credential date", path)
    claim = payload[name]
    if isinstance(claim, bool) or not isinstance(claim, int | float):
        raise ProofError("malformed_jwt", f"JWT {name} must be a NumericDate")
    try:
        moment = parse_vc_datetime(value, path).timestamp()
    except CredentialError as exc:
        raise ProofError("claim_mismatch", exc.detail, path) from exc
    if abs(claim - moment) > 1:  # NumericDate has whole seconds; allow the truncation
        raise ProofError("claim_mismatch", f"JWT {name} does not match the credential", path)


def _check_claims(payload: dict[str, Any], credential: dict[str, Any]) -> None:
    """OB 3.0 §8.2.4 / VC 1.1 §6.3.1: registered claims agree with the credential."""
    _claim(payload, "iss", issuer_id(credential), "/issuer")
    _claim(payload, "jti", credential.get("id"), "/id")
    _claim(payload, "sub", subject_id(credential), "/credentialSubject/id")
    start = "validFrom" if "validFrom" in credential else "issuanceDate"
    end = "validUntil" if "validUntil" in credential else "expirationDate"
    _date_claim(payload, "nbf", credential.get(start), f"/{start}")
    _date_claim(payload, "exp", credential.get(end), f"/{end}")


async def verify_vc_jwt(token: str, resolver: DidResolver) -> dict[str, Any]:
    """Verify a VC-JWT and return the credential (registered claims removed).

    Raises ``ProofError``: ``malformed_jwt``, ``alg_not_allowed``,
    ``alg_key_mismatch``, ``unknown_key``, ``key_unavailable`` (the issuer's
    did:web could not be fetched), ``signature_invalid``, ``claim_mismatch``.
    """
    obj, payload = _parse(token)
    header = obj.protected
    alg = _check_header(header)
    credential = _credential_from_payload(payload)
    key = await _verification_key(header, issuer_id(credential), resolver)
    _check_signature(token, obj, alg, key)
    _check_claims(payload, credential)
    return credential


# --- generic JWS, for other JOSE-secured documents (presentations.py: VP-JWT) ------


@dataclass(frozen=True)
class OpenedJws:
    """A parsed compact JWS whose header passed the checks; signature not yet verified."""

    token: str
    signature: CompactSignature
    header: dict[str, Any]
    payload: dict[str, Any]
    alg: str


def open_jws(token: str, *, typs: frozenset[str], kind: str) -> OpenedJws:
    """Parse ``token`` and check its header: the alg allow-list, ``typ`` among ``typs``
    (or absent), no ``crit``/``b64``. Raises ``ProofError`` (``malformed_jwt``,
    ``alg_not_allowed``)."""
    obj, payload = _parse(token)
    header = obj.protected
    alg = _check_header(header, typs, kind)
    return OpenedJws(token, obj, dict(header), payload, alg)


async def verify_jws_signature(
    opened: OpenedJws, signer: str | None, resolver: DidResolver, *, purpose: str, role: str
) -> PublicKey:
    """Check the signature with the key that ``signer``'s DID document authorises for
    ``purpose`` (header ``kid``/``jwk`` resolved as for VC-JWTs); return that key."""
    key = await _verification_key(opened.header, signer, resolver, purpose, role)
    _check_signature(opened.token, opened.signature, opened.alg, key)
    return key
