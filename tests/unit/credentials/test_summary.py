"""The credential summary a job board indexes, and the recipient check."""

from __future__ import annotations

from typing import Any

import pytest

from shared.credentials.recipients import hash_identity, recipient_check
from shared.credentials.summary import summarise
from tests.unit.credentials.test_model_samples import LEARNER, full_credential, minimal_credential


def test_the_full_credential_is_summarised() -> None:
    summary = summarise(full_credential(), trust={"level": "accredited", "other": 1})
    achievement = summary["achievement"]
    assert achievement["name"] == "Data Literacy for Professionals"
    assert (achievement["eqfLevel"], achievement["ectsCredits"]) == (6, 5)
    assert achievement["workloadHours"] == 140
    assert achievement["assessmentType"]
    assert achievement["masteryThreshold"]["requiredValue"] == "90"
    assert achievement["result"] == {"value": "94", "status": "Completed", "achievedLevel": None}
    assert summary["alignments"][0]["framework"] == "ESCO"
    assert summary["alignments"][0]["targetUrl"].startswith("http://data.europa.eu/esco/")
    assert summary["provider"] == {
        "id": "did:web:uni.example",
        "name": "Example University",
        "url": "https://uni.example",
        "country": "NL",
    }
    learner = summary["learner"]
    assert learner["id"] == LEARNER
    assert learner["identifierTypes"] == ["did", "hashedEmail"]
    assert summary["dates"]["validUntil"] == "2030-03-01T09:30:00Z"
    assert summary["accreditation"] == {"level": "accredited"}


def test_the_summary_repeats_no_hash_nor_salt() -> None:
    text = repr(summarise(full_credential()))
    assert "8d3f1c0a" not in text and "sha256$" not in text


def test_a_hashed_email_only_learner() -> None:
    learner = summarise(minimal_credential())["learner"]
    assert (learner["identifierType"], learner["id"], learner["name"]) == (
        "hashedEmail",
        None,
        None,
    )


@pytest.mark.parametrize("junk", [{}, {"credentialSubject": 3}, {"issuer": ["x"], "type": 5}])
def test_junk_gives_an_empty_summary_not_an_error(junk: dict[str, Any]) -> None:
    summary = summarise(junk)
    assert summary["achievement"]["name"] is None and summary["alignments"] == []


def test_recipient_matches_the_salted_hash_or_the_did() -> None:
    subject = {"id": LEARNER, "identifier": [hash_identity("ada@example.com", salt="pepper")]}
    ok = recipient_check(subject, " Ada@Example.com ")
    assert ok is not None and ok.outcome == "ok"
    assert recipient_check(subject, LEARNER).outcome == "ok"  # type: ignore[union-attr]
    failed = recipient_check(subject, "eve@example.com")
    assert failed is not None and (failed.outcome, failed.code) == ("failed", "recipient_mismatch")
    assert recipient_check(subject, None) is None
    none = recipient_check({"type": "AchievementSubject"}, "ada@example.com")
    assert none is not None and none.outcome == "not_checked"
