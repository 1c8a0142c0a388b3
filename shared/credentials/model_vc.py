"""W3C Verifiable Credentials data model rules, for any credential type.

The Open Badges rules (``model.py``) apply only to Open Badges types; every
other VC 2.0 or VC 1.1 credential is checked against these. Section numbers
refer to VC Data Model 2.0 unless said otherwise (VC 1.1 section in brackets).
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.credentials.shape_rules import Checker, parse_datetime

Doc = Mapping[str, object]

_LANGUAGE_VALUE_KEYS = frozenset({"@value", "@language", "@direction"})


def vc_credential_rules(c: Checker, doc: Doc, version: str) -> None:
    """§4 Basic Concepts, for a credential of any type (``@context`` and
    ``type`` are checked by the caller)."""
    c.uri(doc, "id", "")  # §4.4 Identifiers: a URL when present
    for key in ("name", "description"):
        _text(c, doc, key, "")  # §4.6 Names and Descriptions
    _issuer(c, doc)
    _subjects(c, doc)
    if version == "v2":
        # §4.9 Validity Period: xsd:dateTimeStamp
        c.datetime(doc, "validFrom", "", stamp=True)
        c.datetime(doc, "validUntil", "", stamp=True)
        _ordered(c, doc, "validFrom", "validUntil")
    else:
        # VC 1.1 §4.6-4.7: issuanceDate [1], expirationDate [0..1]
        c.datetime(doc, "issuanceDate", "", required=True, stamp=False)
        c.datetime(doc, "expirationDate", "", stamp=False)
    for p, item in c.items(doc, "credentialStatus", ""):
        entry = c.obj(item, p, "credentialStatus")  # §4.10 Status
        if entry is not None:
            c.uri(entry, "id", p)
            c.string(entry, "type", p, required=True)
    for p, item in c.items(doc, "credentialSchema", ""):
        entry = c.obj(item, p, "credentialSchema")  # §4.11 Data Schemas
        if entry is not None:
            c.uri(entry, "id", p, required=True)
            c.string(entry, "type", p, required=True)
    for name in ("evidence", "termsOfUse", "refreshService"):  # §4.12, §5.5, §5.6
        for p, item in c.items(doc, name, ""):
            c.require_type_member(item, p)
    related_resource_rules(c, doc)


def related_resource_rules(c: Checker, doc: Doc) -> None:
    """§5.3 Integrity of Related Resources: objects, each with a unique `id`
    URL and a `digestSRI` or `digestMultibase`. The digests themselves are
    checked by the verifier for the contexts it processes the document with
    (`related_resources.py`); nothing is fetched, at issue or verify time."""
    seen: set[str] = set()
    for p, item in c.items(doc, "relatedResource", ""):
        resource = c.obj(item, p, "relatedResource")
        if resource is None:
            continue
        found = c.uri(resource, "id", p, required=True)
        if found is not None and found in seen:
            c.fail("duplicate_id", "relatedResource ids must be unique (VC 2.0 §5.3)", f"{p}.id")
        seen.update([found] if found is not None else [])
        if "digestSRI" not in resource and "digestMultibase" not in resource:
            c.fail("missing_field", "digestSRI or digestMultibase is required (§5.3)", p)
        c.string(resource, "digestSRI", p)
        c.string(resource, "digestMultibase", p)


def _ordered(c: Checker, doc: Doc, start: str, end: str) -> None:
    """§4.9: validFrom is the same as or earlier than validUntil."""
    first, last = doc.get(start), doc.get(end)
    if not isinstance(first, str) or not isinstance(last, str):
        return
    begins, ends = parse_datetime(first, stamp=True), parse_datetime(last, stamp=True)
    if begins is not None and ends is not None and begins > ends:
        c.fail("bad_validity_period", f"{start} is later than {end} (VC 2.0 §4.9)", end)


def _issuer(c: Checker, doc: Doc) -> None:
    """§4.7 Issuer: a URL, or an object whose ``id`` is a URL."""
    issuer = doc.get("issuer")
    if issuer is None:
        c.fail("missing_field", "issuer is required (VC 2.0 §4.7)", "issuer")
    elif isinstance(issuer, str):
        c.uri(doc, "issuer", "")
    elif isinstance(issuer, Mapping):
        c.uri(issuer, "id", "issuer", required=True)
        for key in ("name", "description"):
            _text(c, issuer, key, "issuer")
    else:
        c.fail("wrong_type", "issuer must be a URL or an object with an id", "issuer")


def _subjects(c: Checker, doc: Doc) -> None:
    """§4.8 Credential Subject: one or more objects, each with claims."""
    if doc.get("credentialSubject") is None:
        c.fail("missing_field", "credentialSubject is required (VC 2.0 §4.8)", "credentialSubject")
        return
    items = c.items(doc, "credentialSubject", "")
    if not items:
        c.fail("empty_value", "credentialSubject must not be empty", "credentialSubject")
    for p, item in items:
        subject = c.obj(item, p, "credentialSubject")
        if subject is None:
            continue
        if not subject:
            c.fail("empty_value", "a credentialSubject must make at least one claim", p)
        c.uri(subject, "id", p)


def _text(c: Checker, doc: Doc, key: str, path: str) -> None:
    """A string, a language value object (§11.1), or an array of them."""
    for p, item in c.items(doc, key, path):
        if isinstance(item, str):
            continue
        if (
            isinstance(item, Mapping)
            and isinstance(item.get("@value"), str)
            and set(item) <= _LANGUAGE_VALUE_KEYS
        ):
            continue
        c.fail("wrong_type", f"{key} must be a string or a language value object", p)
