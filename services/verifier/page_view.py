"""What the verification page shows: a verification report read for people.

`result_view` turns one report (the JSON the API answers, `to_vc_api()` plus
`state`) and the credential it checked into plain values for the templates:
the verdict, what the credential certifies (OB 3.0 §B.1.1 Achievement and our
EU 2022 extension terms, docs/credential-format.md), who issued and
accredited it (the `trust` check's details), endorsements (the `endorsements`
check's details), the learner, dates, and each check.  It only reads values:
decoding inputs and verifying them is the verifier's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATES = (
    "valid",
    "untrusted",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "tampered",
    "unchecked",
    "malformed",
)
KNOWN_CHECKS = frozenset(
    {
        "format",
        "shape",
        "proof",
        "validity",
        "status",
        "trust",
        "achievement_known",
        "impersonation",
        "endorsements",
        "recipient",
    }
)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """A learning outcome or competency, with its framework link (OB 3.0 Alignment)."""

    name: str
    url: str | None
    framework: str | None


@dataclass(frozen=True)
class Threshold:
    """A result description (the pass mark) and the learner's result against it."""

    name: str
    required: str | None
    result: str | None


@dataclass(frozen=True)
class CheckLine:
    name: str
    outcome: str
    explanation_key: str
    reason: str | None


@dataclass(frozen=True)
class Endorsement:
    endorser: str
    comment: str | None
    verified: bool


@dataclass
class ResultView:
    """Everything a result page shows, already picked out of the report."""

    state: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # (catalogue key, value)
    title: str | None = None
    description: str | None = None
    criteria: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    issuer: list[tuple[str, str]] = field(default_factory=list)
    issuer_url: str | None = None
    accredited_by: str | None = None
    accreditation: str | None = None
    domain_linked: bool = False
    endorsements: list[Endorsement] = field(default_factory=list)
    learner_name: str | None = None
    learner_id: str | None = None
    learner_hashed: bool = False
    recipient: str | None = None  # outcome of the recipient check, when asked
    dates: list[tuple[str, str]] = field(default_factory=list)
    status_details: list[tuple[str, str]] = field(default_factory=list)
    checks: list[CheckLine] = field(default_factory=list)

    @property
    def has_credential(self) -> bool:
        return self.title is not None or bool(self.issuer)


def _dict(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _date(value: object) -> str | None:
    """The date part of an XSD dateTime (ISO 8601 reads the same in EN and FR)."""
    text = _text(value)
    return text[:10] if text and len(text) >= 10 and text[4] == "-" else text


def _checks(report: Json) -> dict[str, Json]:
    return {str(c.get("check")): c for c in map(_dict, _list(report.get("results")))}


def _achievement(credential: Json) -> Json:
    subject = _list(credential.get("credentialSubject"))
    return _dict(_dict(subject[0]).get("achievement")) if subject else {}


def _subject(credential: Json) -> Json:
    subject = _list(credential.get("credentialSubject"))
    return _dict(subject[0]) if subject else {}


def _facts(achievement: Json) -> list[tuple[str, str]]:
    hours = _text(achievement.get("workloadHours"))
    ects = _text(achievement.get("ectsCredits")) or _text(achievement.get("creditsAvailable"))
    pairs = [
        ("achievement_type", _text(achievement.get("achievementType"))),
        ("eqf_level", _text(achievement.get("eqfLevel"))),
        ("nqf_level", _text(achievement.get("nqfLevel"))),
        ("workload", f"{hours} h" if hours else None),
        ("ects", ects),
        ("assessment", _text(achievement.get("assessmentType"))),
        ("participation", _text(achievement.get("participationMode"))),
        ("field_of_study", _text(achievement.get("fieldOfStudy"))),
    ]
    return [(key, value) for key, value in pairs if value is not None]


def _outcomes(achievement: Json) -> list[Outcome]:
    found = []
    for alignment in map(_dict, _list(achievement.get("alignment"))):
        name = _text(alignment.get("targetName"))
        if name is None:
            continue
        url = _text(alignment.get("targetUrl"))
        safe_url = url if url and url.startswith(("https://", "http://")) else None
        framework = _text(alignment.get("targetFramework"))
        found.append(Outcome(name, safe_url, framework))
    return found


def _thresholds(achievement: Json, subject: Json) -> list[Threshold]:
    results = {
        _text(r.get("resultDescription")): r for r in map(_dict, _list(subject.get("result")))
    }
    found = []
    for description in map(_dict, _list(achievement.get("resultDescription"))):
        result = _dict(results.get(_text(description.get("id"))))
        value = _text(result.get("value")) or _text(result.get("achievedLevel"))
        name = _text(description.get("name")) or ""
        found.append(Threshold(name, _text(description.get("requiredValue")), value))
    return found


def _issuer(credential: Json) -> tuple[list[tuple[str, str]], str | None]:
    raw = credential.get("issuer")
    issuer = _dict(raw)
    ident = _text(issuer.get("id")) or _text(raw)
    address = _dict(issuer.get("address"))
    country = ", ".join(
        v for v in (_text(address.get("addressRegion")), _text(address.get("addressCountry"))) if v
    )
    pairs = [
        ("issuer_name", _text(issuer.get("name"))),
        ("issuer_id", ident),
        ("issuer_country", country or None),
    ]
    url = _text(issuer.get("url"))
    safe_url = url if url and url.startswith("https://") else None
    return [(key, value) for key, value in pairs if value is not None], safe_url


def _accreditation(trust: Json) -> tuple[str | None, str | None]:
    details = _dict(trust.get("details"))
    accreditation = _dict(details.get("accreditation"))
    if not accreditation or trust.get("outcome") != "ok":
        return None, None
    body = _text(_dict(accreditation.get("qualityAssuranceBody")).get("name"))
    until = _date(accreditation.get("validUntil"))
    ident = _text(accreditation.get("id"))
    label = " ".join(v for v in (ident, f"({until})" if until else None) if v)
    return body, label or None


def _endorsements(check: Json) -> list[Endorsement]:
    found = []
    for item in map(_dict, _list(_dict(check.get("details")).get("endorsements"))):
        endorser = _dict(item.get("endorser"))
        name = _text(endorser.get("name")) or _text(endorser.get("id")) or "?"
        verified = item.get("verified") is True and item.get("status") != "withdrawn"
        found.append(Endorsement(name, _text(item.get("comment")), verified))
    return found


def _learner(view: ResultView, subject: Json) -> None:
    view.learner_name = _text(subject.get("name"))
    view.learner_id = _text(subject.get("id"))
    identifiers = map(_dict, _list(subject.get("identifier")))
    view.learner_hashed = any(i.get("hashed") is True for i in identifiers)


def _dates(credential: Json) -> list[tuple[str, str]]:
    pairs = [
        ("awarded_on", _date(credential.get("awardedDate"))),
        ("valid_from", _date(credential.get("validFrom") or credential.get("issuanceDate"))),
        ("valid_until", _date(credential.get("validUntil") or credential.get("expirationDate"))),
    ]
    return [(key, value) for key, value in pairs if value is not None]


def _status_details(status: Json) -> list[tuple[str, str]]:
    """When and why it was revoked or suspended, when the report says so."""
    details = _dict(status.get("details"))
    pairs = [
        ("revoked_on", _date(details.get("changedAt") or details.get("since"))),
        ("reason", _text(details.get("reason"))),
    ]
    return [(key, value) for key, value in pairs if value is not None]


def _check_lines(report: Json) -> list[CheckLine]:
    lines = []
    for check in map(_dict, _list(report.get("results"))):
        name = str(check.get("check"))
        key = f"check.{name}" if name in KNOWN_CHECKS else "check.other"
        lines.append(CheckLine(name, str(check.get("outcome")), key, _text(check.get("reason"))))
    return lines


def result_view(report: Json, credential: Json | None) -> ResultView:
    """The page's reading of one report and the credential it checked."""
    state = str(report.get("state") or "malformed")
    view = ResultView(state if state in STATES else "malformed")
    checks = _checks(report)
    view.checks = _check_lines(report)
    view.status_details = _status_details(checks.get("status", {}))
    recipient = checks.get("recipient")
    view.recipient = None if recipient is None else str(recipient.get("outcome"))
    if credential is None:
        return view
    achievement, subject = _achievement(credential), _subject(credential)
    view.title = _text(achievement.get("name")) or _text(credential.get("name"))
    view.description = _text(achievement.get("description"))
    view.criteria = _text(_dict(achievement.get("criteria")).get("narrative"))
    view.facts = _facts(achievement)
    view.outcomes = _outcomes(achievement)
    view.thresholds = _thresholds(achievement, subject)
    view.issuer, view.issuer_url = _issuer(credential)
    trust = checks.get("trust", {})
    view.accredited_by, view.accreditation = _accreditation(trust)
    view.domain_linked = _dict(trust.get("details")).get("domainLinked") is True
    view.endorsements = _endorsements(checks.get("endorsements", {}))
    _learner(view, subject)
    view.dates = _dates(credential)
    return view
