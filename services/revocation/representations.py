"""The two forms of a signed status list, chosen by content negotiation.

Bitstring Status List v1.0 §2.2 lets a `BitstringStatusListCredential` be
secured by any mechanism of VC 2.0 §4.12: JOSE verifiers want the VC-JWT,
Data Integrity verifiers (the W3C suite, the Digital Bazaar and DCC
libraries) the JSON-LD credential with its `eddsa-rdfc-2022` proof. JSON-LD
unless the request asks for `application/vc+jwt` (or `application/jwt`)
and not for JSON-LD. Each form has its own strong ETag, derived from the
snapshot's sequence, so a cache never mixes them up (`Vary: Accept`).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from shared.events import StatusListPublished

JSON_LD = "application/vc+ld+json"
JWT = "application/vc+jwt"
_JWT_TYPES = frozenset({JWT, "application/jwt"})
_JSON_TYPES = frozenset({JSON_LD, "application/vc", "application/ld+json", "application/json"})


@dataclass(frozen=True)
class Representation:
    body: bytes
    content_type: str
    etag: str


def _wants_jwt(accept: str) -> bool:
    """Whether the Accept header prefers the VC-JWT (quality values honoured)."""
    best_jwt = best_json = 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.lower() in _JWT_TYPES:
            best_jwt = max(best_jwt, quality)
        elif media.lower() in _JSON_TYPES:
            best_json = max(best_json, quality)
    return best_jwt > 0 and best_jwt > best_json


def representation(snapshot: StatusListPublished, accept: str) -> Representation:
    """The form of `snapshot` to serve for this `Accept` header (a snapshot
    made before JSON-LD lists existed has only the VC-JWT)."""
    if _wants_jwt(accept) or snapshot.credential_ldp is None:
        return Representation(snapshot.credential_jwt.encode(), JWT, f'"{snapshot.sequence}-jwt"')
    body = orjson.dumps(snapshot.credential_ldp)
    return Representation(body, JSON_LD, f'"{snapshot.sequence}"')
