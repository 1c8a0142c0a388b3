"""Open Badges 3.0 vocabulary: context URLs, types and enumerations.

Section numbers refer to OB 3.0 appendix B ("Data Models").
"""

from __future__ import annotations

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CONTEXTS = frozenset(
    {
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        OB_CONTEXT,
    }
)
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
MICROCRED_CONTEXT = "https://w3id.org/microcred/v1"
# Terms of the catalog's lifecycle and policy profiles (a context of its own,
# as microcred/v1 is pinned): `revision`, `durationWeeks`, `assessmentPurpose`,
# `resultDate`.
MICROCRED_CATALOG_CONTEXT = "https://w3id.org/microcred/catalog/v1"
# Open Badges Assessment Extension 2.0 (draft): an AssessmentResultDescription.
ASSESSMENT_CONTEXT = "https://purl.imsglobal.org/spec/ob-assessment/v2p0/context"
ASSESSMENT_RESULT_DESCRIPTION = "AssessmentResultDescription"
OB_SCHEMA_ID = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"

ACHIEVEMENT_CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})

# fmt: off
# §B.1.28 AchievementType (extensible with 'ext:').
ACHIEVEMENT_TYPES = frozenset({
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree",
    "Award", "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma",
    "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate",
    "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential",
    "ResearchDoctorate", "SecondarySchoolDiploma"
})
# §B.1.29 AlignmentTargetType (extensible).
ALIGNMENT_TARGET_TYPES = frozenset({
    "ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
    "CFRubricCriterionLevel", "CTDL"
})
# §B.1.30 IdentifierTypeEnum (extensible).
IDENTIFIER_TYPES = frozenset({
    "name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
    "nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId",
    "sisSourcedId", "ltiContextId", "ltiDeploymentId", "ltiToolId", "ltiPlatformId", "ltiUserId",
    "identifier"
})
# §B.1.31 ResultType (extensible).
RESULT_TYPES = frozenset({
    "GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore",
    "RawScore", "Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore", "ScaledScore",
    "Status"
})
# §B.1.32 ResultStatusType (closed).
RESULT_STATUSES = frozenset({
    "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"
})
# fmt: on
# Our extension (microcred-v1): EU 2022 Annex I "form of participation".
PARTICIPATION_MODES = frozenset({"online", "onsite", "blended", "volunteering", "workPlacement"})
# Ours (microcred/catalog/v1): what the assessment is for (Ontario's
# micro-credential principles ask for a summative one).
ASSESSMENT_PURPOSES = frozenset({"summative", "formative"})
# Open Badges Issuer Accreditation Extension 2.0 (draft; the drafts also
# spell it with a trailing slash: both are bundled).
ACCRED_CONTEXT = "https://purl.imsglobal.org/spec/ob-accred/v2p0/context"
