"""Micro-credential definitions: the request body and the OB 3.0 Achievement."""

from __future__ import annotations

import msgspec
import pytest

from services.catalog.domain import (
    AchievementIn,
    achievement_document,
    check_definition,
    request_path,
    valid_document,
)
from shared.credentials.builders import contexts_for
from shared.credentials.jsonld import expand
from shared.credentials.model import check_achievement
from shared.durations import PeriodError
from shared.errors import InvalidField, InvalidFields

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
    "microCredential": {
        "eqfLevel": 6,
        "workloadHours": 125,
        "ectsCredits": 5,
        "assessmentType": "supervised online exam",
        "participationMode": "online",
        "qualityAssurance": "internal QA, accredited provider",
        "validityPeriod": "P3Y",
    },
}
ID = "https://catalog.example/achievements/1"


def test_a_definition_becomes_a_micro_credential_achievement() -> None:
    document = achievement_document(msgspec.convert(BODY, AchievementIn), ID)
    assert check_achievement(document) == []
    assert document["achievementType"] == "MicroCredential"
    [mastery] = document["resultDescription"]
    assert (mastery["resultType"], mastery["requiredValue"]) == ("Percent", "90")
    assert document["eqfLevel"] == 6 and document["validityPeriod"] == "P3Y"
    # Every term is defined by a bundled context (safe mode raises otherwise).
    assert contexts_for(document) == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://w3id.org/microcred/v1",
        "https://w3id.org/microcred/catalog/v1",
    ]
    assert expand({"@context": contexts_for(document), **document})
    assert document["revision"] == 1


def _refusal(body: dict[str, object]) -> dict[str, str]:
    """The request paths and messages a refused definition names."""
    with pytest.raises(InvalidFields) as caught:
        valid_document(msgspec.convert(body, AchievementIn), ID, 1)
    errors = caught.value.extra["errors"]
    assert isinstance(errors, list)
    return {e["path"]: e["message"] for e in errors}


def test_what_made_awards_fail_is_refused_with_every_field_named() -> None:
    """Issue 9: `image: "logo"` and `criteria.id: "crit"` made every award
    500 (`relative_iri`); the other three were signed, then failed verification."""
    body = {
        **BODY,
        "image": "logo",
        "criteria": {"narrative": "Pass.", "id": "crit"},
        "inLanguage": "english!!",
        "alignment": [{"targetName": "x", "targetUrl": "not a url"}],
        "microCredential": {"participationMode": "by carrier pigeon"},
    }
    errors = _refusal(body)
    assert set(errors) == {
        "$.image",
        "$.criteria.id",
        "$.inLanguage",
        "$.alignment[0].targetUrl",
        "$.microCredential.participationMode",
    }
    assert "BCP 47" in errors["$.inLanguage"]
    assert "by carrier pigeon" in errors["$.microCredential.participationMode"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"inLanguage": "english!!"}, "$.inLanguage"),
        (
            {"microCredential": {"participationMode": "by carrier pigeon"}},
            "$.microCredential.participationMode",
        ),
        (
            {"alignment": [{"targetName": "x", "targetUrl": "not a url"}]},
            "$.alignment[0].targetUrl",
        ),
        ({"image": "logo"}, "$.image"),
        ({"criteria": {"narrative": "n", "id": "crit"}}, "$.criteria.id"),
        ({"achievementType": "NotAType"}, "$.achievementType"),
        (
            {
                "alignment": [
                    {"targetName": "x", "targetUrl": "https://a.example", "targetType": "Skill"}
                ]
            },
            "$.alignment[0].targetType",
        ),
        ({"microCredential": {"assessmentPurpose": "fun"}}, "$.microCredential.assessmentPurpose"),
    ],
)
def test_each_input_the_verifier_refuses_is_refused_at_its_path(
    change: dict[str, object], path: str
) -> None:
    assert list(_refusal({**BODY, **change})) == [path]


def test_a_validity_period_over_the_limit_is_one_invalid_field() -> None:
    body = msgspec.convert({**BODY, "microCredential": {"validityPeriod": "P101Y"}}, AchievementIn)
    with pytest.raises(InvalidField) as caught:
        valid_document(body, ID, 1)
    [error] = caught.value.extra["errors"]  # type: ignore[misc]
    assert error["path"] == "$.microCredential.validityPeriod"
    assert "longer than 100 years" in error["message"]


@pytest.mark.parametrize(
    ("document_path", "request_member"),
    [
        ("$.image.id", "$.image"),
        ("$.eqfLevel", "$.microCredential.eqfLevel"),
        ("$.durationWeeks", "$.microCredential.durationWeeks"),
        ("$.resultDescription[0].requiredValue", "$.masteryThreshold"),
        ("$.resultDescription[0].evaluationMethod", "$.assessment.evaluationMethod"),
        ("$.tag[2]", "$.tag[2]"),
        ("$.id", "$"),
        ("$.issuer.accreditations", "$.issuerDid"),
    ],
)
def test_document_paths_name_request_members(document_path: str, request_member: str) -> None:
    assert request_path(document_path) == request_member


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("masteryThreshold", 0),
        ("masteryThreshold", 90),
        ("name", ""),
        ("unknownField", 1),
        # more than the verifier's arrays may hold in a credential it checks
        ("tag", [f"t{n}" for n in range(65)]),
        ("alignment", [BODY["alignment"][0]] * 65),
        ("tag", [""]),
        ("fieldOfStudy", "x" * 2001),
    ],
)
def test_bad_definitions_are_refused(field: str, value: object) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**BODY, field: value}, AchievementIn)


@pytest.mark.parametrize("period", ["3 years", "P", "PT5H", "P1W", "-P1Y"])
def test_validity_periods_must_be_calendar_durations(period: str) -> None:
    body = {**BODY, "microCredential": {"validityPeriod": period}}
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(body, AchievementIn)


@pytest.mark.parametrize("period", ["P100Y", "P1200M", "P36525D"])
def test_a_validity_of_up_to_100_years_is_accepted(period: str) -> None:
    body = msgspec.convert({**BODY, "microCredential": {"validityPeriod": period}}, AchievementIn)
    check_definition(body)


@pytest.mark.parametrize(
    "period", ["P101Y", "P1201M", "P36526D", "P9999999Y", "P" + "9" * 30 + "Y"]
)
def test_a_validity_over_100_years_is_refused(period: str) -> None:
    body = msgspec.convert({**BODY, "microCredential": {"validityPeriod": period}}, AchievementIn)
    with pytest.raises(PeriodError, match="longer than 100 years"):
        check_definition(body)


def test_no_validity_period_needs_no_check() -> None:
    check_definition(msgspec.convert({**BODY, "microCredential": {}}, AchievementIn))
    check_definition(
        msgspec.convert({k: v for k, v in BODY.items() if k != "microCredential"}, AchievementIn)
    )


@pytest.mark.parametrize("period", ["P0D", "P0Y0M0D", "P00Y"])
def test_a_zero_validity_period_is_refused(period: str) -> None:
    """It would read as "never expires": no period is how to say that."""
    body = msgspec.convert({**BODY, "microCredential": {"validityPeriod": period}}, AchievementIn)
    with pytest.raises(PeriodError, match="zero period"):
        check_definition(body)
