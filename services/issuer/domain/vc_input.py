"""The VC-API issue request (W3C VCALM §3.3 "Issue Credential"): its body,
and which unsigned credentials we sign.

Pure: no I/O. `services/issuer/vc_api.py` is the use case around it.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

import msgspec

from shared.credentials.model import check_credential
from shared.credentials.shape_rules import is_uri
from shared.credentials.vocab import (
    ACHIEVEMENT_CREDENTIAL_TYPES,
    VC_V1_CONTEXT,
)
from shared.errors import DomainError
from shared.timestamps import Timestamp

DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
BITSTRING_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
# Entries of status lists: ours are added by the issuer (options.credentialStatus);
# one the caller wrote would point at a list we do not manage.
LIST_STATUS_TYPES = frozenset(
    {"BitstringStatusListEntry", "StatusList2021Entry", "RevocationList2020Status"}
)
_MAX_REASONS = 10
# Objects and arrays inside one another, the credential itself being depth 1.
# Our verifier's default budget refuses the 32nd level of a request body
# (max_json_depth 32, services/verifier/budget.py), and a credential sent
# there sits one level down (`{"verifiableCredential": ...}`), three in a
# presentation's list: deeper credentials would not verify. The bound also
# keeps every recursive step of issuing (copy.deepcopy, pyld's canonicalisation
# at about three stack frames a level, orjson's 254 levels in the request
# fingerprint and the VC-JWT) far from Python's recursion limit.
MAX_DEPTH = 29


class StatusOption(msgspec.Struct, forbid_unknown_fields=True):
    """Ask for a status entry of our lists (Bitstring Status List v1.0 §2.1);
    without `statusPurpose`, one entry per purpose (revocation, suspension)."""

    type: Literal["BitstringStatusListEntry"]
    statusPurpose: Literal["revocation", "suspension"] | None = None


class AssessmentOption(msgspec.Struct, forbid_unknown_fields=True):
    """The assessment behind an Open Badge of one of our achievements: the
    same mastery gate as `POST /awards`."""

    score: float
    maxScore: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    assessedAt: Timestamp | None = None


class IssueOptions(msgspec.Struct, forbid_unknown_fields=True):
    """VCALM `IssueCredentialOptions`, as far as we support them."""

    securingMechanism: Literal["DataIntegrity", "VC-JWT"] = "DataIntegrity"
    credentialStatus: StatusOption | None = None
    assessment: AssessmentOption | None = None
    credentialId: str | None = None  # VCALM: the id to give a credential that has none


class IssueCredentialIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /credentials/issue`: `{credential, options?}`."""

    credential: dict[str, Any]
    options: IssueOptions = msgspec.field(default_factory=IssueOptions)


class InvalidCredential(DomainError):
    """The credential to sign is not a conforming unsigned credential."""

    title = "Invalid credential"
    problem = "invalid-credential"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        if errors:
            self.extra = {"errors": errors}


def is_open_badge(credential: dict[str, Any]) -> bool:
    types = credential.get("type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(name, str) and name in ACHIEVEMENT_CREDENTIAL_TYPES for name in names)


def achievement_id(credential: dict[str, Any]) -> str | None:
    """The achievement an Open Badge is about (OB 3.0 §B.1.3)."""
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    found = achievement.get("id") if isinstance(achievement, dict) else None
    return found if isinstance(found, str) else None


def checked_credential(credential: dict[str, Any]) -> dict[str, Any]:
    """A copy of `credential`, refused (`InvalidCredential`) unless it follows
    the data model (VC 2.0 §4, or VC 1.1; the Open Badges rules for OB
    types), has no proof yet and no status entry of a list it made up."""
    too_deep = _too_deep(credential)
    if too_deep is not None:  # before any rule walks it
        message = f"objects and arrays are nested more than {MAX_DEPTH} deep"
        raise InvalidCredential(f"{too_deep}: {message}", [{"path": too_deep, "message": message}])
    errors = [
        {"path": f"$.credential.{e.path}" if e.path else "$.credential", "message": e.detail}
        for e in check_credential(credential)
    ]
    if "proof" in credential:
        errors.append({"path": "$.credential.proof", "message": "the credential is signed here"})
    errors.extend(_status_errors(credential))
    if errors:
        first = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:_MAX_REASONS])
        raise InvalidCredential(first, errors)
    return copy.deepcopy(credential)


def _too_deep(credential: dict[str, Any]) -> str | None:
    """The path of the first object or array nested deeper than `MAX_DEPTH`,
    else None (an explicit stack: the walk itself does not recurse)."""
    stack: list[tuple[dict[str, Any] | list[Any], str, int]] = [(credential, "$.credential", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path
        members = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in members:
            if isinstance(child, dict | list):
                where = f"{path}[{key}]" if isinstance(node, list) else f"{path}.{key}"
                stack.append((child, where, depth + 1))
    return None


def check_credential_id_option(options: IssueOptions) -> None:
    """`options.credentialId` becomes the credential's `id`, so it follows the
    same rule: a URL (VC Data Model 2.0 §4.4 Identifiers)."""
    given = options.credentialId
    if given is not None and not is_uri(given):
        raise InvalidCredential(
            "options.credentialId must be a URL",
            [{"path": "$.options.credentialId", "message": "not a URL"}],
        )


def _status_errors(credential: dict[str, Any]) -> list[dict[str, str]]:
    raw = credential.get("credentialStatus")
    entries = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return [
        {
            "path": "$.credential.credentialStatus",
            "message": f"a {entry['type']} is added here: ask with options.credentialStatus",
        }
        for entry in entries
        if isinstance(entry, dict) and entry.get("type") in LIST_STATUS_TYPES
    ]


def is_vc1(credential: dict[str, Any]) -> bool:
    context = credential.get("@context")
    return isinstance(context, list) and bool(context) and context[0] == VC_V1_CONTEXT


def with_context(credential: dict[str, Any], url: str) -> None:
    """Append `url` to the credential's contexts unless it is there already."""
    context = credential["@context"]
    if url not in context:
        context.append(url)
