"""What the verification page shows: a verification report read for people.

`result_view` turns one report (the JSON the API answers: `state`,
`stateDetails`, `results` and the `credential` summary) into plain values for
the templates: the verdict, what the credential certifies, who issued and
accredited it, endorsements, the learner, dates, and each check.  It only
picks values out of the report: reading inputs, verifying and summarising
them is the verifier's job (`intake.py`, `verification.py`,
`shared.credentials.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from shared.credentials.report import State

STATES: tuple[str, ...] = get_args(State)  # one list of states: shared/credentials/report.py
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
    # The check an `untrusted` headline is about (`UNTRUSTED_BY`).
    untrusted_by: str | None = None

    @property
    def has_credential(self) -> bool:
        return self.title is not None or bool(self.issuer)

    @property
    def headline(self) -> str:
        """The catalogue key suffix of the headline and its advice:
        `state.<headline>`, `advice.<headline>`."""
        return f"untrusted.{self.untrusted_by}" if self.untrusted_by else self.state


# What an `untrusted` headline names, the most telling for a reader first
# (the API's `stateDetails.check` is the first in the report's order): a name
# copied from a registered provider, a learner who is not the one asked
# about, an endorsement that fails, then the issuer's accreditation.
UNTRUSTED_BY = ("impersonation", "recipient", "endorsements", "trust", "achievement_known")


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


def _outcomes(alignments: object) -> list[Outcome]:
    found = []
    for alignment in map(_dict, _list(alignments)):
        name = _text(alignment.get("name"))
        if name is None:
            continue
        url = _text(alignment.get("targetUrl"))
        safe_url = url if url and url.startswith(("https://", "http://")) else None
        found.append(Outcome(name, safe_url, _text(alignment.get("framework"))))
    return found


def _thresholds(achievement: Json) -> list[Threshold]:
    threshold = _dict(achievement.get("masteryThreshold"))
    result = _dict(achievement.get("result"))
    value = _text(result.get("value")) or _text(result.get("achievedLevel"))
    if not threshold and value is None:
        return []
    required = _text(threshold.get("requiredValue"))
    return [Threshold(_text(threshold.get("name")) or "", required, value)]


def _issuer(provider: Json) -> tuple[list[tuple[str, str]], str | None]:
    pairs = [
        ("issuer_name", _text(provider.get("name"))),
        ("issuer_id", _text(provider.get("id"))),
        ("issuer_country", _text(provider.get("country"))),
    ]
    url = _text(provider.get("url"))
    safe_url = url if url and url.startswith("https://") else None
    return [(key, value) for key, value in pairs if value is not None], safe_url


def _accreditation(trust: Json) -> tuple[str | None, str | None]:
    accreditation = _dict(trust.get("accreditation"))
    if not accreditation or trust.get("level") != "accredited":
        return None, None
    body = _text(_dict(accreditation.get("qualityAssuranceBody")).get("name"))
    until = _date(accreditation.get("validUntil"))
    ident = _text(accreditation.get("id"))
    label = " ".join(v for v in (ident, f"({until})" if until else None) if v)
    return body, label or None


def _endorsements(endorsements: object) -> list[Endorsement]:
    found = []
    for item in map(_dict, _list(endorsements)):
        name = _text(item.get("endorser")) or _text(item.get("endorserId")) or "?"
        verified = item.get("verified") is True and item.get("status") != "withdrawn"
        found.append(Endorsement(name, None, verified))
    return found


def _learner(view: ResultView, learner: Json) -> None:
    view.learner_name = _text(learner.get("name"))
    view.learner_id = _text(learner.get("id"))
    view.learner_hashed = "hashedEmail" in _list(learner.get("identifierTypes"))


def _dates(dates: Json) -> list[tuple[str, str]]:
    pairs = [
        ("awarded_on", _date(dates.get("awardedDate"))),
        ("valid_from", _date(dates.get("validFrom"))),
        ("valid_until", _date(dates.get("validUntil"))),
    ]
    return [(key, value) for key, value in pairs if value is not None]


def _status_details(state: str, state_details: Json) -> list[tuple[str, str]]:
    """When and why it was revoked or suspended, when the report says so."""
    reason = _dict(state_details.get("reason"))  # {code, text}: the public reason
    pairs = [
        (f"{state}_on", _date(state_details.get("since"))),
        ("reason", _text(reason.get("text")) or _text(reason.get("code"))),
    ]
    return [(key, value) for key, value in pairs if value is not None]


def _check_lines(report: Json) -> list[CheckLine]:
    lines = []
    for check in map(_dict, _list(report.get("results"))):
        name = str(check.get("check"))
        key = f"check.{name}" if name in KNOWN_CHECKS else "check.other"
        lines.append(CheckLine(name, str(check.get("outcome")), key, _text(check.get("reason"))))
    return lines


def result_view(report: Json) -> ResultView:
    """The page's reading of one report: its `state`, `stateDetails`, checks
    and, when the proof verified, its `credential` summary (what the verifier
    read from the signed document, `shared.credentials.summary`)."""
    state = str(report.get("state") or "malformed")
    view = ResultView(state if state in STATES else "malformed")
    view.checks = _check_lines(report)
    if view.state in ("revoked", "suspended"):
        view.status_details = _status_details(view.state, _dict(report.get("stateDetails")))
    checks = _checks(report)
    recipient = checks.get("recipient")
    view.recipient = None if recipient is None else str(recipient.get("outcome"))
    if view.state == "untrusted":
        view.untrusted_by = next(
            (name for name in UNTRUSTED_BY if checks.get(name, {}).get("outcome", "ok") != "ok"),
            None,
        )
    summary = _dict(report.get("credential"))
    if not summary:
        return view
    achievement = _dict(summary.get("achievement"))
    view.title = _text(achievement.get("name")) or _text(summary.get("name"))
    view.description = _text(achievement.get("description"))
    view.criteria = _text(achievement.get("criteria"))
    view.facts = _facts(achievement)
    view.outcomes = _outcomes(summary.get("alignments"))
    view.thresholds = _thresholds(achievement)
    view.issuer, view.issuer_url = _issuer(_dict(summary.get("provider")))
    trust = _dict(summary.get("accreditation"))
    view.accredited_by, view.accreditation = _accreditation(trust)
    view.domain_linked = trust.get("domainLinked") is True
    view.endorsements = _endorsements(summary.get("endorsements"))
    _learner(view, _dict(summary.get("learner")))
    view.dates = _dates(_dict(summary.get("dates")))
    return view
