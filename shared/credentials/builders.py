"""Builders for Open Badges 3.0 micro-credentials (unsigned JSON).

They produce plain dicts in the VC 2.0 form of OB 3.0 (appendix B of the
spec), with our microcred-v1 extension terms (EU 2022 Council Recommendation,
Annex I) on the Achievement when given.  Every term they write is defined by
one of the contexts they list, so JSON-LD expansion drops nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from shared.credentials.vocab import (
    ACCRED_CONTEXT,
    ASSESSMENT_CONTEXT,
    ASSESSMENT_RESULT_DESCRIPTION,
    MICROCRED_CATALOG_CONTEXT,
    MICROCRED_CONTEXT,
    OB_CONTEXT,
    OB_EXTENSIONS_CONTEXT,
    OB_SCHEMA_ID,
    OB_SCHEMA_TYPE,
    VC_V2_CONTEXT,
)

Json = dict[str, object]

# field name -> term of contexts/microcred-v1.jsonld
_TERMS = {
    "eqf_level": "eqfLevel",
    "nqf_level": "nqfLevel",
    "workload_hours": "workloadHours",
    "ects_credits": "ectsCredits",
    "assessment_type": "assessmentType",
    "participation_mode": "participationMode",
    "quality_assurance": "qualityAssurance",
    "prerequisites": "prerequisites",
    "supervised_assessment": "supervisedAssessment",
    "identity_verified": "identityVerified",
    "stackable_into": "stackableInto",
    "validity_period": "validityPeriod",
    "further_information": "furtherInformation",
}
MICROCRED_TERMS = frozenset(_TERMS.values())
# field name -> term of contexts/microcred-catalog-v1.jsonld
_CATALOG_TERMS = {
    "duration_weeks": "durationWeeks",
    "assessment_purpose": "assessmentPurpose",
}
CATALOG_TERMS = frozenset({*_CATALOG_TERMS.values(), "revision", "resultDate"})


@dataclass(frozen=True)
class MicroCredentialTerms:
    """EU 2022 micro-credential elements that OB 3.0 has no field for.

    ``participation_mode``: online, onsite, blended, volunteering, workPlacement;
    ``validity_period``: an ISO 8601 duration such as ``P3Y``;
    ``stackable_into``: ids (URIs) of the achievements this one stacks into.
    """

    eqf_level: int | None = None
    nqf_level: str | None = None
    workload_hours: float | None = None
    ects_credits: float | None = None
    assessment_type: str | None = None
    participation_mode: str | None = None
    quality_assurance: str | None = None
    prerequisites: str | None = None
    supervised_assessment: bool | None = None
    identity_verified: bool | None = None
    stackable_into: tuple[str, ...] = ()
    validity_period: str | None = None
    further_information: str | None = None
    duration_weeks: float | None = None  # learning time in weeks (Ontario: at most 12)
    assessment_purpose: str | None = None  # summative or formative

    def to_json(self) -> Json:
        out: Json = {}
        for each in fields(self):
            value = getattr(self, each.name)
            if value is None or value == ():
                continue
            term = _TERMS.get(each.name) or _CATALOG_TERMS[each.name]
            out[term] = list(value) if isinstance(value, tuple) else value
        return out


def _compact(pairs: Iterable[tuple[str, object]]) -> Json:
    """The pairs whose value is set (None and empty sequences left out)."""
    return {k: v for k, v in pairs if v is not None and v != [] and v != ()}


def format_datetime(moment: datetime) -> str:
    """XSD dateTimeStamp in UTC with second precision (``2025-01-31T12:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_profile(
    id: str,
    name: str,
    *,
    url: str | None = None,
    email: str | None = None,
    description: str | None = None,
    image: str | None = None,
    country: str | None = None,
    country_code: str | None = None,
    region: str | None = None,
    locality: str | None = None,
) -> Json:
    """§B.1.14 Profile; the address (§B.1.4) carries the EU "country of the issuer"."""
    address = _compact(
        [
            ("addressCountry", country),
            ("addressCountryCode", country_code),
            ("addressRegion", region),
            ("addressLocality", locality),
        ]
    )
    if address:
        address = {"type": ["Address"], **address}
    return _compact(
        [
            ("id", id),
            ("type", ["Profile"]),
            ("name", name),
            ("url", url),
            ("email", email),
            ("description", description),
            ("image", {"id": image, "type": "Image"} if image else None),
            ("address", address or None),
        ]
    )


def build_alignment(
    target_name: str,
    target_url: str,
    *,
    target_type: str | None = None,
    target_code: str | None = None,
    target_framework: str | None = None,
    target_description: str | None = None,
) -> Json:
    """§B.1.5 Alignment, e.g. to an ESCO skill (``targetType="ext:ESCOSkill"``)."""
    return _compact(
        [
            ("type", ["Alignment"]),
            ("targetName", target_name),
            ("targetUrl", target_url),
            ("targetType", target_type),
            ("targetCode", target_code),
            ("targetFramework", target_framework),
            ("targetDescription", target_description),
        ]
    )


def build_result_description(
    id: str,
    name: str,
    *,
    result_type: str = "Percent",
    required_value: str | None = None,
    allowed_values: Sequence[str] = (),
    value_min: str | None = None,
    value_max: str | None = None,
    assessment: Mapping[str, object] | None = None,
) -> Json:
    """§B.1.17 ResultDescription (values are strings in OB 3.0); with
    `assessment` details (Open Badges Assessment Extension 2.0 terms such as
    `evaluationMethod`) it is also an `AssessmentResultDescription`."""
    types = ["ResultDescription", ASSESSMENT_RESULT_DESCRIPTION] if assessment else None
    described = _compact(
        [
            ("id", id),
            ("type", types or ["ResultDescription"]),
            ("name", name),
            ("resultType", result_type),
            ("allowedValue", list(allowed_values)),
            ("requiredValue", required_value),
            ("valueMin", value_min),
            ("valueMax", value_max),
        ]
    )
    return {**described, **_compact((assessment or {}).items())}


def build_result(
    *,
    result_description: str | None = None,
    value: str | None = None,
    status: str | None = "Completed",
    achieved_level: str | None = None,
    result_date: datetime | None = None,
) -> Json:
    """§B.1.16 Result; ``result_description`` is the id of one of the achievement's.
    ``result_date`` (`resultDate`, microcred/catalog/v1: the TrustEd Credential
    profile asks for it; OB 3.0 has no term) is when the result was reached."""
    return _compact(
        [
            ("type", ["Result"]),
            ("resultDescription", result_description),
            ("value", value),
            ("status", status),
            ("achievedLevel", achieved_level),
            ("resultDate", _maybe_datetime(result_date)),
        ]
    )


def build_evidence(
    *,
    id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    narrative: str | None = None,
    genre: str | None = None,
) -> Json:
    """§B.1.10 Evidence: a link (`id`, a URL) and/or a description."""
    return _compact(
        [
            ("id", id),
            ("type", ["Evidence"]),
            ("name", name),
            ("description", description),
            ("narrative", narrative),
            ("genre", genre),
        ]
    )


def build_identifier_entry(identifier: str, identifier_type: str) -> Json:
    """§B.1.11 IdentifierEntry (``otherIdentifier`` of achievements and profiles)."""
    return {"type": "IdentifierEntry", "identifier": identifier, "identifierType": identifier_type}


def build_related(id: str, *, in_language: str | None = None, version: str | None = None) -> Json:
    """§B.1.15 Related: another edition or version of an achievement."""
    return _compact(
        [("id", id), ("type", ["Related"]), ("inLanguage", in_language), ("version", version)]
    )


def build_achievement(
    *,
    id: str,
    name: str,
    description: str,
    criteria_narrative: str | None = None,
    criteria_id: str | None = None,
    achievement_type: str = "MicroCredential",
    alignments: Sequence[Json] = (),
    result_descriptions: Sequence[Json] = (),
    credits_available: float | None = None,
    field_of_study: str | None = None,
    human_code: str | None = None,
    image: str | None = None,
    in_language: str | None = None,
    tags: Sequence[str] = (),
    creator: Json | None = None,
    version: str | None = None,
    other_identifiers: Sequence[Json] = (),
    related: Sequence[Json] = (),
    microcred: MicroCredentialTerms | None = None,
) -> Json:
    """§B.1.1 Achievement; ``credits_available`` carries ECTS credits by our convention."""
    if not criteria_narrative and not criteria_id:
        raise ValueError("criteria needs a narrative or an id (§B.1.6)")
    criteria = _compact([("id", criteria_id), ("narrative", criteria_narrative)])
    achievement = _compact(
        [
            ("id", id),
            ("type", ["Achievement"]),
            ("achievementType", achievement_type),
            ("name", name),
            ("description", description),
            ("criteria", criteria),
            ("image", {"id": image, "type": "Image"} if image else None),
            ("creditsAvailable", credits_available),
            ("fieldOfStudy", field_of_study),
            ("humanCode", human_code),
            ("inLanguage", in_language),
            ("version", version),
            ("tag", list(tags)),
            ("creator", creator),
            ("alignment", list(alignments)),
            ("resultDescription", list(result_descriptions)),
            ("otherIdentifier", list(other_identifiers)),
            ("related", list(related)),
        ]
    )
    if microcred is not None:
        achievement.update(microcred.to_json())
    return achievement


def build_credential(
    *,
    issuer: Json,
    achievement: Json,
    valid_from: datetime,
    subject_id: str | None = None,
    identifiers: Sequence[Json] = (),
    credential_id: str | None = None,
    valid_until: datetime | None = None,
    awarded_date: datetime | None = None,
    name: str | None = None,
    description: str | None = None,
    results: Sequence[Json] = (),
    credits_earned: float | None = None,
    activity_start: datetime | None = None,
    activity_end: datetime | None = None,
    credential_status: Json | None = None,
    credential_schema: bool = True,
    evidence: Sequence[Json] = (),
) -> Json:
    """An unsigned ``OpenBadgeCredential`` (§B.1.2) awarding ``achievement``.

    The learner is ``subject_id`` (e.g. a DID) and/or hashed ``identifiers``
    (see ``recipients.hash_identity``); ``credential_status`` is an entry such
    as a ``BitstringStatusListEntry``.
    """
    if valid_until is not None and valid_until < valid_from:
        raise ValueError("validUntil is before validFrom")
    subject = build_subject(
        achievement=achievement,
        subject_id=subject_id,
        identifiers=identifiers,
        results=results,
        credits_earned=credits_earned,
        activity_start=activity_start,
        activity_end=activity_end,
    )
    credential = _compact(
        [
            ("@context", []),  # filled in below, once the terms in use are known
            ("id", credential_id or f"urn:uuid:{uuid.uuid4()}"),
            ("type", ["VerifiableCredential", "OpenBadgeCredential"]),
            ("name", name or achievement.get("name")),
            ("description", description),
            ("issuer", issuer),
            ("validFrom", format_datetime(valid_from)),
            ("validUntil", _maybe_datetime(valid_until)),
            ("awardedDate", _maybe_datetime(awarded_date)),
            ("credentialSubject", subject),
            ("credentialStatus", credential_status),
            ("credentialSchema", [_schema_entry()] if credential_schema else None),
            ("evidence", list(evidence)),
        ]
    )
    return {"@context": contexts_for(credential), **credential}


def build_subject(
    *,
    achievement: Json,
    subject_id: str | None = None,
    identifiers: Sequence[Json] = (),
    results: Sequence[Json] = (),
    credits_earned: float | None = None,
    activity_start: datetime | None = None,
    activity_end: datetime | None = None,
) -> Json:
    """§B.1.3 AchievementSubject: the learner (``id`` and/or ``identifier``)."""
    if not subject_id and not identifiers:
        raise ValueError("the subject needs an id or at least one identifier (§B.1.3)")
    return _compact(
        [
            ("id", subject_id),
            ("type", ["AchievementSubject"]),
            ("identifier", list(identifiers)),
            ("achievement", achievement),
            ("result", list(results)),
            ("creditsEarned", credits_earned),
            ("activityStartDate", _maybe_datetime(activity_start)),
            ("activityEndDate", _maybe_datetime(activity_end)),
        ]
    )


def contexts_for(document: Mapping[str, object]) -> list[str]:
    """The contexts a built credential needs, in order (one walk of it)."""
    found = _Vocabulary()
    found.walk(document)
    contexts = [VC_V2_CONTEXT, OB_CONTEXT]
    if "credentialSchema" in document:
        contexts.append(OB_EXTENSIONS_CONTEXT)  # defines 1EdTechJsonSchemaValidator2019
    if found.keys & MICROCRED_TERMS:
        contexts.append(MICROCRED_CONTEXT)
    if found.keys & CATALOG_TERMS:
        contexts.append(MICROCRED_CATALOG_CONTEXT)
    if ASSESSMENT_RESULT_DESCRIPTION in found.types:
        contexts.append(ASSESSMENT_CONTEXT)
    if found.accreditations and ACCRED_CONTEXT not in contexts:
        contexts.append(ACCRED_CONTEXT)
    return contexts


@dataclass
class _Vocabulary:
    """The keys and types used anywhere in a document, and whether an
    object outside its embedded endorsements (which carry their own
    contexts) lists accreditations."""

    keys: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    accreditations: bool = False

    def walk(self, value: object, endorsed: bool = False) -> None:
        if isinstance(value, Mapping):
            self.keys.update(value)
            kind = value.get("type")
            if isinstance(kind, str):
                self.types.add(kind)
            elif isinstance(kind, list):
                self.types.update(k for k in kind if isinstance(k, str))
            if not endorsed and "accreditations" in value:
                self.accreditations = True
            for key, each in value.items():
                self.walk(each, endorsed or key == "endorsement")
        elif isinstance(value, list):
            for each in value:
                self.walk(each, endorsed)


def _schema_entry() -> Json:
    return {"id": OB_SCHEMA_ID, "type": OB_SCHEMA_TYPE}


def _maybe_datetime(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment)
