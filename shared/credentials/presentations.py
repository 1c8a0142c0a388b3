"""Verifiable presentations secured with Data Integrity (VC DM 2.0 §4.13).

A holder signs with ``proofPurpose: authentication`` plus the verifier's
``challenge`` and ``domain`` (VC Data Integrity "Verify Proof": both must
match what the verifier expects, which stops replay). Holder binding: the
proof's verification method must belong to the ``holder`` (VC DM 2.0
§4.13 "Verifiable Presentations", the holder generates the presentation).

Verification returns the embedded credentials unverified, for the caller to
verify one by one: objects as they are, ``EnvelopedVerifiableCredential``
(VC-JOSE-COSE §3.1.2, ``data:application/vc+jwt,<jwt>``) and bare JWT strings
(VC 1.1 presentations) as the JWT text.

VC 1.1 presentations with ``Ed25519Signature2018/2020`` or
``JsonWebSignature2020`` proofs go to ``legacy_proofs`` (didkit).

Presentations as JWTs (VC-JOSE-COSE §3.1.2, ``typ: vp+jwt``; the JWS itself
comes from ``jws.py``): the payload is the presentation (VC 1.1 §6.3.1: or its
``vp`` claim), ``iss`` is the holder, ``nonce`` the verifier's challenge and
``aud`` its domain; ``iat``/``exp`` bound the signature's lifetime.
``EnvelopedVerifiablePresentation`` (VC DM 2.0 §4.13.1,
``data:application/vp+jwt,<jwt>``) unwraps to that JWT.

Subject-holder binding of the credentials inside (VC DM 2.0 Appendix C
"Subject-Holder Relationships") is informational: the holder is often, but
legitimately not always, the subject (a parent, an employer's HR system), so
:func:`holder_binding_check` reports it and the verifier's policy decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .data_integrity import (
    KeyResolver,
    VerifiedProof,
    proof_entries,
    sign_data_integrity,
    verify_data_integrity,
)
from .dids import DidResolver
from .errors import ProofError, ShapeError
from .jsonld import ContextRegistry, JsonDoc
from .jws import kid_method_id, open_jws, sign_jws, verify_jws_signature
from .keys import SigningKey
from .legacy_proofs import is_legacy_proof, verify_legacy_proof
from .report import CheckResult

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PRESENTATION_PURPOSE = "authentication"
ENVELOPE_TYPE = "EnvelopedVerifiableCredential"
# VC-JOSE-COSE §6.1 media types that carry a VC-JWT (the older one still circulates).
JWT_MEDIA_TYPES = ("application/vc+jwt", "application/vc-ld+jwt")
VP_ENVELOPE_TYPE = "EnvelopedVerifiablePresentation"
VP_JWT_MEDIA_TYPES = ("application/vp+jwt", "application/vp-ld+jwt")
VP_JWT_TYP = "vp+jwt"
# typ values for presentations (absent is accepted too: didkit's VC 1.1 VP-JWTs have none).
VP_JWT_TYPS = frozenset({"vp+jwt", "vp-ld+jwt", "vp+ld+jwt", "jwt"})
VP_JWT_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
_VP_CLAIMS = frozenset({"iss", "jti", "sub", "iat", "nbf", "exp", "aud", "nonce"})
HOLDER_BINDING = "holder_binding"

Credential = dict[str, Any] | str  # a credential object, or a VC-JWT to verify


@dataclass(frozen=True)
class VerifiedPresentation:
    """A presentation whose proof verified; its credentials are not yet verified."""

    holder: str
    proof: VerifiedProof
    credentials: tuple[Credential, ...]


def enveloped_credential(jwt: str) -> JsonDoc:
    """VC-JOSE-COSE §3.1.2: wrap a VC-JWT for a VC 2.0 presentation."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": f"data:{JWT_MEDIA_TYPES[0]},{jwt}",
        "type": ENVELOPE_TYPE,
    }


def build_presentation(
    credentials: Sequence[Mapping[str, Any] | str],
    holder: str,
    *,
    presentation_id: str | None = None,
) -> JsonDoc:
    """An unsigned VC 2.0 presentation; JWT strings become enveloped credentials."""
    embedded = [
        enveloped_credential(item) if isinstance(item, str) else dict(item) for item in credentials
    ]
    vp: JsonDoc = {"@context": [VC_V2_CONTEXT], "type": ["VerifiablePresentation"]}
    if presentation_id is not None:
        vp["id"] = presentation_id
    vp["holder"] = holder
    vp["verifiableCredential"] = embedded
    return vp


def holder_of(presentation: Mapping[str, Any]) -> str | None:
    """The ``holder`` id (a URL string or an object's ``id``)."""
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _as_holder(presentation: Mapping[str, Any], key: SigningKey) -> tuple[JsonDoc, str]:
    """A copy whose ``holder`` is the key's DID (set when absent, checked when present)."""
    controller = key.kid.partition("#")[0]
    holder = holder_of(presentation)
    if holder is not None and holder != controller:
        raise ProofError("holder_mismatch", f"{key.kid} is not a key of the holder {holder}")
    doc = dict(presentation)
    if holder is None:
        doc["holder"] = controller
    return doc, controller


def sign_presentation(
    presentation: Mapping[str, Any],
    key: SigningKey,
    *,
    challenge: str,
    domain: str | None = None,
    created: datetime | None = None,
    contexts: ContextRegistry | None = None,
) -> JsonDoc:
    """Sign as the holder (``authentication``); ``holder`` defaults to the key's DID."""
    doc, _ = _as_holder(presentation, key)
    return sign_data_integrity(
        doc,
        key,
        proof_purpose=PRESENTATION_PURPOSE,
        created=created,
        challenge=challenge,
        domain=domain,
        contexts=contexts,
    )


def _envelope_jwt(
    item: Mapping[str, Any], path: str, media_types: tuple[str, ...] = JWT_MEDIA_TYPES
) -> str:
    url = item.get("id")
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ShapeError("bad_envelope", "an envelope's id must be a data: URL", path)
    media_type, sep, payload = url[len("data:") :].partition(",")
    if not sep or media_type not in media_types:
        raise ShapeError("unsupported_envelope", f"unsupported envelope {media_type!r}", path)
    return payload


def _has_type(doc: Mapping[str, Any], name: str) -> bool:
    types = doc.get("type")
    return name in (types if isinstance(types, list) else [types])


def embedded_credentials(presentation: Mapping[str, Any]) -> tuple[Credential, ...]:
    """The presentation's credentials: objects, or JWT text for enveloped/JWT ones."""
    raw = presentation.get("verifiableCredential")
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out: list[Credential] = []
    for i, item in enumerate(items):
        path = f"verifiableCredential[{i}]"
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping):
            enveloped = _has_type(item, ENVELOPE_TYPE)
            out.append(_envelope_jwt(item, path) if enveloped else dict(item))
        else:
            raise ShapeError("bad_credential", "a credential must be an object or a JWT", path)
    return tuple(out)


def _require_presentation(presentation: Mapping[str, Any]) -> None:
    if not _has_type(presentation, "VerifiablePresentation"):
        raise ShapeError("not_a_presentation", "type must include VerifiablePresentation", "type")


def _is_legacy(presentation: Mapping[str, Any]) -> bool:
    return all(is_legacy_proof(proof) for _, proof in proof_entries(presentation))


async def verify_presentation(
    presentation: Mapping[str, Any],
    resolver: KeyResolver,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime | None = None,
    contexts: ContextRegistry | None = None,
) -> VerifiedPresentation:
    """Verify the holder's proof, its challenge and domain, and holder binding.

    ``challenge``/``domain`` are what the verifier issued; ``None`` skips that
    check, deliberately (pass it explicitly). Raises ``ProofError``
    (``missing_holder``, ``holder_mismatch`` when the key is not the holder's,
    and the ``data_integrity`` codes), ``ContextError``, ``ShapeError`` or
    ``DidError``.
    """
    _require_presentation(presentation)
    holder = holder_of(presentation)
    if holder is None:
        raise ProofError("missing_holder", "a presentation must name its holder", "holder")
    try:
        if _is_legacy(presentation):
            proof = await verify_legacy_proof(
                presentation,
                expected_purpose=PRESENTATION_PURPOSE,
                challenge=challenge,
                domain=domain,
                expected_controller=holder,
                contexts=contexts,
            )
        else:
            proof = await verify_data_integrity(
                presentation,
                resolver,
                expected_purpose=PRESENTATION_PURPOSE,
                challenge=challenge,
                domain=domain,
                expected_controller=holder,
                now=now,
                contexts=contexts,
            )
    except ProofError as exc:
        if exc.code == "controller_mismatch":
            raise ProofError("holder_mismatch", exc.detail, exc.path) from exc
        raise
    return VerifiedPresentation(holder, proof, embedded_credentials(presentation))


# --- presentations as JWTs -------------------------------------------------------------


def enveloped_presentation(jwt: str) -> JsonDoc:
    """VC DM 2.0 §4.13.1: a VP-JWT as an ``EnvelopedVerifiablePresentation``."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": f"data:{VP_JWT_MEDIA_TYPES[0]},{jwt}",
        "type": VP_ENVELOPE_TYPE,
    }


def enveloped_presentation_jwt(envelope: Mapping[str, Any]) -> str:
    """The VP-JWT inside an ``EnvelopedVerifiablePresentation``."""
    if not _has_type(envelope, VP_ENVELOPE_TYPE):
        raise ShapeError("not_a_presentation", f"type must include {VP_ENVELOPE_TYPE}", "type")
    return _envelope_jwt(envelope, "id", VP_JWT_MEDIA_TYPES)


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
    doc, holder = _as_holder(presentation, key)
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
    _require_presentation(presentation)
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


def _jwt_proof(
    header: dict[str, Any], payload: dict[str, Any], alg: str, holder: str
) -> VerifiedProof:
    issued = _numeric(payload, "iat")
    created = datetime.fromtimestamp(issued, UTC).isoformat() if issued is not None else None
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
    refused, RFC 7519 §4.1.3). Raises ``ProofError`` (the ``jwt.py`` codes plus
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


async def verify_any_presentation(
    presentation: Mapping[str, Any] | str,
    resolver: DidResolver,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime | None = None,
) -> VerifiedPresentation:
    """A VP-JWT string, an enveloped VP-JWT, or a presentation with an embedded proof."""
    if isinstance(presentation, str) or _has_type(presentation, VP_ENVELOPE_TYPE):
        return await verify_vp_jwt(
            presentation, resolver, challenge=challenge, domain=domain, now=now
        )
    return await verify_presentation(
        presentation, resolver, challenge=challenge, domain=domain, now=now
    )


def holder_binding_check(credential: Mapping[str, Any], holder: str) -> CheckResult | None:
    """Informational (VC DM 2.0 Appendix C): is a DID subject of ``credential`` the holder?

    ``None`` when no subject id is a DID (nothing to compare)."""
    raw = credential.get("credentialSubject")
    subjects = raw if isinstance(raw, list) else [raw]
    dids = [
        s["id"]
        for s in subjects
        if isinstance(s, Mapping) and isinstance(s.get("id"), str) and s["id"].startswith("did:")
    ]
    if not dids:
        return None
    if holder in dids:
        return CheckResult(HOLDER_BINDING, "ok", "the holder is the credential's subject")
    reason = f"the credential's subject {dids[0]} is not the holder {holder}"
    return CheckResult(HOLDER_BINDING, "failed", reason, "subject_not_holder")
