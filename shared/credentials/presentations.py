"""Verifiable presentations: building, Data Integrity proofs, and one entry point.

A holder signs with ``proofPurpose: authentication`` plus the verifier's
``challenge`` and ``domain`` (VC Data Integrity "Verify Proof": both must
match what the verifier expects, which stops replay). Holder binding: the
proof's verification method must belong to the ``holder`` (VC DM 2.0
§4.13 "Verifiable Presentations", the holder generates the presentation).

Verification returns the embedded credentials unverified, for the caller to
verify one by one (``vp_model.embedded_credentials``).

VC 1.1 presentations with ``Ed25519Signature2018/2020`` or
``JsonWebSignature2020`` proofs go to ``legacy_proofs`` (didkit). VP-JWTs
live in ``vp_jwt.py``; :func:`verify_any_presentation` takes either form.

Subject-holder binding of the credentials inside (VC DM 2.0 Appendix C
"Subject-Holder Relationships") is informational: the holder is often, but
legitimately not always, the subject (a parent, an employer's HR system), so
:func:`holder_binding_check` reports it and the verifier's policy decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .crypto_keys import SigningKey
from .data_integrity import (
    Canonicalizer,
    KeyResolver,
    proof_entries,
    sign_data_integrity,
    verify_data_integrity,
)
from .dids import DidResolver
from .errors import ProofError
from .jsonld import ContextRegistry, JsonDoc
from .legacy_proofs import is_legacy_proof, verify_legacy_proof
from .report import CheckResult
from .vp_jwt import VP_ENVELOPE_TYPE, verify_vp_jwt
from .vp_model import (
    ENVELOPE_TYPE,
    JWT_MEDIA_TYPES,
    PRESENTATION_PURPOSE,
    VC_V2_CONTEXT,
    VerifiedPresentation,
    embedded_credentials,
    has_type,
    holder_of,
    require_presentation,
    with_holder,
)

HOLDER_BINDING = "holder_binding"


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
    doc, _ = with_holder(presentation, key)
    return sign_data_integrity(
        doc,
        key,
        proof_purpose=PRESENTATION_PURPOSE,
        created=created,
        challenge=challenge,
        domain=domain,
        contexts=contexts,
    )


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
    canonicalizer: Canonicalizer | None = None,
) -> VerifiedPresentation:
    """Verify the holder's proof, its challenge and domain, and holder binding.

    ``challenge``/``domain`` are what the verifier issued; ``None`` skips that
    check, deliberately (pass it explicitly). Raises ``ProofError``
    (``holder_mismatch`` when a named holder does not control the key,
    and the ``data_integrity`` codes), ``ContextError``, ``ShapeError`` or
    ``DidError``.
    """
    require_presentation(presentation)
    # VC DM 2.0 §4.13: `holder` is optional; when present, the proof's key must be its.
    holder = holder_of(presentation)
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
                canonicalizer=canonicalizer,
            )
    except ProofError as exc:
        if exc.code == "controller_mismatch":
            raise ProofError("holder_mismatch", exc.detail, exc.path) from exc
        raise
    return VerifiedPresentation(holder, proof, embedded_credentials(presentation))


async def verify_any_presentation(
    presentation: Mapping[str, Any] | str,
    resolver: DidResolver,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime | None = None,
    contexts: ContextRegistry | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> VerifiedPresentation:
    """A VP-JWT string, an enveloped VP-JWT, or a presentation with an embedded
    proof (RDFC-1.0 by ``canonicalizer`` when given)."""
    if isinstance(presentation, str) or has_type(presentation, VP_ENVELOPE_TYPE):
        return await verify_vp_jwt(
            presentation, resolver, challenge=challenge, domain=domain, now=now
        )
    return await verify_presentation(
        presentation,
        resolver,
        challenge=challenge,
        domain=domain,
        now=now,
        contexts=contexts,
        canonicalizer=canonicalizer,
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
