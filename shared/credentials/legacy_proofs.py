"""VC 1.1 Linked Data proofs, verified with didkit 0.3.3 (SpruceID ssi).

``verify.py`` sends Ed25519Signature2020/2018 proofs to ``ed25519_ld.py``
(our RDFC path, every bundled context, our DID resolver); didkit remains for
``JsonWebSignature2020`` and for callers that ask for it directly.

Proof types: ``Ed25519Signature2020``, ``Ed25519Signature2018``,
``JsonWebSignature2020``. didkit canonicalises with its own built-in contexts
(it fetches none) and rejects undefined terms itself, but it resolves DIDs on
its own: did:key and did:jwk offline, did:web over the network with no SSRF
guard and no way to inject our resolver. So a verification method outside
did:key/did:jwk is refused unless ``allow_network_dids=True``.

Cheap checks run here first so failures carry our precise codes (didkit
reports purpose, challenge, domain and issuer mismatches all as "No
applicable proof"). Where every ``@context`` is bundled, our safe mode also
runs first, so undefined terms are reported with their path.

didkit 0.3.3 limits: it cannot verify VC 2.0 documents (it rejects the
``https://www.w3.org/ns/credentials/v2`` context) nor ``DataIntegrityProof``
(use ``data_integrity``); contexts it does not bundle (including ours such
as OB 3.0) fail as "Unknown context".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import didkit

from .data_integrity import (
    VerifiedProof,
    check_purpose_binding,
    issuer_controller,
    proof_entries,
)
from .errors import ContextError, ProofError
from .jsonld import ContextRegistry, default_registry

LEGACY_PROOF_TYPES = frozenset(
    {"Ed25519Signature2020", "Ed25519Signature2018", "JsonWebSignature2020"}
)


def is_legacy_proof(proof: object) -> bool:
    """A VC 1.1 Linked Data proof this module verifies (any JSON given)."""
    kind = proof.get("type") if isinstance(proof, dict) else None
    return isinstance(kind, str) and kind in LEGACY_PROOF_TYPES


OFFLINE_DID_PREFIXES = ("did:key:", "did:jwk:")
# didkit.pyi types DIDKitException as an instance; it is the class didkit raises.
_DIDKIT_ERROR: type[Exception] = didkit.DIDKitException  # type: ignore[assignment]


def _is_presentation(doc: Mapping[str, Any]) -> bool:
    types = doc.get("type")
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


def _precheck(
    path: str,
    proof: Mapping[str, Any],
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
    allow_network_dids: bool,
) -> VerifiedProof:
    kind = proof.get("type")
    if not is_legacy_proof(proof):
        raise ProofError("unsupported_cryptosuite", f"unsupported proof type {kind!r}", path)
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or not vm:
        raise ProofError(
            "bad_proof", "verificationMethod must be a URL", f"{path}.verificationMethod"
        )
    if not vm.startswith(OFFLINE_DID_PREFIXES) and not allow_network_dids:
        raise ProofError(
            "network_resolution_refused",
            "didkit would resolve this verification method over the network",
            f"{path}.verificationMethod",
        )
    got_challenge, domains = check_purpose_binding(proof, path, expected_purpose, challenge, domain)
    created = proof.get("created")
    return VerifiedProof(
        verification_method=vm,
        controller=vm.partition("#")[0],
        purpose=expected_purpose,
        cryptosuite=str(kind),
        created=created if isinstance(created, str) else None,
        challenge=got_challenge,
        domain=domains,
    )


def _safe_mode(doc: Mapping[str, Any], registry: ContextRegistry) -> None:
    """Our safe-mode expansion, when we bundle every context the document names."""
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    contexts = unsecured.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    if all(isinstance(c, str) and c in registry.urls for c in listed):
        registry.expand(unsecured)


def _raise_for(errors: list[str], path: str) -> None:
    message = "; ".join(errors)[:300]
    lowered = message.lower()
    if "unknown context" in lowered:
        raise ContextError("context_not_bundled", message, path)
    if "expansion failed" in lowered:
        raise ContextError("undefined_term", message, path)
    if "signature" in lowered or "verification equation" in lowered:
        raise ProofError("signature_invalid", message, path)
    raise ProofError("legacy_verification_failed", message, path)


async def _didkit_verify(
    doc: Mapping[str, Any], proof: Mapping[str, Any], info: VerifiedProof, path: str
) -> None:
    options: dict[str, str] = {"proofPurpose": info.purpose}
    if info.challenge is not None:
        options["challenge"] = info.challenge
    if info.domain:
        options["domain"] = info.domain[0]
    single = json.dumps({**doc, "proof": dict(proof)})
    verify = didkit.verify_presentation if _is_presentation(doc) else didkit.verify_credential
    try:
        report = json.loads(await verify(single, json.dumps(options)))
    except ValueError as exc:  # didkit raises ValueError for documents it cannot parse
        raise ProofError("unsupported_document", f"didkit cannot read it: {exc}", path) from exc
    except _DIDKIT_ERROR as exc:
        raise ProofError("legacy_verification_failed", f"didkit: {exc}", path) from exc
    errors = report.get("errors") or []
    if errors or "proof" not in (report.get("checks") or []):
        _raise_for([str(e) for e in errors] or ["proof not checked"], path)


async def verify_legacy_proof(
    doc: Mapping[str, Any],
    *,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    expected_controller: str | None = None,
    allow_network_dids: bool = False,
    contexts: ContextRegistry | None = None,
) -> VerifiedProof:
    """Verify every VC 1.1 proof of a credential or presentation (all must pass).

    ``expected_controller`` defaults to the ``issuer`` for ``assertionMethod``
    (for presentations pass the ``holder``). Returns the first proof's details;
    raises ``ProofError`` or ``ContextError``.
    """
    checked = [
        (
            path,
            proof,
            _precheck(path, proof, expected_purpose, challenge, domain, allow_network_dids),
        )
        for path, proof in proof_entries(doc)
    ]
    controller = expected_controller
    if controller is None and expected_purpose == "assertionMethod":
        controller = issuer_controller(doc)
    for path, _, info in checked:
        if controller is not None and info.controller != controller:
            raise ProofError(
                "controller_mismatch",
                f"{info.verification_method} is not a key of {controller}",
                f"{path}.verificationMethod",
            )
    _safe_mode(doc, contexts or default_registry())
    for path, proof, info in checked:
        await _didkit_verify(doc, proof, info, path)
    return checked[0][2]
