"""Open Badges 3.0 data model: shape checks (vocabulary in ``vocab.py``).

Every check returns a list of ``ShapeError`` (empty when the shape is right);
each error names the rule (``code``), what is wrong (``detail``, citing the
spec) and where (``path``, dotted, ``[i]`` for array items, e.g.
``credentialSubject.achievement.alignment[0].targetUrl``).  Section numbers
refer to OB 3.0 appendix B ("Data Models") unless said otherwise.  Builders are
in ``builders.py``; the JSON Schema check is ``json_schema.validate_schema``.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.credentials import model_achievement as shapes
from shared.credentials.errors import ShapeError
from shared.credentials.model_vc import related_resource_rules, vc_credential_rules
from shared.credentials.shape_rules import Checker, is_bool
from shared.credentials.vocab import (
    ACHIEVEMENT_CREDENTIAL_TYPES,
    IDENTIFIER_TYPES,
    OB_CONTEXTS,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
)

Doc = Mapping[str, object]


# --- public checks ----------------------------------------------------------------


def check_credential(doc: object) -> list[ShapeError]:
    """Shape of a credential: the Open Badges rules for an OpenBadgeCredential,
    AchievementCredential or EndorsementCredential, the VC data model rules
    (``model_vc.py``) for any other type.

    Accepts the VC 2.0 form (``validFrom``) and the VC 1.1 form of OB 3.0.0/3.0.1
    badges (``issuanceDate``); the first context decides which rules apply.
    """
    c = Checker()
    if not isinstance(doc, Mapping):
        c.fail("wrong_type", "a credential must be a JSON object", "")
        return c.errors
    version = _context(c, doc)
    kind = _credential_kind(c, doc)
    if kind == "generic":
        # Not an Open Badge: the VC data model rules only (VC 2.0 §4).
        vc_credential_rules(c, doc, version)
        return c.errors
    c.uri(doc, "id", "", required=True)  # §B.1.2 id [1]
    _issuer(c, doc)
    _validity(c, doc, version)
    _credential_extras(c, doc, version, kind)
    subject = doc.get("credentialSubject")
    if subject is None:
        c.fail("missing_field", "credentialSubject is required (§B.1.2)", "credentialSubject")
    elif kind == "endorsement":
        _endorsement_subject(c, subject, "credentialSubject")
    elif kind == "achievement":
        _achievement_subject(c, subject, "credentialSubject")
    return c.errors


def check_achievement(achievement: object, path: str = "achievement") -> list[ShapeError]:
    """§B.1.1 Achievement, plus our microcred-v1 extension terms when present."""
    c = Checker()
    shapes.achievement_rules(c, achievement, path)
    return c.errors


def check_profile(profile: object, path: str = "issuer") -> list[ShapeError]:
    """§B.1.14 Profile (issuer, creator, source, parentOrg)."""
    c = Checker()
    shapes.profile_rules(c, profile, path)
    return c.errors


def check_result(result: object, path: str = "result") -> list[ShapeError]:
    """§B.1.16 Result."""
    c = Checker()
    shapes.result_rules(c, result, path)
    return c.errors


def check_result_description(rd: object, path: str = "resultDescription") -> list[ShapeError]:
    """§B.1.17 ResultDescription."""
    c = Checker()
    shapes.result_description_rules(c, rd, path)
    return c.errors


def check_alignment(alignment: object, path: str = "alignment") -> list[ShapeError]:
    """§B.1.5 Alignment."""
    c = Checker()
    shapes.alignment_rules(c, alignment, path)
    return c.errors


def check_evidence(evidence: object, path: str = "evidence") -> list[ShapeError]:
    """§B.1.10 Evidence."""
    c = Checker()
    shapes.evidence_rules(c, evidence, path)
    return c.errors


def check_identity_object(identity: object, path: str = "identifier") -> list[ShapeError]:
    """§B.1.12 IdentityObject."""
    c = Checker()
    _identity_object(c, identity, path)
    return c.errors


# --- credential level --------------------------------------------------------------


def _context(c: Checker, doc: Doc) -> str:
    """VC 2.0 §4.3 / VC 1.1 §4.1: the first context is the VC context."""
    ctx = doc.get("@context")
    if not isinstance(ctx, list) or not ctx:
        c.fail("bad_context", "@context must be a non-empty array", "@context")
        return "v2"
    if ctx[0] not in (VC_V2_CONTEXT, VC_V1_CONTEXT):
        c.fail("bad_context", f"the first @context must be {VC_V2_CONTEXT}", "@context[0]")
    for i, item in enumerate(ctx):
        if not isinstance(item, str | dict):
            c.fail("bad_context", "a context is a URL or an object", f"@context[{i}]")
    return "v1" if ctx[0] == VC_V1_CONTEXT else "v2"


def _credential_kind(c: Checker, doc: Doc) -> str:
    """§B.1.2/§B.1.7: VerifiableCredential plus the OB credential type, else
    ``generic`` (any other VC)."""
    types = c.types(doc, "type", "", "VerifiableCredential")
    ctx = doc.get("@context")
    if types & ACHIEVEMENT_CREDENTIAL_TYPES:
        kind = "achievement"
    elif "EndorsementCredential" in types:
        kind = "endorsement"
    else:
        return "generic"
    # §B.1.2 @context: the second item is the OB 3.0 context.
    if isinstance(ctx, list) and (
        len(ctx) < 2 or not isinstance(ctx[1], str) or ctx[1] not in OB_CONTEXTS
    ):
        c.fail("bad_context", "the second @context must be an OB 3.0 context", "@context[1]")
    return kind


def _issuer(c: Checker, doc: Doc) -> None:
    """§B.1.20 ProfileRef: a URI or a Profile."""
    issuer = doc.get("issuer")
    if issuer is None:
        c.fail("missing_field", "issuer is required (§B.1.2)", "issuer")
    elif isinstance(issuer, str):
        c.uri(doc, "issuer", "")
    else:
        shapes.profile_rules(c, issuer, "issuer")


def _validity(c: Checker, doc: Doc, version: str) -> None:
    if version == "v2":
        # VC 2.0 §4.9: validFrom/validUntil are xsd:dateTimeStamp.
        c.datetime(doc, "validFrom", "", required=True, stamp=True)
        c.datetime(doc, "validUntil", "", stamp=True)
    else:
        # VC 1.1 §4.6-4.7: issuanceDate [1], expirationDate [0..1], xsd:dateTime.
        c.datetime(doc, "issuanceDate", "", required=True, stamp=False)
        c.datetime(doc, "expirationDate", "", stamp=False)
    c.datetime(doc, "awardedDate", "", stamp=True)


def _credential_extras(c: Checker, doc: Doc, version: str, kind: str) -> None:
    # name is [1] for EndorsementCredential (§B.1.7) and for the VC 1.1 form.
    c.string(doc, "name", "", required=kind == "endorsement" or version == "v1")
    c.string(doc, "description", "")
    shapes.image_rules(c, doc, "image", "")
    for p, item in c.items(doc, "credentialSchema", ""):
        entry = c.obj(item, p, "credentialSchema")
        if entry is not None:
            c.uri(entry, "id", p, required=True)  # §B.1.21
            c.string(entry, "type", p, required=True)
    for p, item in c.items(doc, "credentialStatus", ""):
        entry = c.obj(item, p, "credentialStatus")
        if entry is not None:
            c.uri(entry, "id", p)  # §B.1.22
            c.string(entry, "type", p, required=True)
    for p, item in c.items(doc, "evidence", ""):
        shapes.evidence_rules(c, item, p)
    for name in ("termsOfUse", "refreshService"):
        for p, item in c.items(doc, name, ""):
            c.require_type_member(item, p)
    related_resource_rules(c, doc)  # VC 2.0 §5.3, for every credential
    for p, endorsement in c.items(doc, "endorsement", ""):
        for error in check_credential(endorsement):
            c.errors.append(_prefixed(error, p))


# --- subjects ----------------------------------------------------------------------


def _achievement_subject(c: Checker, subject: object, path: str) -> None:
    """§B.1.3 AchievementSubject: achievement [1], and id or identifier."""
    if not isinstance(subject, Mapping):
        c.fail("wrong_type", "credentialSubject must be one AchievementSubject object", path)
        return
    c.types(subject, "type", path, "AchievementSubject")
    c.uri(subject, "id", path)
    identifiers = c.items(subject, "identifier", path)
    for p, identity in identifiers:
        _identity_object(c, identity, p)
    if "id" not in subject and not identifiers:
        c.fail(
            "missing_subject_identity",
            "AchievementSubject needs id or at least one identifier (§B.1.3)",
            path,
        )
    if "achievement" not in subject:
        c.fail("missing_field", "achievement is required (§B.1.3)", f"{path}.achievement")
    else:
        shapes.achievement_rules(c, subject["achievement"], f"{path}.achievement")
    known = shapes.result_description_ids(subject.get("achievement"))
    for p, result in c.items(subject, "result", path):
        shapes.result_rules(c, result, p, known)
    c.number(subject, "creditsEarned", path, minimum=0)
    c.datetime(subject, "activityStartDate", path, stamp=False)
    c.datetime(subject, "activityEndDate", path, stamp=False)
    shapes.image_rules(c, subject, "image", path)
    for key in ("licenseNumber", "narrative", "role", "term"):
        c.string(subject, key, path)
    if "source" in subject:
        shapes.profile_rules(c, subject["source"], f"{path}.source")


def _endorsement_subject(c: Checker, subject: object, path: str) -> None:
    """§B.1.8 EndorsementSubject: id [1], type, endorsementComment."""
    if not isinstance(subject, Mapping):
        c.fail("wrong_type", "credentialSubject must be an EndorsementSubject object", path)
        return
    c.types(subject, "type", path, "EndorsementSubject")
    c.uri(subject, "id", path, required=True)
    c.string(subject, "endorsementComment", path)


def _identity_object(c: Checker, identity: object, path: str) -> None:
    """§B.1.12 IdentityObject: type, hashed, identityHash, identityType [1]."""
    if not isinstance(identity, Mapping):
        c.fail("wrong_type", "an identifier must be an IdentityObject", path)
        return
    if identity.get("type") != "IdentityObject":
        c.fail("bad_type", "type must be 'IdentityObject'", f"{path}.type")
    hashed = identity.get("hashed")
    if not is_bool(hashed):
        c.fail(
            "missing_field" if hashed is None else "wrong_type",
            "hashed must be a boolean",
            f"{path}.hashed",
        )
    value = c.string(identity, "identityHash", path, required=True)
    if hashed is True and value is not None and not _is_identity_hash(value):
        c.fail(
            "bad_identity_hash",
            "a hashed identityHash is 'sha256$<64 hex>' or 'md5$<32 hex>' (IdentityHash)",
            f"{path}.identityHash",
        )
    c.enum(identity, "identityType", path, IDENTIFIER_TYPES, required=True)
    c.string(identity, "salt", path)


def _is_identity_hash(value: str) -> bool:
    alg, sep, digest = value.partition("$")
    size = {"sha256": 64, "md5": 32}.get(alg)
    return (
        bool(sep) and size == len(digest) and all(ch in "0123456789abcdefABCDEF" for ch in digest)
    )


def _prefixed(error: ShapeError, prefix: str) -> ShapeError:
    path = f"{prefix}.{error.path}" if error.path else prefix
    return ShapeError(error.code, error.detail, path)
