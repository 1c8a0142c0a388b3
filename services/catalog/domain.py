"""Micro-credential definitions: a request body to an OB 3.0 `Achievement`."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.credentials.builders import (
    MicroCredentialTerms,
    build_achievement,
    build_alignment,
    build_result_description,
)
from shared.durations import Period, check_period

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Threshold = Annotated[float, msgspec.Meta(gt=0, le=1)]


class CriteriaIn(msgspec.Struct, forbid_unknown_fields=True):
    narrative: NonEmpty
    id: str | None = None


class AlignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    targetName: NonEmpty
    targetUrl: NonEmpty
    targetType: str | None = None
    targetCode: str | None = None
    targetFramework: str | None = None
    targetDescription: str | None = None


class MicroCredentialIn(msgspec.Struct, forbid_unknown_fields=True):
    """EU 2022 elements OB 3.0 has no native field for (our extension context)."""

    eqfLevel: Annotated[int, msgspec.Meta(ge=1, le=8)] | None = None
    nqfLevel: str | None = None
    workloadHours: Annotated[float, msgspec.Meta(gt=0)] | None = None
    ectsCredits: Annotated[float, msgspec.Meta(gt=0)] | None = None
    assessmentType: str | None = None
    participationMode: str | None = None
    qualityAssurance: str | None = None
    prerequisites: str | None = None
    supervisedAssessment: bool | None = None
    identityVerified: bool | None = None
    validityPeriod: Period | None = None
    furtherInformation: str | None = None


class AchievementIn(msgspec.Struct, forbid_unknown_fields=True):
    issuerDid: NonEmpty
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    description: NonEmpty
    criteria: CriteriaIn
    masteryThreshold: Threshold
    alignment: list[AlignmentIn] = []
    creditsAvailable: Annotated[float, msgspec.Meta(ge=0)] | None = None
    fieldOfStudy: str | None = None
    humanCode: str | None = None
    inLanguage: str | None = None
    tag: list[str] = []
    image: str | None = None
    version: str | None = None
    microCredential: MicroCredentialIn | None = None


VALIDITY_PERIOD_PATH = "$.microCredential.validityPeriod"


def check_definition(body: AchievementIn) -> None:
    """The rule the schema cannot state: `validityPeriod` at most 100 years
    (shared.durations); PeriodError otherwise."""
    if body.microCredential is not None and body.microCredential.validityPeriod is not None:
        check_period(body.microCredential.validityPeriod)


def _terms(extension: MicroCredentialIn | None) -> MicroCredentialTerms | None:
    if extension is None:
        return None
    return MicroCredentialTerms(
        eqf_level=extension.eqfLevel,
        nqf_level=extension.nqfLevel,
        workload_hours=extension.workloadHours,
        ects_credits=extension.ectsCredits,
        assessment_type=extension.assessmentType,
        participation_mode=extension.participationMode,
        quality_assurance=extension.qualityAssurance,
        prerequisites=extension.prerequisites,
        supervised_assessment=extension.supervisedAssessment,
        identity_verified=extension.identityVerified,
        validity_period=extension.validityPeriod,
        further_information=extension.furtherInformation,
    )


def mastery_result_id(achievement_id: str) -> str:
    return f"{achievement_id}#mastery"


def achievement_document(body: AchievementIn, achievement_id: str) -> dict[str, object]:
    """The OB 3.0 Achievement (§B.1.1) with its mastery threshold as a
    `ResultDescription` (§B.1.13: `requiredValue` of a `Percent` result)."""
    percent = round(body.masteryThreshold * 100, 4)
    mastery = build_result_description(
        mastery_result_id(achievement_id),
        "Summative assessment",
        result_type="Percent",
        required_value=f"{percent:g}",
        value_min="0",
        value_max="100",
    )
    return build_achievement(
        id=achievement_id,
        name=body.name,
        description=body.description,
        criteria_narrative=body.criteria.narrative,
        criteria_id=body.criteria.id,
        alignments=[
            build_alignment(
                a.targetName,
                a.targetUrl,
                target_type=a.targetType,
                target_code=a.targetCode,
                target_framework=a.targetFramework,
                target_description=a.targetDescription,
            )
            for a in body.alignment
        ],
        result_descriptions=[mastery],
        credits_available=body.creditsAvailable,
        field_of_study=body.fieldOfStudy,
        human_code=body.humanCode,
        image=body.image,
        in_language=body.inLanguage,
        tags=body.tag,
        version=body.version,
        microcred=_terms(body.microCredential),
    )
