"""VC 1.1 Ed25519 Linked Data proofs on our own RDFC path.

W3C CCG "Ed25519 Signature 2020" (suite context
``https://w3id.org/security/suites/ed25519-2020/v1``): the same construction
as ``eddsa-rdfc-2022`` (RDFC-1.0 of the proof options, with the document's
``@context``, and of the document; SHA-256 of each, concatenated; Ed25519;
``proofValue`` multibase base58btc), with the proof type naming the suite
instead of a ``cryptosuite``. "Ed25519 Signature 2018" signs the same bytes
as a detached JWS (RFC 7797, header ``{"alg": "EdDSA", "b64": false,
"crit": ["b64"]}``) in ``jws``. Canonicalised with our bundled contexts in safe
mode, so every Open Badges 3.0 context revision we bundle works (didkit
knows only OB 3.0.0 and cannot resolve keys through our resolver); keys come
from our DID resolver (did:key, did:jwk, our replica, did:web behind the
SSRF guard).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .crypto_keys import SigningKey, b58encode, b64url_decode, verify_ed25519
from .data_integrity import (
    KeyResolver,
    VerifiedProof,
    _decode_proof_value,
    _document_hash,
    _hash_data,
    check_purpose_binding,
    issuer_controller,
    proof_entries,
)
from .errors import CredentialError, ProofError
from .jsonld import ContextRegistry, default_registry

ED25519_2020 = "Ed25519Signature2020"
ED25519_2018 = "Ed25519Signature2018"
LD_TYPES = frozenset({ED25519_2020, ED25519_2018})
_DETACHED_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
JsonDoc = dict[str, Any]


def sign_ed25519_2020(
    doc: Mapping[str, Any],
    key: SigningKey,
    *,
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
    contexts: ContextRegistry | None = None,
) -> JsonDoc:
    """A copy of ``doc`` with an ``Ed25519Signature2020`` proof (the suite
    context must be among the document's)."""
    if not isinstance(key.private_key, Ed25519PrivateKey):
        raise ProofError("unsupported_key", "Ed25519Signature2020 needs an Ed25519 key")
    registry = contexts or default_registry()
    moment = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    proof: JsonDoc = {
        "type": ED25519_2020,
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": key.kid,
        "proofPurpose": proof_purpose,
    }
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    config = {**proof, "@context": doc["@context"]}
    data = _hash_data(registry, config, _document_hash(registry, unsecured), "proof")
    proof["proofValue"] = "z" + b58encode(key.private_key.sign(data))
    return {**unsecured, "proof": proof}


def _signature(proof: Mapping[str, Any], path: str) -> tuple[bytes, bytes]:
    """(signature, what precedes the signed hashes): ``proofValue`` for 2020,
    the detached JWS for 2018 (its protected header and a dot)."""
    if proof.get("type") == ED25519_2020:
        return _decode_proof_value(proof, path), b""
    jws = proof.get("jws")
    header_b64, dot, rest = jws.partition(".") if isinstance(jws, str) else ("", "", "")
    empty, dot2, signature_b64 = rest.partition(".")
    try:
        header = orjson.loads(b64url_decode(header_b64))
        signature = b64url_decode(signature_b64)
    except (CredentialError, ValueError) as exc:
        raise ProofError("bad_proof_value", "jws is not a detached JWS", f"{path}.jws") from exc
    if not dot or not dot2 or empty or header != _DETACHED_HEADER or len(signature) != 64:
        raise ProofError("bad_proof_value", "jws is not a detached EdDSA JWS", f"{path}.jws")
    return signature, header_b64.encode("ascii") + b"."


async def verify_ed25519_ld(
    doc: Mapping[str, Any],
    resolver: KeyResolver,
    *,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    expected_controller: str | None = None,
    contexts: ContextRegistry | None = None,
) -> VerifiedProof:
    """Verify every ``Ed25519Signature2020``/``2018`` proof of ``doc`` (all must pass);
    the first one's details. ``expected_controller`` defaults to a DID issuer
    for ``assertionMethod``. Raises ``ProofError``, ``ContextError``, ``DidError``."""
    registry = contexts or default_registry()
    controller = expected_controller
    if controller is None and expected_purpose == "assertionMethod":
        controller = issuer_controller(doc)
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    doc_hash: bytes | None = None
    results = []
    for path, proof in proof_entries(doc):
        kind = proof.get("type")
        if kind not in LD_TYPES:
            raise ProofError(
                "unsupported_proof", f"not an Ed25519 Linked Data proof: {kind!r}", path
            )
        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or not vm:
            raise ProofError("bad_proof", "verificationMethod must be a URL", path)
        if controller is not None and vm.partition("#")[0] != controller:
            raise ProofError(
                "controller_mismatch", f"{vm} is not a key of {controller}", f"{path}.vm"
            )
        got_challenge, domains = check_purpose_binding(
            proof, path, expected_purpose, challenge, domain
        )
        signature, prefix = _signature(proof, path)
        doc_hash = doc_hash or _document_hash(registry, unsecured)
        config = {k: v for k, v in proof.items() if k not in ("proofValue", "jws")}
        config["@context"] = doc.get("@context")
        data = prefix + _hash_data(registry, config, doc_hash, path)
        key = await resolver.verification_key(vm, expected_purpose)
        if not isinstance(key, Ed25519PublicKey):
            raise ProofError("key_type_mismatch", f"{kind} needs an Ed25519 key", path)
        try:
            verify_ed25519(key, signature, data)
        except InvalidSignature:
            raise ProofError("signature_invalid", "the signature does not verify", path) from None
        created = proof.get("created")
        results.append(
            VerifiedProof(
                verification_method=vm,
                controller=vm.partition("#")[0],
                purpose=expected_purpose,
                cryptosuite=str(kind),
                created=created if isinstance(created, str) else None,
                challenge=got_challenge,
                domain=domains,
            )
        )
    return results[0]
