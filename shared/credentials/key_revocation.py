"""Compromised keys: a proof made with a verification method that carries
``revoked`` (W3C Controlled Identifiers 1.0 §2.2.1) at or after that time
does not verify; proofs made before it still do.

"Made at" is the latest time the secured document claims for itself:
``validFrom`` (VC 1.1 ``issuanceDate``), the JWT's ``iat`` and ``nbf``, and
each Data Integrity proof's ``created``. Taking the latest means no single
backdated field rescues a document; one claiming no time at all counts as
made now. Applied by `verify.verify_secured` after the proof verified, to
credentials and status lists alike (ProofError ``key_compromised``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .crypto_keys import public_key_to_jwk
from .dids import DidResolver, absolute_id, split_did_url
from .errors import CredentialError, ProofError
from .jws import kid_method_id, peek_jws
from .jwt import issuer_id, parse_vc_datetime

__all__ = ["check_key_revocation", "compromised", "made_at", "proof_method_ids"]


def _claimed_times(doc: Mapping[str, Any], payload: Mapping[str, Any]) -> Iterable[datetime]:
    for name in ("validFrom", "issuanceDate"):
        if name in doc:
            yield parse_vc_datetime(doc[name], f"/{name}")
    for name in ("iat", "nbf"):
        value = payload.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield datetime.fromtimestamp(value, UTC)
    raw = doc.get("proof")
    for proof in raw if isinstance(raw, list) else [raw]:
        if isinstance(proof, Mapping) and "created" in proof:
            yield parse_vc_datetime(proof["created"], "/proof/created")


def made_at(doc: Mapping[str, Any], token: str | None, now: datetime) -> datetime:
    """When the secured document says it was made (the latest claim), or ``now``."""
    payload = peek_jws(token)[1] if token is not None else {}
    try:
        times = list(_claimed_times(doc, payload))
    except (CredentialError, OverflowError, OSError, ValueError):
        return now  # unreadable times claim nothing
    return max(times, default=now)


def compromised(revoked: object, made: datetime) -> str | None:
    """The reason a proof made at ``made`` fails under a method ``revoked``
    at that value (None: it still verifies). An unreadable ``revoked``
    counts as revoked since always."""
    if revoked is None:
        return None
    try:
        since = parse_vc_datetime(revoked, "/revoked")
    except CredentialError:
        return f"the key is marked revoked ({revoked!r})"
    if made >= since:
        return f"the key was compromised at {revoked}; this was made at {made.isoformat()}"
    return None


async def proof_method_ids(
    doc: Mapping[str, Any], token: str | None, resolver: DidResolver
) -> list[str]:
    """The verification methods the (already verified) proofs used."""
    if token is None:
        raw = doc.get("proof")
        proofs = raw if isinstance(raw, list) else [raw]
        return [
            str(p["verificationMethod"])
            for p in proofs
            if isinstance(p, Mapping) and isinstance(p.get("verificationMethod"), str)
        ]
    header, payload = peek_jws(token)
    signer = issuer_id(dict(doc)) or str(payload.get("iss", ""))
    if "kid" in header:
        return [kid_method_id(header["kid"], signer)]
    if isinstance(header.get("jwk"), dict):  # the method holding that key
        did_doc = await resolver.resolve(signer)
        for method in did_doc.get("verificationMethod", []):
            key = await _method_key(resolver, did_doc, method)
            if key == header["jwk"]:
                return [absolute_id(str(method.get("id")), did_doc["id"])]
    return []


async def _method_key(
    resolver: DidResolver, did_doc: Mapping[str, Any], method: object
) -> dict[str, str] | None:
    if not isinstance(method, Mapping):
        return None
    try:
        vm_id = absolute_id(str(method.get("id")), did_doc["id"])
        return public_key_to_jwk(await resolver.verification_key(vm_id))
    except CredentialError:
        return None


def _self_certifying(did: str | None) -> bool:
    """did:key and did:jwk documents are derived from the DID: they cannot
    carry ``revoked`` (such identities cannot rotate or mark a compromise)."""
    return did is not None and did.startswith(("did:key:", "did:jwk:"))


async def check_key_revocation(
    doc: Mapping[str, Any], token: str | None, resolver: DidResolver, now: datetime
) -> None:
    """Raise ProofError ``key_compromised`` when a proof's method was revoked
    at or before the time the document claims it was made."""
    if token is not None and _self_certifying(issuer_id(dict(doc))):
        return  # spare the JWT fast path a second parse
    made: datetime | None = None
    for vm_id in await proof_method_ids(doc, token, resolver):
        if _self_certifying(vm_id):
            continue
        did_doc = await resolver.resolve(split_did_url(vm_id)[0])
        for method in did_doc.get("verificationMethod", []):
            if not isinstance(method, Mapping) or "revoked" not in method:
                continue
            if absolute_id(str(method.get("id")), did_doc["id"]) != vm_id:
                continue
            made = made or made_at(doc, token, now)
            reason = compromised(method["revoked"], made)
            if reason is not None:
                raise ProofError("key_compromised", f"signed with {vm_id}: {reason}")
