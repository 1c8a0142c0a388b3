"""DID documents we host: did:web identities with Multikey methods, rotation
and compromise.

did:web method spec §3.2: ``did:web:example.com%3A8443:issuers:abc`` is
served at ``https://example.com:8443/issuers/abc/did.json`` (the port's
colon percent-encoded, path segments joined by ``:``).

Rotation adds a verification method and makes it the one that signs; the old
methods stay listed under ``assertionMethod`` so credentials they signed keep
verifying. A compromised method gets the ``revoked`` date-time of W3C
Controlled Identifiers 1.0 §2.2.1 (``https://w3id.org/security#revoked``,
defined by the Multikey context): proofs it made at or after that time no
longer verify (`shared.credentials.key_revocation`), earlier ones still do.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from .crypto_keys import PublicKey, public_key_multibase, public_key_to_jwk
from .dids import DID_CONTEXT, JWS_2020_CONTEXT, MULTIKEY_CONTEXT, absolute_id
from .errors import DidError

__all__ = [
    "add_method",
    "current_method_id",
    "method_ids",
    "revoke_method",
    "web_did",
    "web_did_host",
    "web_document",
]


def web_did(base_url: str, *segments: str) -> str:
    """The did:web of ``<base_url>/<segments...>/did.json`` (base path kept)."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise DidError("invalid_did", f"{base_url!r} has no host")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    path = [p for p in parts.path.split("/") if p] + list(segments)
    return ":".join(["did:web", quote(host, safe=""), *(quote(p, safe="") for p in path)])


def web_did_host(did: str) -> str:
    """The host of a did:web (``did:web:poly.example:badges`` -> ``poly.example``),
    its port, if any, still percent-encoded (did:web §3.1)."""
    return did.removeprefix("did:web:").split(":", 1)[0]


def _method(did: str, number: int, public_key: PublicKey) -> dict[str, Any]:
    """A Multikey method (Ed25519, P-256); an RSA key, which has no Multikey
    form, as a JsonWebKey2020 method with its JWK (RFC 7517)."""
    method: dict[str, Any] = {"id": f"{did}#key-{number}", "controller": did}
    if isinstance(public_key, rsa.RSAPublicKey):
        return method | {"type": "JsonWebKey2020", "publicKeyJwk": public_key_to_jwk(public_key)}
    return method | {"type": "Multikey", "publicKeyMultibase": public_key_multibase(public_key)}


def _with_method_context(doc: dict[str, Any], method: dict[str, Any]) -> None:
    if method["type"] == "JsonWebKey2020" and JWS_2020_CONTEXT not in doc["@context"]:
        doc["@context"] = [*doc["@context"], JWS_2020_CONTEXT]


def web_document(did: str, public_key: PublicKey) -> dict[str, Any]:
    """A new did:web document: one method (``#key-1``) for every signing purpose."""
    method = _method(did, 1, public_key)
    doc = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
        "authentication": [method["id"]],
        "capabilityInvocation": [method["id"]],
    }
    _with_method_context(doc, method)
    return doc


def method_ids(doc: dict[str, Any]) -> list[str]:
    """Every verification method's absolute id, oldest first."""
    methods = doc.get("verificationMethod")
    return [
        absolute_id(str(m.get("id", "")), doc["id"])
        for m in (methods if isinstance(methods, list) else [])
        if isinstance(m, dict)
    ]


def current_method_id(doc: dict[str, Any]) -> str:
    """The method that signs now: the newest under ``authentication``, else
    the first under ``assertionMethod`` (did:key has one of each)."""
    for purpose in ("authentication", "assertionMethod"):
        entries = doc.get(purpose)
        if isinstance(entries, list) and entries:
            entry = entries[-1] if purpose == "authentication" else entries[0]
            ref = entry if isinstance(entry, str) else str(entry.get("id", ""))
            return absolute_id(ref, doc["id"])
    raise DidError("bad_document", "the DID document names no signing method")


def add_method(doc: dict[str, Any], public_key: PublicKey) -> tuple[dict[str, Any], str]:
    """A copy of ``doc`` with a new method that signs from now on (and its id).

    The old methods stay under ``assertionMethod`` (their credentials keep
    verifying); ``authentication`` and ``capabilityInvocation`` name only the
    new one."""
    did = doc["id"]
    if not did.startswith("did:web:"):
        raise DidError("unsupported_method", "only did:web documents can rotate keys")
    new = copy.deepcopy(doc)
    method = _method(did, len(method_ids(doc)) + 1, public_key)
    new["verificationMethod"] = [*new.get("verificationMethod", []), method]
    new["assertionMethod"] = [*new.get("assertionMethod", []), method["id"]]
    new["authentication"] = [method["id"]]
    new["capabilityInvocation"] = [method["id"]]
    _with_method_context(new, method)
    return new, method["id"]


def revoke_method(doc: dict[str, Any], vm_id: str, revoked: str) -> dict[str, Any]:
    """A copy of ``doc`` whose method ``vm_id`` carries ``revoked`` (an XSD
    dateTimeStamp). It stays listed, so proofs made before that time verify."""
    new = copy.deepcopy(doc)
    for method in new.get("verificationMethod", []):
        if isinstance(method, dict) and absolute_id(str(method.get("id")), doc["id"]) == vm_id:
            method["revoked"] = revoked
            return new
    raise DidError("not_found", f"verification method {vm_id} not found")
