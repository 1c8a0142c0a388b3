"""VC 2.0 §5.3 Integrity of Related Resources, for the resources we make use of.

§5.3: "A conforming verifier implementation that makes use of a resource
based on the id of a relatedResource object inside a conforming document
with a corresponding cryptographic digest appearing in a relatedResource
object value MUST compute the digest of the retrieved resource. If the
digest provided by the issuer does not match the digest computed for the
retrieved resource, the conforming verifier implementation MUST produce an
error."

The only resources a verifier here makes use of are the JSON-LD contexts a
document names, and those come byte for byte from the bundle
(``jsonld.ContextRegistry.resource_bytes``; never the network). So the
digests of a ``relatedResource`` whose ``id`` is one of the document's
``@context`` URLs are computed over the bundled file: a mismatch means the
issuer signed against another revision of that context than the one we
would process the credential with, which is what §5.3 guards against. Any
other ``id`` is not retrieved (no fetch at issue or verify time), so there
is nothing to compute and §5.3 asks nothing.

Digest forms: ``digestSRI`` per W3C Subresource Integrity (``sha256-``,
``sha384-``, ``sha512-`` + base64; several space-separated values match if
one does); ``digestMultibase`` per VC Data Integrity §2.6 (multibase ``u``
base64url or ``z`` base58btc of a multihash: sha2-256 ``0x12``, sha2-384
``0x20``, sha2-512 ``0x13``), or of the bare digest, as the W3C DM 2.0
suite's fixtures encode it (the length says which SHA-2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .crypto_keys import KeyFormatError, b58decode
from .errors import CredentialError
from .jsonld import ContextRegistry

_SRI = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_MULTIHASH = {0x12: ("sha256", 32), 0x20: ("sha384", 48), 0x13: ("sha512", 64)}
_BARE = {32: "sha256", 48: "sha384", 64: "sha512"}
_MAX_DIGEST_CHARS = 256  # a SHA-512 digest in any of the forms is far shorter
_MAX_RESOURCES = 64  # relatedResource entries examined per document


class RelatedResourceError(CredentialError):
    """A relatedResource digest that does not match, or cannot be read."""


def _sri_matches(value: str, data: bytes, path: str) -> bool:
    known = []
    for token in value.split()[:8]:
        alg, _, b64 = token.partition("-")
        if alg in _SRI:
            known.append((alg, b64.split("?")[0]))
    if not known:
        raise RelatedResourceError("unsupported_digest", f"no sha256/384/512 in {value!r}", path)
    for alg, b64 in known:
        try:
            expected = base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            raise RelatedResourceError("bad_digest", "digestSRI is not base64", path) from None
        if hmac.compare_digest(expected, hashlib.new(alg, data).digest()):
            return True
    return False


def _multibase_digest(value: str, path: str) -> tuple[str, bytes]:
    prefix, body = value[:1], value[1:]
    try:
        if prefix == "u":
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        elif prefix == "z":
            raw = b58decode(body)
        else:
            raise RelatedResourceError("unsupported_digest", "multibase u or z expected", path)
    except (binascii.Error, ValueError, KeyFormatError):
        raise RelatedResourceError("bad_digest", "digestMultibase is not multibase", path) from None
    if len(raw) >= 2 and raw[0] in _MULTIHASH and raw[1] == _MULTIHASH[raw[0]][1]:
        alg, size = _MULTIHASH[raw[0]]
        if len(raw) == size + 2:
            return alg, raw[2:]
    if len(raw) in _BARE:
        return _BARE[len(raw)], raw
    raise RelatedResourceError("unsupported_digest", "not a SHA-2 digest or multihash", path)


def _check_one(resource: Mapping[str, Any], data: bytes, path: str) -> None:
    sri, multibase = resource.get("digestSRI"), resource.get("digestMultibase")
    for name, value in (("digestSRI", sri), ("digestMultibase", multibase)):
        if value is not None and (not isinstance(value, str) or len(value) > _MAX_DIGEST_CHARS):
            raise RelatedResourceError("bad_digest", f"{name} must be a short string", path)
    if isinstance(sri, str) and not _sri_matches(sri, data, f"{path}.digestSRI"):
        raise RelatedResourceError(
            "digest_mismatch", f"digestSRI does not match {resource.get('id')}", path
        )
    if isinstance(multibase, str):
        alg, expected = _multibase_digest(multibase, f"{path}.digestMultibase")
        if not hmac.compare_digest(expected, hashlib.new(alg, data).digest()):
            raise RelatedResourceError(
                "digest_mismatch", f"digestMultibase does not match {resource.get('id')}", path
            )


def used_related_resources(doc: Mapping[str, Any], registry: ContextRegistry) -> int:
    """Check the digests of every relatedResource we make use of (VC 2.0 §5.3);
    return how many were checked. Raises ``RelatedResourceError``
    (``digest_mismatch``, ``bad_digest``, ``unsupported_digest``)."""
    raw = doc.get("relatedResource")
    if raw is None:
        return 0
    items = raw if isinstance(raw, list) else [raw]
    contexts = doc.get("@context")
    named = {
        c for c in (contexts if isinstance(contexts, list) else [contexts]) if isinstance(c, str)
    }
    checked = 0
    for index, resource in enumerate(items[:_MAX_RESOURCES]):
        if not isinstance(resource, Mapping):
            continue  # a shape error (model_vc.related_resource_rules)
        url = resource.get("id")
        data = registry.resource_bytes(url) if isinstance(url, str) and url in named else None
        if data is None:
            continue  # not a resource we retrieve: nothing to compute (§5.3)
        _check_one(resource, data, f"relatedResource[{index}]")
        checked += 1
    return checked
