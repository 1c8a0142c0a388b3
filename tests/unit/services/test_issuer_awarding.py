"""The credential built for a passed assessment (pure logic, no services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from services.catalog.domain import AchievementIn, CriteriaIn, achievement_document
from services.issuer.domain.awarding import (
    AwardIn,
    RecipientError,
    RecipientIn,
    award_credential,
    subject_of,
    valid_until,
)
from shared.credentials.builders import build_profile
from shared.credentials.model import check_credential
from shared.credentials.recipients import matches_identity
from shared.durations import PeriodError, add_period
from shared.events import StatusEntryRef

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ISSUER = build_profile("did:key:z6MkexampleIssuer", "Example Polytechnic")


def achievement(**extra: object) -> dict[str, object]:
    body = AchievementIn(
        issuerDid=ISSUER["id"],
        name="Applied Data Protection",
        description="Apply GDPR in an SME.",
        criteria=CriteriaIn(narrative="Pass with 90%."),
        masteryThreshold=0.9,
    )
    return {**achievement_document(body, "https://catalog.example/achievements/1"), **extra}


ENTRIES = [
    StatusEntryRef(
        purpose="revocation",
        list_id="a-revocation-0",
        list_url="https://status.example/lists/a-revocation-0",
        index=41,
    ),
    StatusEntryRef(
        purpose="suspension",
        list_id="a-suspension-0",
        list_url="https://status.example/lists/a-suspension-0",
        index=7,
    ),
]


def award(recipient: RecipientIn, score: float = 95, **extra: object) -> dict[str, object]:
    body = AwardIn(
        achievementId="https://catalog.example/achievements/1", recipient=recipient, score=score
    )
    return award_credential(
        body=body,
        subject=subject_of(recipient),
        issuer_profile=ISSUER,
        achievement=achievement(**extra),
        entries=ENTRIES,
        now=NOW,
    )


def test_the_award_is_a_valid_open_badge_with_both_status_entries() -> None:
    credential = award(RecipientIn(id="did:example:learner"))
    assert check_credential(credential) == []
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    subject = credential["credentialSubject"]
    assert subject["id"] == "did:example:learner"
    [result] = subject["result"]
    assert result["value"] == "95" and result["status"] == "Completed"
    assert result["resultDescription"] == "https://catalog.example/achievements/1#mastery"
    entries = {e["statusPurpose"]: e for e in credential["credentialStatus"]}
    assert entries["revocation"]["statusListIndex"] == "41"
    assert entries["suspension"]["statusListCredential"].endswith("a-suspension-0")
    assert "validUntil" not in credential


def test_an_email_recipient_is_stored_hashed_and_still_matches() -> None:
    credential = award(RecipientIn(email="Ann@Example.org"))
    [identity] = credential["credentialSubject"]["identifier"]
    assert identity["hashed"] is True and identity["identityType"] == "emailAddress"
    assert "ann@example.org" not in str(credential).lower()
    assert matches_identity(identity, "ann@example.org")


def test_a_student_number_uses_the_sis_identity_type() -> None:
    [identity] = award(RecipientIn(studentId="S-1234"))["credentialSubject"]["identifier"]
    assert identity["identityType"] == "sisSourcedId"


@pytest.mark.parametrize(
    "recipient",
    [RecipientIn(), RecipientIn(id="did:example:1", email="a@b.c")],
)
def test_exactly_one_recipient_form_is_required(recipient: RecipientIn) -> None:
    with pytest.raises(RecipientError):
        subject_of(recipient)


@pytest.mark.parametrize(
    ("recipient", "named"),
    [
        (RecipientIn(id="notauri"), "recipient.id"),
        (RecipientIn(id="did:"), "recipient.id"),
        (RecipientIn(id="did:example:a b"), "recipient.id"),
        (RecipientIn(id=" did:example:x"), "recipient.id"),
        (RecipientIn(email="not-an-email"), "recipient.email"),
        (RecipientIn(email="  "), "recipient.email"),
        (RecipientIn(studentId=" "), "recipient.studentId"),
    ],
)
def test_a_recipient_the_credential_could_not_carry_is_refused(
    recipient: RecipientIn, named: str
) -> None:
    """What signing (JSON-LD: a relative IRI) or the verifier (not a URI)
    would refuse, or a blank identity, is refused before anything is built."""
    with pytest.raises(RecipientError, match=named):
        subject_of(recipient)


def test_a_validity_period_sets_valid_until() -> None:
    credential = award(RecipientIn(id="did:example:learner"), validityPeriod="P2Y")
    assert credential["validUntil"] == "2028-11-28T12:00:00Z"


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (datetime(2024, 2, 29, tzinfo=UTC), "P1Y", datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), "P1M", datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 11, 28, tzinfo=UTC), "P1Y6M10D", datetime(2028, 6, 7, tzinfo=UTC)),
        (datetime(2026, 11, 28, tzinfo=UTC), "P0D", None),
        (datetime(2026, 11, 28, tzinfo=UTC), "PT5H", None),
        (datetime(2026, 11, 28, tzinfo=UTC), 3, None),
    ],
)
def test_validity_periods(start: datetime, period: object, expected: datetime | None) -> None:
    assert add_period(start, period) == expected


def test_an_assessment_time_becomes_the_activity_end_in_utc() -> None:
    body = AwardIn(
        achievementId="https://catalog.example/achievements/1",
        recipient=RecipientIn(id="did:example:learner"),
        score=95,
        assessedAt=datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(hours=1))),
    )
    credential = award_credential(
        body=body,
        subject=subject_of(body.recipient),
        issuer_profile=ISSUER,
        achievement=achievement(),
        entries=ENTRIES,
        now=NOW,
    )
    assert credential["credentialSubject"]["activityEndDate"] == "2026-11-20T09:00:00Z"


@pytest.mark.parametrize("assessed_at", ["2026-11-20T10:00:00", "2026-11-20", "noon"])
def test_an_assessment_time_needs_an_offset(assessed_at: str) -> None:
    body = {"achievementId": "a", "recipient": {"id": "did:example:1"}, "score": 95}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.assessedAt"):
        msgspec.convert({**body, "assessedAt": assessed_at}, AwardIn)


def test_a_stored_period_over_the_limit_is_an_error_not_an_overflow() -> None:
    assert valid_until(achievement(validityPeriod="P100Y"), NOW) == datetime(
        2126, 11, 28, 12, tzinfo=UTC
    )
    for period in ("P9999999Y", "P9999999999999999999Y"):
        with pytest.raises(PeriodError):
            valid_until(achievement(validityPeriod=period), NOW)
