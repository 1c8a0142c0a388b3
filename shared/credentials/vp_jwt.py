"""Verifiable presentations as JWTs (VC-JOSE-COSE §3.1.2, ``typ: vp+jwt``).

The JWS itself comes from ``jws.py``. The payload is the presentation (VC 1.1
§6.3.1: or its ``vp`` claim), ``iss`` is the holder, ``nonce`` the verifier's
challenge and ``aud`` its domain; ``iat``/``exp`` bound the signature's
lifetime. ``EnvelopedVerifiablePresentation`` (VC DM 2.0 §4.13.1,
``data:application/vp+jwt,<jwt>``) unwraps to that JWT.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .crypto_keys import SigningKey
from .data_integrity import VerifiedProof
from .dids import DidResolver
from .errors import ProofError, ShapeError
from .jsonld import JsonDoc
from .jws import kid_method_id, open_jws, sign_jws, verify_jws_signature
from .vp_model import (
    PRESENTATION_PURPOSE,
    VC_V2_CONTEXT,
    VerifiedPresentation,
    embedded_credentials,
    envelope_jwt,
    has_type,
    holder_of,
    require_presentation,
    with_holder,
)

VP_ENVELOPE_TYPE = "EnvelopedVerifiablePresentation"
VP_JWT_MEDIA_TYPES = ("application/vp+jwt", "application/vp-ld+jwt")
VP_JWT_TYP = "vp+jwt"
# typ values for presentations (absent is accepted too: didkit's VC 1.1 VP-JWTs have none).
VP_JWT_TYPS = frozenset({"vp+jwt", "vp-ld+jwt", "vp+ld+jwt", "jwt"})
VP_JWT_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
_VP_CLAIMS = frozenset({"iss", "jti", "sub", "iat", "nbf", "exp", "aud", "nonce"})


def enveloped_presentation(jwt: str) -> JsonDoc:
    """VC DM 2.0 §4.13.1: a VP-JWT as an ``EnvelopedVerifiablePresentation``."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": f"data:{VP_JWT_MEDIA_TYPES[0]},{jwt}",
        "type": VP_ENVELOPE_TYPE,
    }


def enveloped_presentation_jwt(envelope: Mapping[str, Any]) -> str:
    """The VP-JWT inside an ``EnvelopedVerifiablePresentation``."""
    if not has_type(envelope, VP_ENVELOPE_TYPE):
        raise ShapeError("not_a_presentation", f"type must include {VP_ENVELOPE_TYPE}", "type")
    return envelope_jwt(envelope, "id", VP_JWT_MEDIA_TYPES)


def sign_vp_jwt(
    presentation: Mapping[str, Any],
    key: SigningKey,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    lifetime: timedelta = VP_JWT_LIFETIME,
) -> str:
    """VC-JOSE-COSE §3.1.2: header ``{alg, kid, typ: vp+jwt}``; payload the presentation
    plus ``iss`` (holder), ``jti`` (id), ``nonce`` (challenge), ``aud`` (domain), ``iat``,
    ``exp`` (``iat`` + ``lifetime``: a presentation is meant for one exchange)."""
    doc, holder = with_holder(presentation, key)
    claims: dict[str, Any] = {k: v for k, v in doc.items() if k != "proof"}
    claims["iss"] = holder
    if isinstance(doc.get("id"), str):
        claims["jti"] = doc["id"]
    if challenge is not None:
        claims["nonce"] = challenge
    if domain is not None:
        claims["aud"] = domain
    issued = math.floor((now or datetime.now(UTC)).timestamp())
    claims["iat"] = issued
    claims["exp"] = issued + math.ceil(lifetime.total_seconds())
    return sign_jws(claims, key, VP_JWT_TYP)


def _presentation_claims(payload: dict[str, Any]) -> tuple[JsonDoc, str]:
    """(presentation, holder): the payload minus JWT claims (VC DM 2.0), or the VC 1.1
    ``vp`` claim; ``iss`` stands for ``holder`` and must equal it (holder binding)."""
    vp = payload.get("vp")
    if vp is None:
        presentation = {k: v for k, v in payload.items() if k not in _VP_CLAIMS}
    elif isinstance(vp, dict):
        presentation = dict(vp)
    else:
        raise ProofError("malformed_jwt", "the vp claim must be an object")
    require_presentation(presentation)
    iss, jti = payload.get("iss"), payload.get("jti")
    holder = holder_of(presentation)
    if holder is None and isinstance(iss, str):
        holder = presentation["holder"] = iss  # VC 1.1 §6.3.1: iss is the holder
    if holder is None:
        raise ProofError("missing_holder", "a presentation JWT must name its holder (iss)", "iss")
    if iss is not None and iss != holder:
        raise ProofError("holder_mismatch", "JWT iss is not the presentation's holder", "iss")
    if jti is not None and presentation.setdefault("id", jti) != jti:
        raise ProofError("claim_mismatch", "JWT jti does not match the presentation id", "jti")
    return presentation, holder


def _string_claim(payload: dict[str, Any], name: str) -> tuple[str, ...]:
    value = payload.get(name)
    values = value if isinstance(value, list) else [] if value is None else [value]
    if not all(isinstance(v, str) for v in values):
        raise ProofError("malformed_jwt", f"JWT {name} must be a string or strings", name)
    return tuple(values)


def _check_binding(payload: dict[str, Any], challenge: str | None, domain: str | None) -> None:
    """Replay protection: ``nonce`` is the challenge, ``aud`` the domain."""
    nonces = _string_claim(payload, "nonce")
    if isinstance(payload.get("nonce"), list):
        raise ProofError("malformed_jwt", "JWT nonce must be a string", "nonce")
    if challenge is not None and not nonces:
        raise ProofError("challenge_missing", "a challenge was asked for; no nonce", "nonce")
    if challenge is not None and nonces[0] != challenge:
        raise ProofError("challenge_mismatch", "the nonce is not the expected challenge", "nonce")
    audience = _string_claim(payload, "aud")
    if domain is not None and not audience:
        raise ProofError("domain_missing", "a domain was asked for; no aud claim", "aud")
    if domain is not None and domain not in audience:
        raise ProofError("domain_mismatch", "aud does not name the expected domain", "aud")
    if domain is None and audience:  # RFC 7519 §4.1.3: a verifier not in aud must reject
        raise ProofError("domain_mismatch", "the JWT names an audience; no domain expected", "aud")


def _numeric(payload: dict[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ProofError("malformed_jwt", f"JWT {name} must be a NumericDate", name)
    return value


def _check_lifetime(payload: dict[str, Any], now: datetime, skew: timedelta) -> None:
    """RFC 7519 §4.1.4-6 (VC-JOSE-COSE: they bound the signature, not the claims)."""
    moment, slack = now.timestamp(), skew.total_seconds()
    expires = _numeric(payload, "exp")
    if expires is not None and moment - slack > expires:
        raise ProofError("presentation_expired", "the presentation JWT has expired", "exp")
    for name in ("nbf", "iat"):
        start = _numeric(payload, name)
        if start is not None and moment + slack < start:
            raise ProofError("presentation_not_yet_valid", f"JWT {name} is in the future", name)


def _created(issued: float | None) -> str | None:
    """The proof's ``created`` from ``iat``; a NumericDate no datetime holds is malformed."""
    if issued is None:
        return None
    try:
        return datetime.fromtimestamp(issued, UTC).isoformat()
    except (OverflowError, OSError, ValueError) as exc:  # e.g. iat = -1e20
        raise ProofError("malformed_jwt", "JWT iat is out of range", "iat") from exc


def _jwt_proof(
    header: dict[str, Any], payload: dict[str, Any], alg: str, holder: str
) -> VerifiedProof:
    created = _created(_numeric(payload, "iat"))
    nonces = _string_claim(payload, "nonce")
    return VerifiedProof(
        verification_method=kid_method_id(header["kid"], holder) if "kid" in header else holder,
        controller=holder,
        purpose=PRESENTATION_PURPOSE,
        cryptosuite=alg,  # a VP-JWT has no cryptosuite: its JWS alg stands in
        created=created,
        challenge=nonces[0] if nonces else None,
        domain=_string_claim(payload, "aud"),
    )


async def verify_vp_jwt(
    token: str | Mapping[str, Any],
    resolver: DidResolver,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> VerifiedPresentation:
    """Verify a VP-JWT (or an enveloped one): JWS with the holder's ``authentication``
    key, ``iss`` = holder, ``nonce``/``aud`` = challenge/domain, ``exp``/``nbf``/``iat``.

    ``None`` for ``challenge``/``domain`` means none was asked for (an ``aud`` is then
    refused, RFC 7519 §4.1.3). Raises ``ProofError`` (the ``jws.py`` codes plus
    ``missing_holder``, ``holder_mismatch``, ``challenge_missing``,
    ``challenge_mismatch``, ``domain_missing``, ``domain_mismatch``,
    ``presentation_expired``, ``presentation_not_yet_valid``), ``ShapeError``.
    """
    text = token if isinstance(token, str) else enveloped_presentation_jwt(token)
    opened = open_jws(text, typs=VP_JWT_TYPS, kind="presentation")
    presentation, holder = _presentation_claims(opened.payload)
    await verify_jws_signature(
        opened, holder, resolver, purpose=PRESENTATION_PURPOSE, role="holder"
    )
    _check_binding(opened.payload, challenge, domain)
    _check_lifetime(opened.payload, now or datetime.now(UTC), clock_skew)
    proof = _jwt_proof(opened.header, opened.payload, opened.alg, holder)
    return VerifiedPresentation(holder, proof, embedded_credentials(presentation))
