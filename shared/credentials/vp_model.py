"""What a verifiable presentation holds, shared by both proof forms.

The holder (VC DM 2.0 §4.13: the holder generates the presentation), the
embedded credentials (objects as they are, ``EnvelopedVerifiableCredential``
per VC-JOSE-COSE §3.1.2 and bare VC 1.1 JWT strings as the JWT text), and
:class:`VerifiedPresentation`, which ``presentations.py`` (Data Integrity) and
``vp_jwt.py`` (VP-JWT) both return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .crypto_keys import SigningKey
from .data_integrity import VerifiedProof
from .errors import ProofError, ShapeError
from .jsonld import JsonDoc

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PRESENTATION_PURPOSE = "authentication"
ENVELOPE_TYPE = "EnvelopedVerifiableCredential"
# VC-JOSE-COSE §6.1 media types that carry a VC-JWT (the older one still circulates).
JWT_MEDIA_TYPES = ("application/vc+jwt", "application/vc-ld+jwt")

Credential = dict[str, Any] | str  # a credential object, or a VC-JWT to verify


@dataclass(frozen=True)
class VerifiedPresentation:
    """A presentation whose proof verified; its credentials are not yet verified."""

    holder: str | None  # VC DM 2.0 §4.13: optional
    proof: VerifiedProof
    credentials: tuple[Credential, ...]


def holder_of(presentation: Mapping[str, Any]) -> str | None:
    """The ``holder`` id (a URL string or an object's ``id``)."""
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def with_holder(presentation: Mapping[str, Any], key: SigningKey) -> tuple[JsonDoc, str]:
    """A copy whose ``holder`` is the key's DID (set when absent, checked when present)."""
    controller = key.kid.partition("#")[0]
    holder = holder_of(presentation)
    if holder is not None and holder != controller:
        raise ProofError("holder_mismatch", f"{key.kid} is not a key of the holder {holder}")
    doc = dict(presentation)
    if holder is None:
        doc["holder"] = controller
    return doc, controller


def has_type(doc: Mapping[str, Any], name: str) -> bool:
    """Whether ``type`` (a string or a list) includes ``name``."""
    types = doc.get("type")
    return name in (types if isinstance(types, list) else [types])


def require_presentation(presentation: Mapping[str, Any]) -> None:
    """``ShapeError("not_a_presentation")`` unless typed ``VerifiablePresentation``."""
    if not has_type(presentation, "VerifiablePresentation"):
        raise ShapeError("not_a_presentation", "type must include VerifiablePresentation", "type")


def envelope_jwt(
    item: Mapping[str, Any], path: str, media_types: tuple[str, ...] = JWT_MEDIA_TYPES
) -> str:
    """The JWT inside an envelope's ``data:`` URL of one of ``media_types``."""
    url = item.get("id")
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ShapeError("bad_envelope", "an envelope's id must be a data: URL", path)
    media_type, sep, payload = url[len("data:") :].partition(",")
    if not sep or media_type not in media_types:
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
            enveloped = has_type(item, ENVELOPE_TYPE)
            out.append(envelope_jwt(item, path) if enveloped else dict(item))
        else:
            raise ShapeError("bad_credential", "a credential must be an object or a JWT", path)
    return tuple(out)
