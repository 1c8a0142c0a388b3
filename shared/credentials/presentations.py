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
``JsonWebSignature2020`` proofs go to ``legacy_proofs`` (didkit). Presentations
as JWTs (``vp+jwt``) belong with the JOSE code in ``jwt.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .data_integrity import (
    KeyResolver,
    VerifiedProof,
    proof_entries,
    sign_data_integrity,
    verify_data_integrity,
)
from .errors import ProofError, ShapeError
from .jsonld import ContextRegistry, JsonDoc
from .keys import SigningKey
from .legacy_proofs import LEGACY_PROOF_TYPES, verify_legacy_proof

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PRESENTATION_PURPOSE = "authentication"
ENVELOPE_TYPE = "EnvelopedVerifiableCredential"
# VC-JOSE-COSE §6.1 media types that carry a VC-JWT (the older one still circulates).
JWT_MEDIA_TYPES = ("application/vc+jwt", "application/vc-ld+jwt")

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
    controller = key.kid.partition("#")[0]
    holder = holder_of(presentation)
    if holder is not None and holder != controller:
        raise ProofError("holder_mismatch", f"{key.kid} is not a key of the holder {holder}")
    doc = dict(presentation)
    if holder is None:
        doc["holder"] = controller
    return sign_data_integrity(
        doc,
        key,
        proof_purpose=PRESENTATION_PURPOSE,
        created=created,
        challenge=challenge,
        domain=domain,
        contexts=contexts,
    )


def _envelope_jwt(item: Mapping[str, Any], path: str) -> str:
    url = item.get("id")
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ShapeError("bad_envelope", "enveloped credential id must be a data: URL", path)
    media_type, sep, payload = url[len("data:") :].partition(",")
    if not sep or media_type not in JWT_MEDIA_TYPES:
        raise ShapeError("unsupported_envelope", f"unsupported envelope {media_type!r}", path)
    return payload


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
            types = item.get("type")
            enveloped = ENVELOPE_TYPE in (types if isinstance(types, list) else [types])
            out.append(_envelope_jwt(item, path) if enveloped else dict(item))
        else:
            raise ShapeError("bad_credential", "a credential must be an object or a JWT", path)
    return tuple(out)


def _is_legacy(presentation: Mapping[str, Any]) -> bool:
    return all(proof.get("type") in LEGACY_PROOF_TYPES for _, proof in proof_entries(presentation))


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
    types = presentation.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        raise ShapeError("not_a_presentation", "type must include VerifiablePresentation", "type")
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
