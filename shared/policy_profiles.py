"""Policy profiles: the rule set a provider chooses for its achievements.

A provider's `policyProfile` (catalog.providers) names one of:

- `badge` (the default): plain Open Badges, no gate beyond the signed
  format's own rules (`shared.credentials.definitions`), which every
  profile applies first.
- `eu-2022`: every mandatory element of Annex I of the Council
  Recommendation of 16 June 2022 on a European approach to
  micro-credentials (2022/C 243/02).
- `ontario`: Ontario's micro-credential principles (at most 12 weeks of
  learning, competencies aligned, a summative assessment).
- `trusted-credential`: 1EdTech TrustEd Credential 1.0 (public draft,
  2026) on OB 3.0, with the Issuer Accreditation Extension 2.0 and the
  Open Badges Assessment Extension 2.0.

The gated profiles also hold every `MicroCredential` to naming its
assessment and its mastery threshold.

Rules read the documents the platform signs (the OB 3.0 Achievement the
catalog builds; the credential the issuer builds), so each gap names the
element and its path in that document (`$.eqfLevel`). Definition rules run
in the catalog, award rules in the issuer, for the provider's profile at
that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

from shared.credentials.shape_rules import is_uri

PolicyProfile = Literal["badge", "eu-2022", "ontario", "trusted-credential"]
PROFILES: tuple[str, ...] = get_args(PolicyProfile)
DEFAULT_PROFILE: PolicyProfile = "badge"
ONTARIO_MAX_WEEKS = 12

Doc = Mapping[str, object]


@dataclass(frozen=True)
class Gap:
    """A mandatory element that is missing: what (`element`) and where."""

    element: str
    path: str


@dataclass(frozen=True)
class AwardingBody:
    """What the provider's record says about the awarding body."""

    name: str | None
    country: str | None
    accredited: bool  # an accreditation in force (Issuer Accreditation Extension 2.0)


Rule = Callable[[Doc, AwardingBody], bool]
AwardRule = Callable[[Doc], bool]


def _set(doc: Doc, key: str) -> bool:
    value = doc.get(key)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def _items(doc: Doc, key: str) -> list[object]:
    value = doc.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _objects(doc: Doc, key: str) -> list[Doc]:
    return [item for item in _items(doc, key) if isinstance(item, Mapping)]


def _types(doc: Doc) -> list[object]:
    return _items(doc, "type")


def _mastery(a: Doc, _: AwardingBody) -> bool:
    return any(_set(rd, "requiredValue") for rd in _objects(a, "resultDescription"))


def _assessment_named(a: Doc, _: AwardingBody) -> bool:
    described = any(
        "AssessmentResultDescription" in _types(rd) for rd in _objects(a, "resultDescription")
    )
    return _set(a, "assessmentType") or described


def _criteria(a: Doc, _: AwardingBody) -> bool:
    criteria = a.get("criteria")
    return isinstance(criteria, Mapping) and (_set(criteria, "narrative") or _set(criteria, "id"))


def _outcomes(a: Doc, body: AwardingBody) -> bool:
    """Learning outcomes: what the learner can do (description) and how it is
    shown (criteria narrative or aligned skills)."""
    return _set(a, "description") and (_criteria(a, body) or bool(_objects(a, "alignment")))


def _aligned_by_uri(a: Doc, _: AwardingBody) -> bool:
    return any(
        isinstance(al.get("targetUrl"), str) and is_uri(str(al["targetUrl"]))
        for al in _objects(a, "alignment")
    )


def _weeks(a: Doc, _: AwardingBody) -> bool:
    weeks = a.get("durationWeeks")
    return (
        isinstance(weeks, int | float)
        and not isinstance(weeks, bool)
        and weeks <= ONTARIO_MAX_WEEKS
    )


def _field(key: str) -> Rule:
    return lambda a, _: _set(a, key)


def _any_field(*keys: str) -> Rule:
    return lambda a, _: any(_set(a, key) for key in keys)


_MICRO = "MicroCredential"
_MICRO_RULES: Sequence[tuple[str, str, Rule]] = (
    ("assessment (MicroCredential)", "$.assessmentType", _assessment_named),
    ("mastery threshold (MicroCredential)", "$.resultDescription", _mastery),
)

# (element, path in the Achievement, rule) per profile. EU 2022 Annex I
# elements that exist only in a credential (learner, date of issue) are award rules.
DEFINITION_RULES: Mapping[str, Sequence[tuple[str, str, Rule]]] = {
    "badge": (),
    "eu-2022": (
        ("title", "$.name", _field("name")),
        (
            "country or region of the awarding body",
            "$.issuer.country",
            lambda _, b: bool(b.country),
        ),
        ("awarding body", "$.issuer.name", lambda _, b: bool(b.name)),
        ("learning outcomes", "$.description", _outcomes),
        (
            "notional workload (ECTS where possible)",
            "$.ectsCredits",
            _any_field("ectsCredits", "workloadHours", "creditsAvailable"),
        ),
        ("level (EQF/NQF)", "$.eqfLevel", _any_field("eqfLevel", "nqfLevel")),
        ("type of assessment", "$.assessmentType", _field("assessmentType")),
        ("form of participation", "$.participationMode", _field("participationMode")),
        ("type of quality assurance", "$.qualityAssurance", _field("qualityAssurance")),
    ),
    "ontario": (
        ("at most 12 weeks of learning", "$.durationWeeks", _weeks),
        ("competencies aligned", "$.alignment", lambda a, _: bool(_objects(a, "alignment"))),
        (
            "summative assessment",
            "$.assessmentPurpose",
            lambda a, _: a.get("assessmentPurpose") == "summative",
        ),
    ),
    "trusted-credential": (
        ("achievementType", "$.achievementType", _field("achievementType")),
        ("alignment to an external framework by URI", "$.alignment", _aligned_by_uri),
        ("resultDescription", "$.resultDescription", _field("resultDescription")),
        ("criteria", "$.criteria", _criteria),
        (
            "assessment details (Assessment Extension 2.0)",
            "$.resultDescription[0].evaluationMethod",
            lambda a, _: any(
                "AssessmentResultDescription" in _types(rd)
                for rd in _objects(a, "resultDescription")
            ),
        ),
        (
            "accreditors (Issuer Accreditation Extension 2.0)",
            "$.issuer.accreditations",
            lambda _, b: b.accredited,
        ),
    ),
}


def _subject(c: Doc) -> Doc:
    subjects = _objects(c, "credentialSubject")
    return subjects[0] if subjects else {}


def _result_dated(c: Doc) -> bool:
    return any(_set(r, "resultDate") for r in _objects(_subject(c), "result"))


def _learner(c: Doc) -> bool:
    return _set(_subject(c), "id") or bool(_objects(_subject(c), "identifier"))


def _accreditors(c: Doc) -> bool:
    issuer = c.get("issuer")
    return isinstance(issuer, Mapping) and bool(_objects(issuer, "accreditations"))


AWARD_RULES: Mapping[str, Sequence[tuple[str, str, AwardRule]]] = {
    "badge": (),
    "eu-2022": (
        ("identification of the learner", "$.credentialSubject", _learner),
        ("date of issue", "$.validFrom", lambda c: _set(c, "validFrom")),
    ),
    "ontario": (),
    "trusted-credential": (
        ("awardedDate", "$.awardedDate", lambda c: _set(c, "awardedDate")),
        ("at least one evidence", "$.evidence", lambda c: bool(_objects(c, "evidence"))),
        ("a result with resultDate", "$.credentialSubject.result", _result_dated),
        ("accreditors (Issuer Accreditation Extension 2.0)", "$.issuer", _accreditors),
    ),
}


def profile_of(name: str | None) -> PolicyProfile:
    """A recorded profile name (None: the default, `badge`)."""
    return cast(PolicyProfile, name) if name in PROFILES else DEFAULT_PROFILE


def definition_gaps(profile: str, achievement: Doc, body: AwardingBody) -> list[Gap]:
    """The mandatory elements `achievement` lacks under `profile` (empty: it passes)."""
    rules = list(DEFINITION_RULES[profile_of(profile)])
    if profile_of(profile) != "badge" and achievement.get("achievementType") == _MICRO:
        rules.extend(_MICRO_RULES)
    missing: dict[str, list[str]] = {}  # path -> elements: one gap per member
    for element, path, rule in rules:
        if not rule(achievement, body):
            missing.setdefault(path, []).append(element)
    return [Gap("; ".join(elements), path) for path, elements in missing.items()]


def has_award_rules(profile: str) -> bool:
    """Whether `profile` checks anything at award time (`award_gaps`)."""
    return bool(AWARD_RULES[profile_of(profile)])


def award_gaps(profile: str, credential: Doc) -> list[Gap]:
    """The mandatory elements a built credential lacks under `profile`."""
    return [
        Gap(element, path)
        for element, path, rule in AWARD_RULES[profile_of(profile)]
        if not rule(credential)
    ]
