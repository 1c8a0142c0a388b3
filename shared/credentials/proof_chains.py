"""Proof chains (VC Data Integrity §2.1.2, §4.3 ``previousProof``) and the
JCS hashing of ``eddsa-jcs-2022`` (vc-di-eddsa §3.3): the parts of Data
Integrity verification that do not go through JSON-LD."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785

from .errors import ProofError


def jcs_hash(value: Mapping[str, Any], path: str | None) -> bytes:
    """vc-di-eddsa §3.3.3-3.3.5 (eddsa-jcs-2022): SHA-256 of the RFC 8785 form."""
    try:
        return hashlib.sha256(rfc8785.dumps(dict(value))).digest()
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ProofError("bad_document", f"cannot canonicalise as JCS: {exc}", path) from exc


def previous_ids(proof: Mapping[str, Any], path: str) -> list[str]:
    """VC Data Integrity §2.1 ``previousProof``: a string or a list of strings."""
    raw = proof.get("previousProof")
    ids = [] if raw is None else [raw] if isinstance(raw, str) else raw
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise ProofError("bad_proof", "previousProof must be a string or strings", path)
    return ids


def previous_proofs(
    proof: Mapping[str, Any], path: str, all_proofs: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """VC Data Integrity §4.3 (proof chains): the proofs a proof names as its
    ``previousProof``, which it signed over; each must be in the set (and,
    being in the set, verifies on its own)."""
    wanted = previous_ids(proof, path)
    found = []
    for proof_id in wanted:
        match = next((p for p in all_proofs if p.get("id") == proof_id), None)
        if match is None:
            raise ProofError(
                "missing_previous_proof",
                f"previousProof {proof_id!r} is not in the proof set",
                f"{path}.previousProof",
            )
        found.append(dict(match))
    return found
