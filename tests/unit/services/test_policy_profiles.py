"""Policy profiles (issue 9): per profile, a complete definition passes and
removing each mandatory element fails with that element named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from services.catalog.domain import AchievementIn, achievement_document
from shared.policy_profiles import (
    DEFAULT_PROFILE,
    AwardingBody,
    award_gaps,
    definition_gaps,
    profile_of,
)

ID = "https://catalog.example/achievements/p"
BODY = {
    "issuerDid": "did:key:z6MkexampleIssuer",
    "name": "Applied Data Protection",
    "description": "Apply GDPR principles in an SME.",
    "criteria": {"narrative": "Pass the final assessment with at least 90%."},
    "masteryThreshold": 0.9,
    "alignment": [
        {
            "targetName": "apply data protection legislation",
            "targetUrl": "http://data.europa.eu/esco/skill/example",
            "targetType": "ext:ESCOSkill",
        }
    ],
    "creditsAvailable": 5,
    "assessment": {"evaluationMethod": "Proctored exam", "hasGroupEvaluation": False},
    "microCredential": {
        "eqfLevel": 6,
        "workloadHours": 125,
        "ectsCredits": 5,
        "assessmentType": "supervised online exam",
        "participationMode": "online",
        "qualityAssurance": "internal QA, accredited provider",
        "durationWeeks": 8,
        "assessmentPurpose": "summative",
    },
}
BODY_FACTS = AwardingBody(name="Poly", country="NL", accredited=True)
Doc = dict[str, Any]
Change = Callable[[Doc, AwardingBody], tuple[Doc, AwardingBody]]


def complete() -> Doc:
    return achievement_document(msgspec.convert(BODY, AchievementIn), ID, 1)


def without(*keys: str) -> Change:
    return lambda d, b: ({k: v for k, v in d.items() if k not in keys}, b)


def plain_mastery(d: Doc, b: AwardingBody) -> tuple[Doc, AwardingBody]:
    """The mastery ResultDescription without the Assessment Extension."""
    [rd] = d["resultDescription"]
    plain = {k: v for k, v in rd.items() if k not in ("evaluationMethod", "hasGroupEvaluation")}
    return {**d, "resultDescription": [{**plain, "type": ["ResultDescription"]}]}, b


def no_threshold(d: Doc, b: AwardingBody) -> tuple[Doc, AwardingBody]:
    [rd] = d["resultDescription"]
    return {**d, "resultDescription": [{k: v for k, v in rd.items() if k != "requiredValue"}]}, b


CASES: list[tuple[str, str, Change]] = [
    ("eu-2022", "title", without("name")),
    (
        "eu-2022",
        "country or region of the awarding body",
        lambda d, b: (d, replace(b, country=None)),
    ),
    ("eu-2022", "awarding body", lambda d, b: (d, replace(b, name=None))),
    ("eu-2022", "learning outcomes", without("description")),
    (
        "eu-2022",
        "notional workload (ECTS where possible)",
        without("ectsCredits", "workloadHours", "creditsAvailable"),
    ),
    ("eu-2022", "level (EQF/NQF)", without("eqfLevel", "nqfLevel")),
    ("eu-2022", "type of assessment", without("assessmentType")),
    ("eu-2022", "form of participation", without("participationMode")),
    ("eu-2022", "type of quality assurance", without("qualityAssurance")),
    ("eu-2022", "mastery threshold (MicroCredential)", no_threshold),
    ("ontario", "at most 12 weeks of learning", without("durationWeeks")),
    ("ontario", "at most 12 weeks of learning", lambda d, b: ({**d, "durationWeeks": 13}, b)),
    ("ontario", "competencies aligned", without("alignment")),
    ("ontario", "summative assessment", without("assessmentPurpose")),
    ("ontario", "summative assessment", lambda d, b: ({**d, "assessmentPurpose": "formative"}, b)),
    (
        "ontario",
        "assessment (MicroCredential)",
        lambda d, b: plain_mastery(*without("assessmentType")(d, b)),
    ),
    ("trusted-credential", "achievementType", without("achievementType")),
    ("trusted-credential", "alignment to an external framework by URI", without("alignment")),
    ("trusted-credential", "resultDescription", without("resultDescription")),
    ("trusted-credential", "criteria", without("criteria")),
    ("trusted-credential", "assessment details (Assessment Extension 2.0)", plain_mastery),
    (
        "trusted-credential",
        "accreditors (Issuer Accreditation Extension 2.0)",
        lambda d, b: (d, replace(b, accredited=False)),
    ),
]


@pytest.mark.parametrize("profile", ["badge", "eu-2022", "ontario", "trusted-credential"])
def test_a_complete_definition_passes(profile: str) -> None:
    assert definition_gaps(profile, complete(), BODY_FACTS) == []


@pytest.mark.parametrize(("profile", "element", "change"), CASES)
def test_removing_a_mandatory_element_fails_naming_it(
    profile: str, element: str, change: Change
) -> None:
    document, facts = change(complete(), BODY_FACTS)
    gaps = definition_gaps(profile, document, facts)
    assert element in [named for gap in gaps for named in gap.element.split("; ")], gaps
    assert all(gap.path.startswith("$") for gap in gaps)
    assert len({gap.path for gap in gaps}) == len(gaps), gaps  # one gap per member


def test_badge_has_no_gate() -> None:
    bare = {"id": ID, "type": ["Achievement"], "achievementType": "MicroCredential"}
    assert definition_gaps("badge", bare, AwardingBody(None, None, False)) == []
    assert award_gaps("badge", {}) == []


def test_unknown_or_missing_profiles_are_the_default() -> None:
    assert DEFAULT_PROFILE == "badge"
    assert profile_of(None) == profile_of("nope") == "badge"
    assert profile_of("ontario") == "ontario"


CREDENTIAL: Doc = {
    "validFrom": "2026-12-01T10:00:00Z",
    "awardedDate": "2026-12-01T10:00:00Z",
    "issuer": {"id": "did:key:z", "accreditations": [{"id": "urn:x"}]},
    "evidence": [{"type": ["Evidence"], "narrative": "Portfolio reviewed"}],
    "credentialSubject": {
        "identifier": [{"type": "IdentityObject"}],
        "result": [{"type": ["Result"], "resultDate": "2026-11-30T10:00:00Z"}],
    },
}

AWARD_CASES: list[tuple[str, str, Callable[[Doc], Doc]]] = [
    ("eu-2022", "identification of the learner", lambda c: {**c, "credentialSubject": {}}),
    ("eu-2022", "date of issue", lambda c: {k: v for k, v in c.items() if k != "validFrom"}),
    (
        "trusted-credential",
        "awardedDate",
        lambda c: {k: v for k, v in c.items() if k != "awardedDate"},
    ),
    ("trusted-credential", "at least one evidence", lambda c: {**c, "evidence": []}),
    (
        "trusted-credential",
        "a result with resultDate",
        lambda c: {
            **c,
            "credentialSubject": {"identifier": [{}], "result": [{"type": ["Result"]}]},
        },
    ),
    (
        "trusted-credential",
        "accreditors (Issuer Accreditation Extension 2.0)",
        lambda c: {**c, "issuer": {"id": "did:key:z"}},
    ),
]


@pytest.mark.parametrize("profile", ["badge", "eu-2022", "ontario", "trusted-credential"])
def test_a_complete_award_passes(profile: str) -> None:
    assert award_gaps(profile, CREDENTIAL) == []


@pytest.mark.parametrize(("profile", "element", "change"), AWARD_CASES)
def test_an_award_missing_an_element_fails_naming_it(
    profile: str, element: str, change: Callable[[Doc], Doc]
) -> None:
    assert element in [gap.element for gap in award_gaps(profile, change(CREDENTIAL))]
