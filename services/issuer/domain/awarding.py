"""Building the Open Badges 3.0 credential for a passed assessment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from services.issuer.domain.gate import score_fraction
from shared.credentials.builders import build_credential, build_evidence, build_result
from shared.credentials.model import check_evidence
from shared.credentials.recipients import hash_identity, plain_identity
from shared.credentials.shape_rules import is_uri
from shared.credentials.status_list import status_entry
from shared.durations import add_period
from shared.events import StatusEntryRef
from shared.learner_keys import LearnerKeys
from shared.timestamps import Timestamp

Bounded = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class RecipientIn(msgspec.Struct, forbid_unknown_fields=True):
    """The learner: a DID or URI, or an email / student number stored hashed;
    optionally their name, in clear (shown on the badge page and certificate)."""

    id: Bounded | None = None
    email: Bounded | None = None
    studentId: Bounded | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class EvidenceIn(msgspec.Struct, forbid_unknown_fields=True):
    """OB 3.0 §B.1.10 Evidence passed with the assessment result: a link
    (`id`, a URL) and/or a description."""

    id: Bounded | None = None
    name: Text | None = None
    description: Text | None = None
    narrative: Text | None = None
    genre: Bounded | None = None


# At most 20 evidence items per award, from any source (API, bulk file, Kafka).
EvidenceList = Annotated[list[EvidenceIn], msgspec.Meta(max_length=20)]


class AwardIn(msgspec.Struct, forbid_unknown_fields=True):
    achievementId: Bounded
    recipient: RecipientIn
    score: float
    maxScore: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    assessedAt: Timestamp | None = None  # and not in the future: awards.py checks
    evidence: EvidenceList = []
    # The id of the tenant's credential this award renews (a re-assessment of
    # the same learner and achievement, before or after it expired).
    renews: Bounded | None = None


class EvidenceError(ValueError):
    """An evidence item the signed format refuses: its path and why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def evidence_of(body: AwardIn) -> list[dict[str, Any]]:
    """The award's Evidence objects, checked with the verifier's rules."""
    built: list[dict[str, Any]] = []
    for i, item in enumerate(body.evidence):
        path = f"$.evidence[{i}]"
        if not (item.id or item.narrative or item.description):
            raise EvidenceError(path, "evidence needs an id (a URL), a narrative or a description")
        evidence = build_evidence(
            id=item.id,
            name=item.name,
            description=item.description,
            narrative=item.narrative,
            genre=item.genre,
        )
        for error in check_evidence(evidence, path):
            raise EvidenceError(error.path or path, error.detail)
        built.append(evidence)
    return built


class RecipientError(ValueError):
    """A recipient with nothing, or more than one thing, to identify the learner."""


@dataclass(frozen=True)
class Subject:
    """The learner as the credential names them: an id, or hashed identifiers."""

    id: str | None
    identifiers: list[dict[str, Any]]


def subject_of(recipient: RecipientIn) -> Subject:
    """Validate the recipient (before anything is allocated for it)."""
    subject_id, identifiers = _subject(recipient)
    if recipient.name is not None and recipient.name.strip():
        # OB 3.0 §B.1.12: an IdentityObject of identityType `name`, not hashed.
        identifiers = [*identifiers, plain_identity(" ".join(recipient.name.split()), "name")]
    return Subject(subject_id, identifiers)


def _subject(recipient: RecipientIn) -> tuple[str | None, list[dict[str, Any]]]:
    given = [
        (name, value)
        for name, value in (
            ("id", recipient.id),
            ("email", recipient.email),
            ("studentId", recipient.studentId),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise RecipientError(
            "give exactly one of recipient.id, recipient.email, recipient.studentId"
        )
    [(name, value)] = given
    if not value.strip():
        raise RecipientError(f"recipient.{name} is blank")
    if name == "id":
        # The credential's `credentialSubject.id`: a URI (VC DM 2.0 §4.4), by
        # the verifier's rule, which is also what JSON-LD signing needs.
        if not is_uri(value):
            raise RecipientError("recipient.id must be an absolute URI, e.g. a DID")
        return value, []
    if name == "email":
        if "@" not in value:
            raise RecipientError("recipient.email must be an e-mail address")
        # OB 3.0 §B.2.3 IdentityObject: the learner's email, salted and hashed.
        return None, [dict(hash_identity(value, identity_type="emailAddress"))]
    return None, [dict(hash_identity(value, identity_type="sisSourcedId"))]


def learner_key(keys: LearnerKeys, recipient: RecipientIn) -> str:
    """The learner's key for stacking (shared.learner_keys); RecipientError
    unless exactly one identifier is given."""
    _subject(recipient)
    if recipient.id:
        return keys.of("id", recipient.id)
    if recipient.email:
        return keys.of("emailAddress", recipient.email)
    assert recipient.studentId
    return keys.of("sisSourcedId", recipient.studentId)


def valid_until(achievement: dict[str, Any], start: datetime) -> datetime | None:
    """When an award made at `start` expires (None: never); PeriodError for a
    stored `validityPeriod` over the limit (see shared.durations)."""
    return add_period(start, achievement.get("validityPeriod"))


def award_credential(
    *,
    body: AwardIn,
    subject: Subject,
    issuer_profile: dict[str, Any],
    achievement: dict[str, Any],
    entries: list[StatusEntryRef],
    now: datetime,
    renewal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential (OB 3.0 §B.1.2) for a passed
    assessment; `renewal`, the Evidence naming the credential it renews."""
    percent = score_fraction(body.score, body.maxScore) * Decimal(100)
    mastery: dict[str, Any] = next(iter(achievement.get("resultDescription") or []), {})
    result = build_result(
        result_description=mastery.get("id"),
        value=f"{percent.normalize():f}",
        status="Completed",
        result_date=body.assessedAt or now,
    )
    credential = build_credential(
        issuer=issuer_profile,
        achievement=achievement,
        valid_from=now,
        valid_until=valid_until(achievement, now),
        awarded_date=now,
        subject_id=subject.id,
        identifiers=subject.identifiers,
        results=[result],
        credits_earned=achievement.get("creditsAvailable"),
        activity_end=body.assessedAt,
        evidence=[*evidence_of(body), *([renewal] if renewal else [])],
    )
    # Bitstring Status List v1.0 §2.1: one entry per purpose (revocation, suspension).
    credential["credentialStatus"] = [
        status_entry(entry.list_url, entry.index, entry.purpose) for entry in entries
    ]
    return credential
