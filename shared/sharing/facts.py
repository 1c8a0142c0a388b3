"""The few facts a badge, a certificate or a LinkedIn URL shows, read from an
OB 3.0 credential (already verified, or about to be: nothing here trusts it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.credentials.errors import CredentialError
from shared.credentials.jwt import parse_vc_datetime, peek_vc_jwt

MAX_TEXT = 300  # badge and certificate texts are cut here


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())[:MAX_TEXT]
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _date(value: object) -> datetime | None:
    try:
        return parse_vc_datetime(value, "validFrom")
    except CredentialError:
        return None


@dataclass(frozen=True)
class CredentialFacts:
    credential_id: str | None
    title: str
    description: str | None
    provider: str | None  # the issuer Profile's name
    issuer_id: str | None
    level: str | None  # "EQF 6", from our extension's eqfLevel (docs/credential-format.md)
    learner: str | None  # an unhashed `name` IdentityObject (OB 3.0 §B.1.12), if any
    valid_from: datetime | None
    valid_until: datetime | None
    image: str | None  # the achievement's image (URL or data: URI)


def facts_of(credential: Mapping[str, Any] | str) -> CredentialFacts:
    """Facts of a credential given as JSON or as a VC-JWT (not verified here)."""
    doc: Mapping[str, Any] = (
        peek_vc_jwt(credential)[1] if isinstance(credential, str) else credential
    )
    subject = doc.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    subject = _mapping(subject)
    achievement = _mapping(subject.get("achievement"))
    issuer = doc.get("issuer")
    issuer_map = _mapping(issuer)
    image = achievement.get("image")
    level = achievement.get("eqfLevel")
    return CredentialFacts(
        credential_id=_text(doc.get("id")),
        title=_text(achievement.get("name")) or _text(doc.get("name")) or "Micro-credential",
        description=_text(achievement.get("description")),
        provider=_text(issuer_map.get("name")),
        issuer_id=_text(issuer_map.get("id")) or _text(issuer),
        level=f"EQF {level}" if isinstance(level, int) and not isinstance(level, bool) else None,
        learner=_learner_name(subject),
        valid_from=_date(doc.get("validFrom") or doc.get("issuanceDate")),
        valid_until=_date(doc.get("validUntil") or doc.get("expirationDate")),
        image=_text(_mapping(image).get("id")) or _text(image),
    )


def _learner_name(subject: Mapping[str, Any]) -> str | None:
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else ():
        item = _mapping(item)
        if item.get("identityType") == "name" and item.get("hashed") is False:
            return _text(item.get("identityHash"))
    return None
