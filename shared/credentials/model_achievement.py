"""Shape rules for Achievement, Result, Alignment and Profile (OB 3.0 appendix B).

Helpers of ``model.py``: each function records what is wrong with one object
in a ``Checker``.  Our microcred-v1 extension terms are checked here too.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.credentials.shape_rules import Checker, is_bool, join
from shared.credentials.vocab import (
    ACHIEVEMENT_TYPES,
    ALIGNMENT_TARGET_TYPES,
    ASSESSMENT_PURPOSES,
    IDENTIFIER_TYPES,
    PARTICIPATION_MODES,
    RESULT_STATUSES,
    RESULT_TYPES,
)

Doc = Mapping[str, object]


# --- achievement and friends ----------------------------------------------------------


def achievement_rules(c: Checker, achievement: object, path: str) -> None:
    """§B.1.1 Achievement: id, type, name, description, criteria [1]."""
    if not isinstance(achievement, Mapping):
        c.fail("wrong_type", "achievement must be an Achievement object", path)
        return
    c.uri(achievement, "id", path, required=True)
    c.types(achievement, "type", path, "Achievement")
    c.string(achievement, "name", path, required=True, nonempty=True)
    c.string(achievement, "description", path, required=True)
    _criteria(c, achievement, path)
    c.enum(achievement, "achievementType", path, ACHIEVEMENT_TYPES)
    c.number(achievement, "creditsAvailable", path, minimum=0)
    for key in ("fieldOfStudy", "humanCode", "specialization", "version"):
        c.string(achievement, key, path)
    c.language(achievement, "inLanguage", path)
    image_rules(c, achievement, "image", path)
    c.strings(achievement, "tag", path)
    if "creator" in achievement:
        profile_rules(c, achievement["creator"], f"{path}.creator")
    for p, alignment in c.items(achievement, "alignment", path):
        alignment_rules(c, alignment, p)
    _result_descriptions(c, achievement, path)
    for p, entry in c.items(achievement, "otherIdentifier", path):
        identifier_entry_rules(c, entry, p)
    for p, related in c.items(achievement, "related", path):
        _related(c, related, p)
    _microcred_terms(c, achievement, path)


def _criteria(c: Checker, achievement: Doc, path: str) -> None:
    """§B.1.6 Criteria: [1] on Achievement, with id and/or narrative."""
    criteria = achievement.get("criteria")
    p = f"{path}.criteria"
    if criteria is None:
        c.fail("missing_field", "criteria is required (§B.1.1)", p)
    elif not isinstance(criteria, Mapping):
        c.fail("wrong_type", "criteria must be a Criteria object", p)
    else:
        c.uri(criteria, "id", p)
        c.string(criteria, "narrative", p)
        if "id" not in criteria and "narrative" not in criteria:
            c.fail("missing_field", "criteria needs an id or a narrative (§B.1.6)", p)


def _result_descriptions(c: Checker, achievement: Doc, path: str) -> None:
    seen: set[str] = set()
    for p, rd in c.items(achievement, "resultDescription", path):
        result_description_rules(c, rd, p)
        rd_id = rd.get("id") if isinstance(rd, Mapping) else None
        if isinstance(rd_id, str):
            if rd_id in seen:
                c.fail("duplicate_id", "resultDescription ids must be unique", f"{p}.id")
            seen.add(rd_id)


def result_description_ids(achievement: object) -> frozenset[str] | None:
    if not isinstance(achievement, Mapping):
        return None
    rds = achievement.get("resultDescription", [])
    if isinstance(rds, Mapping):
        rds = [rds]
    if not isinstance(rds, list):
        return frozenset()
    return frozenset(
        rd["id"] for rd in rds if isinstance(rd, Mapping) and isinstance(rd.get("id"), str)
    )


def result_description_rules(c: Checker, rd: object, path: str) -> None:
    """§B.1.17 ResultDescription: id, type, name, resultType [1]."""
    if not isinstance(rd, Mapping):
        c.fail("wrong_type", "a ResultDescription must be an object", path)
        return
    c.uri(rd, "id", path, required=True)
    c.types(rd, "type", path, "ResultDescription")
    c.string(rd, "name", path, required=True, nonempty=True)
    c.enum(rd, "resultType", path, RESULT_TYPES, required=True)
    c.strings(rd, "allowedValue", path)
    for key in ("requiredValue", "valueMax", "valueMin"):
        c.string(rd, key, path)
    c.uri(rd, "requiredLevel", path)
    for p, alignment in c.items(rd, "alignment", path):
        alignment_rules(c, alignment, p)
    for p, item in c.items(rd, "rubricCriterionLevel", path):
        level = c.obj(item, p, "a RubricCriterionLevel")  # §B.1.18
        if level is not None:
            c.uri(level, "id", p, required=True)
            c.types(level, "type", p, "RubricCriterionLevel")
            c.string(level, "name", p, required=True)


def result_rules(
    c: Checker, result: object, path: str, known: frozenset[str] | None = None
) -> None:
    """§B.1.16 Result; resultDescription must name one of the achievement's."""
    if not isinstance(result, Mapping):
        c.fail("wrong_type", "a Result must be an object", path)
        return
    c.types(result, "type", path, "Result")
    ref = c.uri(result, "resultDescription", path)
    if ref is not None and known is not None and ref not in known:
        c.fail(
            "unknown_result_description",
            "resultDescription must be the id of a ResultDescription of the achievement (§B.1.16)",
            f"{path}.resultDescription",
        )
    c.enum(result, "status", path, RESULT_STATUSES, extensible=False)
    c.datetime(result, "resultDate", path, stamp=True)  # microcred/catalog/v1
    c.string(result, "value", path)
    c.uri(result, "achievedLevel", path)
    for p, alignment in c.items(result, "alignment", path):
        alignment_rules(c, alignment, p)


def alignment_rules(c: Checker, alignment: object, path: str) -> None:
    """§B.1.5 Alignment: type, targetName, targetUrl [1]."""
    if not isinstance(alignment, Mapping):
        c.fail("wrong_type", "an Alignment must be an object", path)
        return
    c.types(alignment, "type", path, "Alignment")
    c.string(alignment, "targetName", path, required=True, nonempty=True)
    c.url(alignment, "targetUrl", path, required=True)
    c.enum(alignment, "targetType", path, ALIGNMENT_TARGET_TYPES)
    for key in ("targetCode", "targetDescription", "targetFramework"):
        c.string(alignment, key, path)


def evidence_rules(c: Checker, evidence: object, path: str) -> None:
    """§B.1.10 Evidence: type [1] including 'Evidence'; id, a URI, when given."""
    if not isinstance(evidence, Mapping):
        c.fail("wrong_type", "an Evidence must be an object", path)
        return
    c.uri(evidence, "id", path)
    c.types(evidence, "type", path, "Evidence")
    for key in ("narrative", "name", "description", "genre", "audience"):
        c.string(evidence, key, path)


def identifier_entry_rules(c: Checker, entry: object, path: str) -> None:
    """§B.1.11 IdentifierEntry: type, identifier, identifierType [1]."""
    if not isinstance(entry, Mapping):
        c.fail("wrong_type", "an IdentifierEntry must be an object", path)
        return
    if entry.get("type") != "IdentifierEntry":
        c.fail("bad_type", "type must be 'IdentifierEntry'", f"{path}.type")
    c.string(entry, "identifier", path, required=True)
    c.enum(entry, "identifierType", path, IDENTIFIER_TYPES, required=True)


def _related(c: Checker, item: object, path: str) -> None:
    """§B.1.15 Related: id, type [1]."""
    related = c.obj(item, path, "a Related entry")
    if related is None:
        return
    c.uri(related, "id", path, required=True)
    c.types(related, "type", path, "Related")
    c.language(related, "inLanguage", path)
    c.string(related, "version", path)


# --- profile and image ------------------------------------------------------------------


def profile_rules(c: Checker, profile: object, path: str, depth: int = 0) -> None:
    """§B.1.14 Profile: id, type [1]; address §B.1.4."""
    if not isinstance(profile, Mapping):
        c.fail("wrong_type", "a Profile must be an object", path)
        return
    c.uri(profile, "id", path, required=True)
    c.types(profile, "type", path, "Profile")
    for key in ("name", "phone", "description", "official", "givenName", "familyName"):
        c.string(profile, key, path)
    c.uri(profile, "url", path)
    email = c.string(profile, "email", path)
    if email is not None and "@" not in email:
        c.fail("bad_email", "email must be an e-mail address", f"{path}.email")
    image_rules(c, profile, "image", path)
    if "address" in profile:
        _address(c, profile["address"], f"{path}.address")
    for p, entry in c.items(profile, "otherIdentifier", path):
        identifier_entry_rules(c, entry, p)
    if "parentOrg" in profile:
        if depth >= 8:
            c.fail("too_deep", "parentOrg nesting is too deep", f"{path}.parentOrg")
        else:
            profile_rules(c, profile["parentOrg"], f"{path}.parentOrg", depth + 1)


def _address(c: Checker, address: object, path: str) -> None:
    if not isinstance(address, Mapping):
        c.fail("wrong_type", "address must be an Address object", path)
        return
    c.types(address, "type", path, "Address")
    code = c.string(address, "addressCountryCode", path)
    if code is not None and not (len(code) == 2 and code.isascii() and code.isupper()):
        c.fail(
            "bad_country_code",
            "addressCountryCode is ISO 3166-1 alpha-2 (§B.1.4)",
            f"{path}.addressCountryCode",
        )
    for key in (
        "addressCountry",
        "addressRegion",
        "addressLocality",
        "streetAddress",
        "postOfficeBoxNumber",
        "postalCode",
    ):
        c.string(address, key, path)


def image_rules(c: Checker, doc: Doc, key: str, path: str) -> None:
    """§B.1.13 Image: a URI, or an object with id [1] and type 'Image'."""
    image = doc.get(key)
    if image is None:
        return
    if isinstance(image, str):
        c.uri(doc, key, path)
        return
    p = join(path, key)
    if not isinstance(image, Mapping):
        c.fail("wrong_type", "image must be a URI or an Image object", p)
        return
    c.uri(image, "id", p, required=True)
    if image.get("type") != "Image":
        c.fail("bad_type", "type must be 'Image'", f"{p}.type")
    c.string(image, "caption", p)


# --- our extension: microcred-v1 (EU 2022 Annex I elements) ------------------------------


def _microcred_terms(c: Checker, achievement: Doc, path: str) -> None:
    level = achievement.get("eqfLevel")
    if level is not None and (not isinstance(level, int) or is_bool(level) or not 1 <= level <= 8):
        c.fail("bad_eqf_level", "eqfLevel is an integer from 1 to 8", f"{path}.eqfLevel")
    c.number(achievement, "ectsCredits", path, minimum=0)
    c.number(achievement, "workloadHours", path, minimum=0)
    c.enum(achievement, "participationMode", path, PARTICIPATION_MODES, extensible=False)
    for key in (
        "nqfLevel",
        "assessmentType",
        "qualityAssurance",
        "prerequisites",
        "furtherInformation",
    ):
        c.string(achievement, key, path)
    for key in ("supervisedAssessment", "identityVerified"):
        if key in achievement and not is_bool(achievement[key]):
            c.fail("wrong_type", f"{key} must be a boolean", f"{path}.{key}")
    c.strings(achievement, "stackableInto", path, uris=True)
    c.duration(achievement, "validityPeriod", path)
    # microcred/catalog/v1: the catalog's revision, learning weeks, assessment purpose.
    revision = achievement.get("revision")
    if revision is not None and (
        not isinstance(revision, int) or is_bool(revision) or revision < 1
    ):
        c.fail("wrong_type", "revision is an integer from 1", f"{path}.revision")
    c.number(achievement, "durationWeeks", path, minimum=0)
    c.enum(achievement, "assessmentPurpose", path, ASSESSMENT_PURPOSES, extensible=False)
