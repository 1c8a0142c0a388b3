"""Micro-credential definitions: a request body to an OB 3.0 `Achievement`,
checked with the signed format's own rules (`shared.credentials.definitions`)."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from shared.credentials.builders import (
    CATALOG_TERMS,
    MICROCRED_TERMS,
    MicroCredentialTerms,
    build_achievement,
    build_alignment,
    build_result_description,
)
from shared.credentials.definitions import definition_errors
from shared.durations import Period, PeriodError, check_period
from shared.errors import InvalidField, InvalidFields

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
# Lists in the signed Achievement: well under the public verifier's default
# cap on a credential's arrays (128 items, MICROCRED_VERIFIER_MAX_ARRAY_LENGTH),
# so every credential of it can be verified there.
MAX_LIST = 64
Threshold = Annotated[float, msgspec.Meta(gt=0, le=1)]


class CriteriaIn(msgspec.Struct, forbid_unknown_fields=True):
    narrative: NonEmpty
    id: Text | None = None


class AlignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    targetName: NonEmpty
    targetUrl: NonEmpty
    targetType: Text | None = None
    targetCode: Text | None = None
    targetFramework: Text | None = None
    targetDescription: Text | None = None


class MicroCredentialIn(msgspec.Struct, forbid_unknown_fields=True):
    """EU 2022 elements OB 3.0 has no native field for (our extension context)."""

    eqfLevel: Annotated[int, msgspec.Meta(ge=1, le=8)] | None = None
    nqfLevel: Text | None = None
    workloadHours: Annotated[float, msgspec.Meta(gt=0)] | None = None
    ectsCredits: Annotated[float, msgspec.Meta(gt=0)] | None = None
    assessmentType: Text | None = None
    participationMode: Text | None = None
    qualityAssurance: Text | None = None
    prerequisites: Text | None = None
    supervisedAssessment: bool | None = None
    identityVerified: bool | None = None
    validityPeriod: Period | None = None
    furtherInformation: Text | None = None
    durationWeeks: Annotated[float, msgspec.Meta(gt=0)] | None = None
    assessmentPurpose: Text | None = None  # summative, formative


class AssessmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """How the mastery assessment is run: Open Badges Assessment Extension 2.0
    terms, written on the mastery `AssessmentResultDescription`."""

    evaluationMethod: NonEmpty | None = None
    assessmentOutput: NonEmpty | None = None
    hasGroupEvaluation: bool | None = None
    hasGroupParticipation: bool | None = None


class AchievementIn(msgspec.Struct, forbid_unknown_fields=True):
    issuerDid: NonEmpty
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    description: NonEmpty
    criteria: CriteriaIn
    masteryThreshold: Threshold
    alignment: Annotated[list[AlignmentIn], msgspec.Meta(max_length=MAX_LIST)] = []
    creditsAvailable: Annotated[float, msgspec.Meta(ge=0)] | None = None
    fieldOfStudy: Text | None = None
    humanCode: Text | None = None
    inLanguage: Text | None = None
    tag: Annotated[list[NonEmpty], msgspec.Meta(max_length=MAX_LIST)] = []
    image: Text | None = None
    version: Text | None = None
    achievementType: str = "MicroCredential"
    assessment: AssessmentIn | None = None
    microCredential: MicroCredentialIn | None = None


VALIDITY_PERIOD_PATH = "$.microCredential.validityPeriod"


def check_definition(body: AchievementIn) -> None:
    """The rule the schema cannot state: `validityPeriod` at most 100 years
    (shared.durations); PeriodError otherwise."""
    if body.microCredential is not None and body.microCredential.validityPeriod is not None:
        check_period(body.microCredential.validityPeriod)


def valid_document(body: AchievementIn, achievement_id: str, revision: int) -> dict[str, object]:
    """The Achievement for `body`, or `InvalidFields` naming every request
    member the credential builder, signer or verifier would refuse."""
    try:
        check_definition(body)
    except PeriodError as error:
        raise InvalidField(VALIDITY_PERIOD_PATH, str(error)) from None
    document = achievement_document(body, achievement_id, revision)
    errors = definition_errors(document)
    if errors:
        raise InvalidFields([(request_path(e.path or "$"), e.detail) for e in errors])
    return document


_TOP = re.compile(r"^\$\.([A-Za-z]+)")


def request_path(document_path: str) -> str:
    """Where in the request a member of the built Achievement came from:
    `$.image.id` is `$.image`, our terms sit under `$.microCredential`, the
    mastery `resultDescription` is `$.masteryThreshold` (or `$.assessment`),
    the awarding body (`$.issuer...`, its provider record) is `$.issuerDid`."""
    match = _TOP.match(document_path)
    member = match.group(1) if match else ""
    rest = document_path[match.end() :] if match else ""
    if member == "image":
        return "$.image"
    if member == "issuer":  # the awarding body: the issuer's provider record
        return "$.issuerDid"
    if member in MICROCRED_TERMS or member in CATALOG_TERMS - {"revision", "resultDate"}:
        return f"$.microCredential.{member}{rest}"
    if member == "resultDescription":
        assessment = rest.split(".")[-1] in AssessmentIn.__struct_fields__
        return f"$.assessment.{rest.split('.')[-1]}" if assessment else "$.masteryThreshold"
    if member in ("id", "type", "revision", ""):
        return "$"
    return document_path


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
        duration_weeks=extension.durationWeeks,
        assessment_purpose=extension.assessmentPurpose,
    )


def mastery_result_id(achievement_id: str) -> str:
    return f"{achievement_id}#mastery"


def achievement_document(
    body: AchievementIn, achievement_id: str, revision: int = 1
) -> dict[str, object]:
    """The OB 3.0 Achievement (§B.1.1) with its mastery threshold as a
    `ResultDescription` (§B.1.13: `requiredValue` of a `Percent` result) and
    the catalog's `revision` (microcred/catalog/v1), which credentials carry."""
    percent = round(body.masteryThreshold * 100, 4)
    assessment = msgspec.to_builtins(body.assessment) if body.assessment else None
    purpose = body.microCredential.assessmentPurpose if body.microCredential else None
    mastery = build_result_description(
        mastery_result_id(achievement_id),
        "Formative assessment" if purpose == "formative" else "Summative assessment",
        result_type="Percent",
        required_value=f"{percent:g}",
        value_min="0",
        value_max="100",
        assessment=assessment,
    )
    document = build_achievement(
        id=achievement_id,
        achievement_type=body.achievementType,
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
    return {**document, "revision": revision}
