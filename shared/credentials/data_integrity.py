"""Data Integrity proofs: ``DataIntegrityProof`` with ``eddsa-rdfc-2022`` (and
``ecdsa-rdfc-2019`` for P-256 keys).

Algorithm (vc-di-eddsa §3.2 "eddsa-rdfc-2022"; vc-di-ecdsa "ecdsa-rdfc-2019"
is the same with P-256 and an IEEE P1363 r||s signature): the proof
configuration is the proof without ``proofValue`` and with the document's
``@context``; both it and the document without ``proof`` are canonicalised
with RDFC-1.0 (safe mode, bundled contexts); hashData = SHA-256(canonical
proof config) || SHA-256(canonical document); the signature over hashData
travels as multibase base58btc (``z...``) in ``proofValue``.

Proof sets (VC Data Integrity "Proof Sets"): ``proof`` may be an object or an
array; each proof signs the document without ``proof`` and every one must
verify. Proof chains (``previousProof``) are not supported.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .crypto_keys import PublicKey, SigningKey, b58decode, b58encode, verify_ed25519
from .errors import ContextError, CredentialError, ProofError
from .jsonld import ContextRegistry, JsonDoc, default_registry
from .jsonld_safe_mode import check_contexts
from .proof_chains import jcs_hash, previous_ids, previous_proofs

PROOF_TYPE = "DataIntegrityProof"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"
# vc-di-eddsa §3.3: JSON Canonicalization Scheme (RFC 8785) instead of RDFC-1.0
EDDSA_JCS_2022 = "eddsa-jcs-2022"
CRYPTOSUITES = frozenset({EDDSA_RDFC_2022, ECDSA_RDFC_2019, EDDSA_JCS_2022})
# XML Schema dateTimeStamp (VC Data Integrity §2.1: created/expires).
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class Canonicalizer(Protocol):
    """Where RDFC-1.0 runs (e.g. a process pool, for large documents)."""

    async def canonize(self, doc: Mapping[str, Any], path: str) -> str: ...


class KeyResolver(Protocol):
    """What verification needs from ``dids.DidResolver``."""

    async def verification_key(self, vm_id: str, purpose: str) -> PublicKey: ...


@dataclass(frozen=True)
class VerifiedProof:
    """One proof that verified."""

    verification_method: str
    controller: str
    purpose: str
    cryptosuite: str
    created: str | None
    challenge: str | None
    domain: tuple[str, ...]


@dataclass(frozen=True)
class _Checked:
    proof: Mapping[str, Any]
    path: str
    signature: bytes
    info: VerifiedProof


# --- signing -------------------------------------------------------------------


def _timestamp(when: datetime | None) -> str:
    moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_SUITES = {"EdDSA": EDDSA_RDFC_2022, "ES256": ECDSA_RDFC_2019}


def signs_data_integrity(key: SigningKey) -> bool:
    """Whether ``key`` has a Data Integrity cryptosuite: Ed25519 (eddsa-rdfc-2022)
    and P-256 (ecdsa-rdfc-2019) do; RSA has none (there is no W3C RSA
    cryptosuite), so an RSA issuer's credentials are VC-JWTs only."""
    return key.alg in _SUITES


def _suite_for(key: SigningKey) -> str:
    if key.alg in _SUITES:
        return _SUITES[key.alg]
    raise ProofError("unsupported_key", f"no Data Integrity cryptosuite for {key.alg}")


def _hash_data(
    registry: ContextRegistry, config: Mapping[str, Any], doc_hash: bytes, path: str
) -> bytes:
    """vc-di-eddsa §3.2.4 "Hashing": SHA-256(proof config) || SHA-256(document)."""
    return _sha256(registry.canonize(config, path=path), path) + doc_hash


def _document_hash(registry: ContextRegistry, unsecured: Mapping[str, Any]) -> bytes:
    return _sha256(registry.canonize(unsecured), None)


def _sha256(canonical: str, path: str | None) -> bytes:
    try:
        return hashlib.sha256(canonical.encode("utf-8")).digest()
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") has no UTF-8 form
        raise ContextError("bad_text", "text is not valid Unicode", path) from exc


def _sign_bytes(key: SigningKey, data: bytes) -> bytes:
    private = key.private_key
    if isinstance(private, Ed25519PrivateKey):
        return private.sign(data)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ProofError("unsupported_key", f"no Data Integrity cryptosuite for {key.alg}")
    der = private.sign(data, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # IEEE P1363 r||s


def sign_data_integrity(
    doc: Mapping[str, Any],
    key: SigningKey,
    *,
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    contexts: ContextRegistry | None = None,
    proof_id: str | None = None,
    previous_proof: str | None = None,
    cryptosuite: str | None = None,
) -> JsonDoc:
    """Return a copy of ``doc`` with a new Data Integrity proof (``key.kid`` is the
    verification method). An existing proof turns into a proof set; with
    ``previous_proof`` (the ``id`` of an existing proof) into a proof chain
    (VC Data Integrity §4.2: the new proof signs over the previous one)."""
    registry = contexts or default_registry()
    if "@context" not in doc:
        raise ProofError("missing_context", "document has no @context")
    proof: JsonDoc = {"id": proof_id} if proof_id is not None else {}
    proof |= {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite or _suite_for(key),
        "created": _timestamp(created),
        "verificationMethod": key.kid,
        "proofPurpose": proof_purpose,
    }
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    signed_over = dict(unsecured)
    if previous_proof is not None:
        proof["previousProof"] = previous_proof
        existing = doc.get("proof")
        proofs = existing if isinstance(existing, list) else [existing]
        chained = [p for p in proofs if isinstance(p, Mapping) and p.get("id") == previous_proof]
        if not chained:
            raise ProofError("missing_previous_proof", f"no proof {previous_proof!r} to chain to")
        signed_over["proof"] = chained
    config = {**proof, "@context": doc["@context"]}
    if proof["cryptosuite"] == EDDSA_JCS_2022:
        data = jcs_hash(config, "proof") + jcs_hash(signed_over, None)
    else:
        data = _hash_data(registry, config, _document_hash(registry, signed_over), "proof")
    proof["proofValue"] = "z" + b58encode(_sign_bytes(key, data))
    existing = doc.get("proof")
    if existing is None:
        return {**unsecured, "proof": proof}
    previous = existing if isinstance(existing, list) else [existing]
    return {**unsecured, "proof": [*previous, proof]}


# --- verification: cheap checks first --------------------------------------------


def proof_entries(doc: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(path, proof)`` for each proof (``proof`` is an object or an array)."""
    raw = doc.get("proof")
    if raw is None or raw == []:
        raise ProofError("missing_proof", "document has no proof", "proof")
    entries = raw if isinstance(raw, list) else [raw]
    many = isinstance(raw, list)
    out = []
    for i, entry in enumerate(entries):
        path = f"proof[{i}]" if many else "proof"
        if not isinstance(entry, Mapping):
            raise ProofError("bad_proof", "a proof must be an object", path)
        out.append((path, entry))
    return out


def _str_member(proof: Mapping[str, Any], name: str, path: str) -> str | None:
    value = proof.get(name)
    if value is not None and not isinstance(value, str):
        raise ProofError("bad_proof", f"{name} must be a string", f"{path}.{name}")
    return value


def check_purpose_binding(
    proof: Mapping[str, Any],
    path: str,
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
) -> tuple[str | None, tuple[str, ...]]:
    """VC Data Integrity §4 "Verify Proof": proof purpose, challenge and domain."""
    purpose = proof.get("proofPurpose")
    if purpose != expected_purpose:
        raise ProofError(
            "purpose_mismatch",
            f"proofPurpose is {purpose!r}, expected {expected_purpose!r}",
            f"{path}.proofPurpose",
        )
    got_challenge = _str_member(proof, "challenge", path)
    if challenge is not None and got_challenge != challenge:
        raise ProofError(
            "challenge_mismatch", "proof challenge does not match", f"{path}.challenge"
        )
    raw_domain = proof.get("domain")
    domains = tuple(raw_domain) if isinstance(raw_domain, list) else (raw_domain,)
    if raw_domain is not None and not all(isinstance(d, str) for d in domains):
        raise ProofError("bad_proof", "domain must be a string or strings", f"{path}.domain")
    if domain is not None and domain not in domains:
        raise ProofError("domain_mismatch", "proof domain does not match", f"{path}.domain")
    return got_challenge, tuple(d for d in domains if d is not None)


def _check_dates(proof: Mapping[str, Any], path: str, now: datetime) -> str | None:
    created = _str_member(proof, "created", path)
    expires = _str_member(proof, "expires", path)
    for name, value in (("created", created), ("expires", expires)):
        if value is not None and not _DATETIME.fullmatch(value):
            raise ProofError("bad_proof", f"{name} is not an XML dateTimeStamp", f"{path}.{name}")
    if expires is not None:
        try:
            when = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        except ValueError as exc:  # e.g. month 13, or a year Python cannot hold
            raise ProofError("bad_proof", "expires is not a valid date", f"{path}.expires") from exc
        if when < now:
            raise ProofError("proof_expired", "the proof has expired", f"{path}.expires")
    return created


def _decode_proof_value(proof: Mapping[str, Any], path: str) -> bytes:
    """vc-di-eddsa §3.2.2 step 3: multibase base58btc, a 64-byte signature."""
    value = proof.get("proofValue")
    where = f"{path}.proofValue"
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("bad_proof_value", "proofValue must be multibase base58btc (z...)", where)
    try:
        signature = b58decode(value[1:])
    except CredentialError as exc:
        raise ProofError("bad_proof_value", "proofValue is not valid base58btc", where) from exc
    if len(signature) != 64:
        raise ProofError("bad_proof_value", f"signature is {len(signature)} bytes, not 64", where)
    return signature


def _precheck(
    path: str,
    proof: Mapping[str, Any],
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
    now: datetime,
) -> _Checked:
    suite = proof.get("cryptosuite")
    if proof.get("type") != PROOF_TYPE or not isinstance(suite, str) or suite not in CRYPTOSUITES:
        name = proof.get("cryptosuite") or proof.get("type")
        raise ProofError("unsupported_cryptosuite", f"unsupported proof {name!r}", path)
    previous_ids(proof, path)  # well-formed; resolved against the proof set later
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or not vm:
        raise ProofError(
            "bad_proof", "verificationMethod must be a URL", f"{path}.verificationMethod"
        )
    got_challenge, domains = check_purpose_binding(proof, path, expected_purpose, challenge, domain)
    created = _check_dates(proof, path, now)
    signature = _decode_proof_value(proof, path)
    info = VerifiedProof(
        verification_method=vm,
        controller=vm.partition("#")[0],
        purpose=expected_purpose,
        cryptosuite=str(proof["cryptosuite"]),
        created=created,
        challenge=got_challenge,
        domain=domains,
    )
    return _Checked(proof, path, signature, info)


def issuer_id(doc: Mapping[str, Any]) -> str | None:
    """The credential's ``issuer`` id (a URL string or an object's ``id``)."""
    issuer = doc.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def issuer_controller(doc: Mapping[str, Any]) -> str | None:
    """The controller an ``assertionMethod`` key must have: the issuer, when
    it is a DID. An issuer named by a plain URL (VC DM 2.0 §4.7 allows it)
    cannot be compared with a key's controller: the proof then shows only
    who signed, and trust is decided on the issuer id (the verifier's
    ``trust`` check), never on the proof."""
    issuer = issuer_id(doc)
    return issuer if issuer is not None and issuer.startswith("did:") else None


# --- verification: the expensive part ---------------------------------------------


def _verify_signature(suite: str, key: PublicKey, signature: bytes, data: bytes, path: str) -> None:
    try:
        if suite in (EDDSA_RDFC_2022, EDDSA_JCS_2022) and isinstance(key, Ed25519PublicKey):
            verify_ed25519(key, signature, data)
            return
        if suite == ECDSA_RDFC_2019 and isinstance(key, ec.EllipticCurvePublicKey):
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            return
    except InvalidSignature:
        raise ProofError("signature_invalid", "the signature does not verify", path) from None
    raise ProofError("key_type_mismatch", f"{suite} cannot be verified with this key", path)


def _unsecured_for(doc: Mapping[str, Any], proof: Mapping[str, Any], path: str) -> dict[str, Any]:
    """vc-di-eddsa §3.2.2 step 4: a proof's own @context must prefix the document's."""
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    own = proof.get("@context")
    if own is not None:
        own_list = own if isinstance(own, list) else [own]
        doc_ctx = doc.get("@context")
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_list[: len(own_list)] != own_list:
            raise ProofError(
                "context_mismatch",
                "proof @context does not prefix the document's",
                f"{path}.@context",
            )
        unsecured["@context"] = own
    return unsecured


async def verify_data_integrity_proofs(
    doc: Mapping[str, Any],
    resolver: KeyResolver,
    *,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    expected_controller: str | None = None,
    check_controller: bool = True,
    now: datetime | None = None,
    contexts: ContextRegistry | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> tuple[VerifiedProof, ...]:
    """Verify every proof of ``doc``; all must pass. ``expected_controller``
    must control each key, unless ``check_controller`` is False; without it,
    for ``assertionMethod``, a DID issuer must control at least one (the
    others are co-signers of a proof set), and that proof comes first."""
    if not isinstance(doc, Mapping):
        raise ProofError("bad_document", "a secured document must be a JSON object")
    if "@context" not in doc:
        # VC DM 2.0 §4.3: credentials and presentations MUST have @context, and
        # the proof configuration takes the document's (vc-di-eddsa §3.2.5
        # "Proof Configuration"). An ill-typed one fails the safe-mode context
        # check (ContextError "inline_context").
        raise ProofError("missing_context", "document has no @context", "@context")
    registry = contexts or default_registry()
    moment = now or datetime.now(UTC)
    checked = [
        _precheck(path, proof, expected_purpose, challenge, domain, moment)
        for path, proof in proof_entries(doc)
    ]
    controller = expected_controller
    if controller is None and expected_purpose == "assertionMethod":
        controller = issuer_controller(doc)
        # A proof set may carry co-signers (VC Data Integrity §2.1.1): one
        # proof by the issuer is needed, and it comes first in the answer.
        checked.sort(key=lambda item: item.info.controller != controller)
        if any(item.info.controller == controller for item in checked):
            controller = None
    for item in checked if check_controller else []:
        if controller is not None and item.info.controller != controller:
            raise ProofError(
                "controller_mismatch",
                f"{item.info.verification_method} is not a key of {controller}",
                f"{item.path}.verificationMethod",
            )
    doc_hashes: dict[str, bytes] = {}
    results = []
    for item in checked:
        unsecured = _unsecured_for(doc, item.proof, item.path)
        previous = previous_proofs(item.proof, item.path, [c.proof for c in checked])
        if previous:
            unsecured["proof"] = previous
        config = {k: v for k, v in item.proof.items() if k != "proofValue"}
        config["@context"] = unsecured["@context"]
        # the document is canonicalised once per @context and proof chain
        ctx_key = repr((unsecured["@context"], [p.get("id") for p in previous]))
        if item.info.cryptosuite == EDDSA_JCS_2022:
            # no JSON-LD processing, but the same allow-listed contexts
            check_contexts(dict(unsecured), dict.fromkeys(registry.urls), [])
            data = jcs_hash(config, item.path) + jcs_hash(unsecured, None)
        elif canonicalizer is not None:
            data = await _hash_data_with(
                canonicalizer, config, unsecured, item.path, doc_hashes, ctx_key
            )
        else:
            if ctx_key not in doc_hashes:  # canonicalise the document once per @context
                doc_hashes[ctx_key] = _document_hash(registry, unsecured)
            data = _hash_data(registry, config, doc_hashes[ctx_key], item.path)
        key = await resolver.verification_key(item.info.verification_method, expected_purpose)
        _verify_signature(item.info.cryptosuite, key, item.signature, data, item.path)
        results.append(item.info)
    return tuple(results)


async def _hash_data_with(
    canonicalizer: Canonicalizer,
    config: Mapping[str, Any],
    unsecured: Mapping[str, Any],
    path: str,
    doc_hashes: dict[str, bytes],
    ctx_key: str,
) -> bytes:
    """hashData (vc-di-eddsa §3.2.4) with RDFC-1.0 run by ``canonicalizer``;
    the document's hash is kept in ``doc_hashes`` under ``ctx_key``."""
    if ctx_key in doc_hashes:
        return _sha256(await canonicalizer.canonize(config, path), path) + doc_hashes[ctx_key]
    config_nquads, canonical = await asyncio.gather(
        canonicalizer.canonize(config, path), canonicalizer.canonize(unsecured, "")
    )
    doc_hashes[ctx_key] = _sha256(canonical, None)
    return _sha256(config_nquads, path) + doc_hashes[ctx_key]


async def verify_data_integrity(
    doc: Mapping[str, Any],
    resolver: KeyResolver,
    *,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    expected_controller: str | None = None,
    check_controller: bool = True,
    now: datetime | None = None,
    contexts: ContextRegistry | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> VerifiedProof:
    """Verify ``doc``'s Data Integrity proof(s); returns the first proof's details.

    Raises ``ProofError`` (``missing_proof``, ``unsupported_cryptosuite``,
    ``bad_proof``, ``bad_proof_value``, ``purpose_mismatch``,
    ``challenge_mismatch``, ``domain_mismatch``, ``proof_expired``,
    ``controller_mismatch``, ``key_type_mismatch``, ``signature_invalid``),
    ``ContextError`` (safe mode) or ``DidError`` (key resolution).
    """
    proofs = await verify_data_integrity_proofs(
        doc,
        resolver,
        expected_purpose=expected_purpose,
        challenge=challenge,
        domain=domain,
        expected_controller=expected_controller,
        check_controller=check_controller,
        now=now,
        contexts=contexts,
        canonicalizer=canonicalizer,
    )
    return proofs[0]
