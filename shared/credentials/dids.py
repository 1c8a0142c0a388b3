"""DIDs: did:key (v0.7), did:jwk, did:web, and key look-up by proof purpose.

DID Core 1.0 §5.3 (verification relationships): a key may prove an assertion
only if the controller's document lists (references or embeds) it under
``assertionMethod``; :meth:`DidResolver.verification_key` enforces that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .crypto_keys import (
    PublicKey,
    b58decode,
    b64url_decode,
    b64url_encode,
    ed25519_from_raw,
    public_key_from_jwk,
    public_key_from_multibase,
    public_key_multibase,
    public_key_to_jwk,
)
from .errors import CredentialError, DidError

FetchJson = Callable[[str], Awaitable[dict[str, Any]]]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
SIGNING_PURPOSES = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
)
ALL_PURPOSES = (*SIGNING_PURPOSES, "keyAgreement")

_DID_KEY_RE = re.compile(r"did:key:(z[1-9A-HJ-NP-Za-km-z]+)")
_DID_JWK_RE = re.compile(r"did:jwk:([A-Za-z0-9_-]+)")
_WEB_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")
_WEB_SEGMENT_RE = re.compile(r"[A-Za-z0-9._~%-]+")
_MAX_DID_LENGTH = 4096


def split_did_url(did_url: str) -> tuple[str, str | None]:
    """``did:ex:1?q#frag`` -> (``did:ex:1``, ``frag``); the query is dropped."""
    base, _, fragment = did_url.partition("#")
    return base.partition("?")[0], fragment or None


def absolute_id(ref: str, did: str) -> str:
    """Resolve a relative DID URL (``#key-1``) against its document's DID."""
    return did + ref if ref.startswith("#") else ref


# --- did:key -----------------------------------------------------------------


def did_key_for(public_key: PublicKey) -> str:
    """``did:key:`` + the key's Multikey value (Ed25519 or P-256)."""
    return "did:key:" + public_key_multibase(public_key)


def did_key_document(did: str) -> dict[str, Any]:
    """The did:key v0.7 document with one Multikey method for all signing purposes."""
    match = _DID_KEY_RE.fullmatch(did)
    if match is None:
        raise DidError("invalid_did", "not a did:key DID (did:key:z...)")
    value = match.group(1)
    try:
        public_key_from_multibase(value)  # validates multicodec, length, point
    except CredentialError as exc:
        raise DidError("invalid_did", f"did:key value is not a usable key: {exc.detail}") from exc
    vm_id = f"{did}#{value}"
    method = {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": value}
    doc: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [method],
    }
    for purpose in SIGNING_PURPOSES:
        doc[purpose] = [vm_id]
    return doc


# --- did:jwk -----------------------------------------------------------------


def did_jwk_for(public_key: PublicKey) -> str:
    """``did:jwk:`` + base64url of the JWK in canonical (RFC 8785) form."""
    jwk = public_key_to_jwk(public_key)
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + b64url_encode(canonical.encode())


def did_jwk_document(did: str) -> dict[str, Any]:
    """The did:jwk document: one JsonWebKey2020 method ``#0``; purposes follow ``use``."""
    match = _DID_JWK_RE.fullmatch(did)
    if match is None:
        raise DidError("invalid_did", "not a did:jwk DID")
    try:
        jwk = json.loads(b64url_decode(match.group(1)))
        public_key_from_jwk(jwk)  # refuses private members and unusable keys
    except (CredentialError, ValueError) as exc:
        raise DidError("invalid_did", "did:jwk value is not a usable public JWK") from exc
    vm_id = f"{did}#0"
    doc: dict[str, Any] = {
        "@context": [DID_CONTEXT, JWS_2020_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    purposes = {"sig": SIGNING_PURPOSES, "enc": ("keyAgreement",)}.get(use, ALL_PURPOSES)
    for purpose in purposes:
        doc[purpose] = [vm_id]
    return doc


# --- did:web -----------------------------------------------------------------


def did_web_url(did: str) -> str:
    """did:web method spec §3.2: the HTTPS URL of the DID document."""
    if not did.startswith("did:web:") or len(did) > _MAX_DID_LENGTH:
        raise DidError("invalid_did", "not a did:web DID")
    host_part, *segments = did[len("did:web:") :].split(":")
    host = unquote(host_part)  # a port is percent-encoded: example.com%3A3000
    if not _WEB_HOST_RE.fullmatch(host):
        raise DidError("invalid_did", "did:web host is not a valid domain name")
    for segment in segments:
        if not _WEB_SEGMENT_RE.fullmatch(segment) or unquote(segment) in (".", ".."):
            raise DidError("invalid_did", "did:web path segment is invalid")
    if not segments:
        return f"https://{host}/.well-known/did.json"
    return f"https://{host}/{'/'.join(segments)}/did.json"


# --- verification methods ----------------------------------------------------


def _key_from_method(method: Mapping[str, Any]) -> PublicKey:
    kind = method.get("type")
    try:
        if kind in ("JsonWebKey2020", "JsonWebKey"):
            return public_key_from_jwk(method.get("publicKeyJwk"))
        if kind in ("Multikey", "Ed25519VerificationKey2020"):
            key = public_key_from_multibase(method.get("publicKeyMultibase", ""))
            if kind == "Ed25519VerificationKey2020" and not isinstance(key, Ed25519PublicKey):
                raise DidError("bad_document", "Ed25519VerificationKey2020 holds a non-Ed25519 key")
            return key
        if kind == "Ed25519VerificationKey2018":
            value = method.get("publicKeyBase58")
            if not isinstance(value, str):
                raise DidError("bad_document", "publicKeyBase58 missing")
            return ed25519_from_raw(b58decode(value))
    except DidError:
        raise
    except CredentialError as exc:
        raise DidError("bad_document", f"verification method key: {exc.detail}") from exc
    raise DidError("bad_document", f"unsupported verification method type {kind!r}")


def _find_method(doc: Mapping[str, Any], vm_id: str) -> Mapping[str, Any] | None:
    did = doc["id"]
    for group in ("verificationMethod", *ALL_PURPOSES):
        entries = doc.get(group)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and absolute_id(str(entry.get("id", "")), did) == vm_id:
                return entry
    return None


def _authorized_method(
    doc: Mapping[str, Any], vm_id: str, purpose: str
) -> Mapping[str, Any] | None:
    """The method for ``vm_id`` if it is referenced or embedded under ``purpose``."""
    did = doc["id"]
    entries = doc.get(purpose)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and absolute_id(entry, did) == vm_id:
            return _find_method(doc, vm_id)
        if isinstance(entry, Mapping) and absolute_id(str(entry.get("id", "")), did) == vm_id:
            return entry
    return None


def _sole_method_id(doc: Mapping[str, Any], purpose: str) -> str | None:
    entries = doc.get(purpose)
    if not isinstance(entries, list) or len(entries) != 1:
        return None
    entry = entries[0]
    ref = entry if isinstance(entry, str) else entry.get("id") if isinstance(entry, dict) else None
    return absolute_id(ref, doc["id"]) if isinstance(ref, str) else None


class DidResolver:
    """Resolves DIDs: known documents first, then did:key/did:jwk, then did:web.

    ``DidError`` codes: ``invalid_did``, ``unsupported_method``, ``unavailable``
    (did:web could not be fetched: a transient "could not check"),
    ``bad_document``, ``not_found`` (no such verification method),
    ``key_not_authorized`` (not listed under the proof purpose).

    ``known`` is kept by reference, so a caller may keep adding documents it
    learns (the verifier feeds it from Kafka). Keys of self-certifying DIDs
    (did:key, did:jwk) are cached per instance, as they can never change.
    """

    def __init__(
        self,
        fetch_json: FetchJson | None = None,
        known: Mapping[str, dict[str, Any]] | None = None,
        *,
        cache_size: int = 4096,
    ) -> None:
        self._fetch_json = fetch_json
        self._known: Mapping[str, dict[str, Any]] = known if known is not None else {}
        self._cache_size = cache_size
        self._key_cache: dict[tuple[str, str], PublicKey] = {}

    async def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (a DID URL's fragment and query are ignored)."""
        did = split_did_url(did)[0]
        if not did.startswith("did:") or len(did) > _MAX_DID_LENGTH:
            raise DidError("invalid_did", "not a DID")
        doc = self._known.get(did)
        if doc is None:
            doc = await self._resolve_method(did)
        if not isinstance(doc, dict) or doc.get("id") != did:
            raise DidError("bad_document", "DID document id does not match the DID")
        return doc

    async def _resolve_method(self, did: str) -> dict[str, Any]:
        method = did.split(":", 2)[1]
        if method == "key":
            return did_key_document(did)
        if method == "jwk":
            return did_jwk_document(did)
        if method != "web":
            raise DidError("unsupported_method", f"DID method {method!r} is not supported")
        url = did_web_url(did)
        if self._fetch_json is None:
            raise DidError("unavailable", "did:web resolution is not configured")
        try:
            return await self._fetch_json(url)
        except CredentialError:
            raise
        except Exception as exc:
            raise DidError("unavailable", f"could not fetch the did:web document ({exc})") from exc

    async def verification_key(self, vm_id: str, purpose: str = "assertionMethod") -> PublicKey:
        """The public key of ``vm_id``, provided its controller authorised it for ``purpose``."""
        cache_key = (vm_id, purpose)
        cached = self._key_cache.get(cache_key)
        if cached is not None:
            return cached
        did, fragment = split_did_url(vm_id)
        doc = await self.resolve(did)
        full_id = f"{did}#{fragment}" if fragment else _sole_method_id(doc, purpose) or vm_id
        method = _authorized_method(doc, full_id, purpose)
        if method is None:
            if _find_method(doc, full_id) is not None:
                raise DidError("key_not_authorized", f"{vm_id} is not listed under {purpose}")
            raise DidError("not_found", f"verification method {vm_id} not found")
        key = _key_from_method(method)
        if did.startswith(("did:key:", "did:jwk:")) and did not in self._known:
            if len(self._key_cache) >= self._cache_size:
                self._key_cache.pop(next(iter(self._key_cache)))
            self._key_cache[cache_key] = key
        return key
