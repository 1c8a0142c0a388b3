"""What a credential certifies, as plain JSON a job board can index.

One function, :func:`summarise`, used by the verifier's API and its page:
the achievement (OB 3.0 §B.1.1 ``Achievement`` plus our EU 2022 extension
terms, docs/credential-format.md), its alignments (OB 3.0 ``Alignment``:
skills and their frameworks), the provider (the issuer ``Profile``), the
learner, the dates, the endorsements and the accreditation.

Pure and total: any JSON object in, a summary out (members it cannot read
are null or absent). It reads only the credential the caller sent and the
trust and endorsement checks' public details, so it never tells more about
the learner than the caller already had (architecture invariant 7); the
learner's identifier hashes and salts are not repeated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Json = dict[str, Any]

# Our extension context's terms on the Achievement (credential-format.md).
_MICROCRED_TERMS = (
    "eqfLevel",
    "nqfLevel",
    "workloadHours",
    "ectsCredits",
    "assessmentType",
    "participationMode",
    "qualityAssurance",
    "supervisedAssessment",
    "identityVerified",
    "validityPeriod",
)


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _scalar(value: object) -> str | int | float | bool | None:
    return value if isinstance(value, str | int | float | bool) else None


def _id(value: object) -> str | None:
    """A node's id: the string itself, or its ``id`` member."""
    return _text(value) if isinstance(value, str) else _text(_obj(value).get("id"))


def _types(value: object) -> list[str]:
    return [t for t in _list(value) if isinstance(t, str)]


def _image(value: object) -> str | None:
    image = _id(value)
    # A data: URL can be megabytes; an index wants a link.
    return image if image is not None and not image.startswith("data:") else None


def alignment_view(alignment: object) -> Json:
    """An OB 3.0 ``Alignment``: ``{name, targetUrl, framework, type, code}``."""
    found = _obj(alignment)
    return {
        "name": _text(found.get("targetName")),
        "targetUrl": _text(found.get("targetUrl")),
        "framework": _text(found.get("targetFramework")),
        "type": _text(found.get("targetType")),
        "code": _text(found.get("targetCode")),
    }


def _threshold(achievement: Mapping[str, Any]) -> Json | None:
    """The first ``ResultDescription`` with a ``requiredValue``: the mastery threshold."""
    for item in _list(achievement.get("resultDescription")):
        found = _obj(item)
        if found.get("requiredValue") is not None:
            return {
                "id": _text(found.get("id")),
                "name": _text(found.get("name")),
                "resultType": _text(found.get("resultType")),
                "requiredValue": _scalar(found.get("requiredValue")),
                "valueMin": _scalar(found.get("valueMin")),
                "valueMax": _scalar(found.get("valueMax")),
            }
    return None


def _result(subject: Mapping[str, Any], threshold: Json | None) -> Json | None:
    """The learner's result: the one for the threshold, else the first."""
    results = [_obj(r) for r in _list(subject.get("result"))]
    wanted = threshold["id"] if threshold else None
    chosen = next((r for r in results if wanted and r.get("resultDescription") == wanted), None)
    chosen = chosen or (results[0] if results else None)
    if chosen is None:
        return None
    return {
        "value": _scalar(chosen.get("value")),
        "status": _text(chosen.get("status")),
        "achievedLevel": _text(chosen.get("achievedLevel")),
    }


def achievement_view(achievement: Mapping[str, Any], subject: Mapping[str, Any]) -> Json:
    """The achievement's identity, level, workload, assessment and threshold."""
    criteria = _obj(achievement.get("criteria"))
    threshold = _threshold(achievement)
    view: Json = {
        "id": _text(achievement.get("id")),
        "name": _text(achievement.get("name")),
        "description": _text(achievement.get("description")),
        "achievementType": _text(achievement.get("achievementType")),
        "criteria": _text(criteria.get("narrative")),
        "fieldOfStudy": _text(achievement.get("fieldOfStudy")),
        "humanCode": _text(achievement.get("humanCode")),
        "inLanguage": _text(achievement.get("inLanguage")),
        "creditsAvailable": _scalar(achievement.get("creditsAvailable")),
        "creditsEarned": _scalar(subject.get("creditsEarned")),
        "image": _image(achievement.get("image")),
        "tags": [t for t in _list(achievement.get("tag")) if isinstance(t, str)],
        "masteryThreshold": threshold,
        "result": _result(subject, threshold),
    }
    view.update({term: _scalar(achievement.get(term)) for term in _MICROCRED_TERMS})
    return view


def provider_view(issuer: object) -> Json:
    """The issuer ``Profile``: name, DID, url, country."""
    profile = _obj(issuer)
    address = _obj(profile.get("address"))
    return {
        "id": _id(issuer),
        "name": _text(profile.get("name")),
        "url": _text(profile.get("url")),
        "country": _text(address.get("addressCountryCode")) or _text(address.get("addressCountry")),
    }


def identifier_kind(identity: Mapping[str, Any]) -> str:
    """``hashedEmail``, ``email``, or ``other:<identityType>`` for an IdentityObject."""
    kind = _text(identity.get("identityType")) or "emailAddress"
    hashed = identity.get("hashed") is True
    if kind == "emailAddress":
        return "hashedEmail" if hashed else "email"
    return f"other:{kind}"


def learner_view(subject: Mapping[str, Any]) -> Json:
    """Who the credential is about, as far as the credential says: a name
    when present, the subject's DID, and what kind of identifiers it holds
    (``did``, ``hashedEmail``, ``email``, ``other:<type>``, or ``none``)."""
    identities = [_obj(i) for i in _list(subject.get("identifier"))]
    subject_id = _text(subject.get("id"))
    kinds = [identifier_kind(i) for i in identities]
    if subject_id is not None:
        kinds.insert(0, "did" if subject_id.startswith("did:") else "other:id")
    named = next(
        (
            _text(i.get("identityHash"))
            for i in identities
            if i.get("identityType") == "name" and i.get("hashed") is False
        ),
        None,
    )
    return {
        "name": _text(subject.get("name")) or named,
        "id": subject_id,
        "identifierType": kinds[0] if kinds else "none",
        "identifierTypes": kinds,
    }


def dates_view(credential: Mapping[str, Any], subject: Mapping[str, Any]) -> Json:
    """Issued / valid from, valid until, awarded (VC 2.0 and VC 1.1 names)."""
    valid_from = _text(credential.get("validFrom")) or _text(credential.get("issuanceDate"))
    return {
        "issued": valid_from,
        "validFrom": valid_from,
        "validUntil": _text(credential.get("validUntil"))
        or _text(credential.get("expirationDate")),
        "awardedDate": _text(credential.get("awardedDate")),
        "activityEndDate": _text(subject.get("activityEndDate")),
    }


def _endorsements(
    achievement: Mapping[str, Any], issuer: object, checked: Sequence[Mapping[str, Any]] | None
) -> list[Json]:
    """Who endorses it: from the endorsements check when it ran (verified,
    with roles), else as the credential states them (unverified)."""
    if checked is not None:
        return [
            {
                "on": entry.get("on"),
                "endorser": _obj(entry.get("endorser")).get("name"),
                "endorserId": _obj(entry.get("endorser")).get("id"),
                "role": _obj(entry.get("endorser")).get("role"),
                "status": entry.get("status"),
                "verified": entry.get("verified"),
            }
            for entry in checked
        ]
    attached = [("issuer", e) for e in _list(_obj(issuer).get("endorsement"))]
    attached += [("achievement", e) for e in _list(achievement.get("endorsement"))]
    return [
        {
            "on": on,
            "endorser": provider_view(_obj(endorsement).get("issuer"))["name"],
            "endorserId": _id(_obj(endorsement).get("issuer")),
            "role": None,
            "status": None,
            "verified": None,
        }
        for on, endorsement in attached
    ]


def accreditation_view(trust: Mapping[str, Any] | None) -> Json | None:
    """The trust check's verdict on the provider: level, registry provider,
    accreditation (by whom, scope, until), trust list and domain linkage."""
    if trust is None:
        return None
    keep = ("level", "provider", "accreditation", "trustList", "domain", "domainLinked")
    return {key: trust[key] for key in keep if key in trust}


def summarise(
    credential: Mapping[str, Any],
    *,
    trust: Mapping[str, Any] | None = None,
    endorsements: Sequence[Mapping[str, Any]] | None = None,
) -> Json:
    """The credential summary of a verification report (docs/api.md,
    "The credential summary"). ``trust`` is the trust check's details,
    ``endorsements`` the endorsements check's list, when they ran."""
    subject = _obj(credential.get("credentialSubject"))
    achievement = _obj(subject.get("achievement"))
    issuer = credential.get("issuer")
    return {
        "id": _text(credential.get("id")),
        "name": _text(credential.get("name")) or _text(achievement.get("name")),
        "types": _types(credential.get("type")),
        "achievement": achievement_view(achievement, subject),
        "alignments": [alignment_view(a) for a in _list(achievement.get("alignment"))],
        "provider": provider_view(issuer),
        "learner": learner_view(subject),
        "dates": dates_view(credential, subject),
        "endorsements": _endorsements(achievement, issuer, endorsements),
        "accreditation": accreditation_view(trust),
    }
