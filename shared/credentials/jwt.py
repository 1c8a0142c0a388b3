"""VC-JWT: sign and verify credentials as compact JWS (the JWS itself: ``jws.py``).

Sources: VC-JOSE-COSE §3.1.1 (the JWT payload is the credential itself,
``typ: vc+jwt``), OB 3.0 §8.2 "JSON Web Token Proof Format" (claims ``iss``,
``jti``, ``sub``, ``nbf``, ``exp`` mirror the credential; §8.2.1: the JOSE
header is ``alg``, ``kid`` or ``jwk``, and ``typ`` which, if present, MUST be
``"JWT"``), VC-DATA-MODEL 1.1 §6.3.1 (the older ``vc`` claim form, dates
carried by ``nbf``/``exp``).

Open Badges (credentials and endorsements) are issued in the OB 3.0 form
(``OB_JWT_TYP``); other credentials (status lists) in the VC-JOSE-COSE form.
Both forms are accepted when verifying.

Presence of the registered claims is not required when verifying (VC-JOSE-COSE
makes them optional and the payload is signed either way); when present they
must agree with the credential. The validity window is checked by verify.py.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .crypto_keys import SigningKey
from .dids import DidResolver
from .errors import CredentialError, ProofError
from .jws import open_jws, peek_jws, sign_jws, verify_jws_signature

VC_JWT_TYP = "vc+jwt"
OB_JWT_TYP = "JWT"  # OB 3.0 §8.2.1
# typ values seen in the wild for credentials; anything else (vp+jwt, at+jwt...) is refused.
_ACCEPTED_TYPS = frozenset({"vc+jwt", "vc+ld+jwt", "vc-ld+jwt", "jwt"})
_REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")


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


# --- signing -----------------------------------------------------------------


def vc_jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The payload: the credential plus the OB 3.0 §8.2 registered claims.

    An embedded proof stays in the payload: OB 3.0 §8.2 makes the Data
    Integrity proof first when a credential carries both, inside the JWT."""
    claims = dict(credential)
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


def sign_vc_jwt(credential: dict[str, Any], key: SigningKey, typ: str = VC_JWT_TYP) -> str:
    """Compact JWS with header ``{alg, kid, typ}`` over the credential."""
    return sign_jws(vc_jwt_claims(credential), key, typ)


def sign_ob_jwt(credential: dict[str, Any], key: SigningKey) -> str:
    """An Open Badge as OB 3.0 §8.2 wants it: header ``{alg, kid, typ: JWT}``."""
    return sign_vc_jwt(credential, key, OB_JWT_TYP)


# --- parsing -----------------------------------------------------------------


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
    header, payload = peek_jws(token)
    return header, _credential_from_payload(payload)


# --- verification --------------------------------------------------------------


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
    opened = open_jws(token, typs=_ACCEPTED_TYPS, kind="credential")
    credential = _credential_from_payload(opened.payload)
    await verify_jws_signature(
        opened, issuer_id(credential), resolver, purpose="assertionMethod", role="issuer"
    )
    _check_claims(opened.payload, credential)
    return credential
