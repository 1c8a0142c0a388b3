"""The checks an assessment result passes before anything is made of it,
for an award (services/issuer/awards.py) and a formative attempt
(services/issuer/attempts.py) alike, each refusal a domain error naming
what is wrong."""

from __future__ import annotations

from datetime import datetime

from services.issuer.domain.awarding import (
    AwardIn,
    EvidenceError,
    RecipientError,
    Subject,
    evidence_of,
    subject_of,
)
from services.issuer.domain.errors import InvalidRecipient, InvalidScore
from services.issuer.domain.gate import ScoreError, meets_mastery
from shared.errors import InvalidField
from shared.timestamps import TimestampError, past_instant


def checked_subject(body: AwardIn) -> Subject:
    """The learner the result is about (exactly one identifier)."""
    try:
        return subject_of(body.recipient)
    except RecipientError as error:
        raise InvalidRecipient(str(error)) from None


def check_evidence(body: AwardIn) -> None:
    """The evidence passed with the result, by the verifier's rules."""
    try:
        evidence_of(body)
    except EvidenceError as error:
        raise InvalidField(error.path, str(error)) from None


def check_assessed_at(body: AwardIn, now: datetime) -> None:
    """When it was assessed: 1900-9999 UTC, not in the future."""
    if body.assessedAt is None:
        return
    try:
        past_instant(body.assessedAt, now=now)
    except TimestampError as error:
        raise InvalidField("$.assessedAt", str(error)) from None


def mastery_met(body: AwardIn, threshold: float) -> bool:
    """Whether the score reaches the achievement's mastery threshold."""
    try:
        return meets_mastery(body.score, body.maxScore, threshold)
    except ScoreError as error:
        raise InvalidScore(str(error)) from None
