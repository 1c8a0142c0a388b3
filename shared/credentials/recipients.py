"""Hashed recipient identifiers (OB 3.0 ``IdentityObject``).

OB 3.0 §B.1.12 (IdentityObject) and the ``IdentityHash`` derived type: the
hash is ``<alg>$<hex>`` over the UTF-8 identifier with the salt appended
(``sha256("a@example.com" + "Kosher")``); ``md5`` and ``sha256`` are the only
algorithms, and the hex digits may be upper or lower case.  The spec does not
normalise identifiers; we lower-case and trim e-mail addresses before hashing,
and when matching we accept both the value as given and its normalised form,
so hashes made by issuers that do not normalise still match.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping

from shared.credentials.errors import ShapeError
from shared.credentials.report import CheckResult

EMAIL = "emailAddress"
SALT_BYTES = 16

_ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    "sha256": lambda data: hashlib.sha256(data).hexdigest(),
    # md5 is only read, never written: OB 3.0 still allows it for old issuers.
    "md5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
}


def normalise_identity(value: str, identity_type: str = EMAIL) -> str:
    """Our issuer-side normalisation: e-mail addresses trimmed and lower-cased."""
    if identity_type == EMAIL:
        return value.strip().lower()
    return value


def hash_identity(
    value: str, salt: str | None = None, identity_type: str = EMAIL
) -> dict[str, object]:
    """A hashed ``IdentityObject`` for ``value`` (random 16-byte hex salt by default).

    An empty ``salt`` makes an unsalted hash (no ``salt`` member), which the
    spec allows but which is easy to reverse for e-mail addresses.
    """
    if not value:
        raise ValueError("identity value must not be empty")
    if salt is None:
        salt = secrets.token_hex(SALT_BYTES)
    normalised = normalise_identity(value, identity_type)
    digest = _ALGORITHMS["sha256"]((normalised + salt).encode("utf-8"))
    identity: dict[str, object] = {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": identity_type,
        "hashed": True,
    }
    if salt:
        identity["salt"] = salt
    return identity


def plain_identity(value: str, identity_type: str) -> dict[str, object]:
    """An unhashed ``IdentityObject`` (``hashed: false``), e.g. a student id."""
    return {
        "type": "IdentityObject",
        "identityHash": value,
        "identityType": identity_type,
        "hashed": False,
    }


def matches_identity(identity: Mapping[str, object], value: str) -> bool:
    """True when ``value`` is the identifier the ``IdentityObject`` describes.

    Comparisons run in constant time over every candidate form of ``value``.
    Raises ``ShapeError`` when the object is not a usable ``IdentityObject``.
    """
    stored = identity.get("identityHash")
    hashed = identity.get("hashed")
    identity_type = identity.get("identityType", EMAIL)
    if not isinstance(stored, str) or not isinstance(hashed, bool):
        raise ShapeError(
            "bad_identity", "identityHash must be a string and hashed a boolean", "identifier"
        )
    kind = identity_type if isinstance(identity_type, str) else EMAIL
    candidates = {value, normalise_identity(value, kind)}
    if not hashed:
        return _any_equal(stored.encode("utf-8"), (c.encode("utf-8") for c in candidates))
    algorithm, sep, expected_hex = stored.partition("$")
    hash_fn = _ALGORITHMS.get(algorithm.lower())
    if not sep or hash_fn is None:
        raise ShapeError(
            "bad_identity_hash",
            "identityHash must be 'sha256$<hex>' or 'md5$<hex>' (OB 3.0 IdentityHash)",
            "identifier.identityHash",
        )
    salt = identity.get("salt", "")
    salt_text = salt if isinstance(salt, str) else ""
    expected = expected_hex.lower().encode("ascii", errors="replace")
    digests = (hash_fn((c + salt_text).encode("utf-8")).encode("ascii") for c in candidates)
    return _any_equal(expected, digests)


def _any_equal(expected: bytes, candidates: Iterable[bytes]) -> bool:
    """Constant-time membership: every candidate is compared, no early exit."""
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(expected, candidate)
    return found


RECIPIENT = "recipient"


def recipient_check(subject: object, value: str | None) -> CheckResult | None:
    """Does the credential name ``value`` (an e-mail address, a DID, a student
    id) as its learner? OB 3.0 §9.1 step "recipient": compared with every
    ``IdentityObject`` of ``credentialSubject.identifier`` (salted hash or
    plain) and with ``credentialSubject.id``. None when no value was given;
    ``not_checked`` when the credential names no identifier to compare.
    """
    if not value:
        return None
    found = subject if isinstance(subject, Mapping) else {}
    raw = found.get("identifier")
    identities = [i for i in (raw if isinstance(raw, list) else [raw]) if isinstance(i, Mapping)]
    subject_id = found.get("id") if isinstance(found.get("id"), str) else None
    kinds = sorted({str(i.get("identityType", EMAIL)) for i in identities})
    details = {"identityTypes": kinds, "subjectId": subject_id is not None}
    if not identities and subject_id is None:
        return CheckResult(
            RECIPIENT,
            "not_checked",
            "the credential names no learner identifier to compare with",
            "no_identifier",
            details=details,
        )
    matched = subject_id is not None and hmac.compare_digest(
        subject_id.encode("utf-8"), value.strip().encode("utf-8")
    )
    for identity in identities:
        try:
            matched |= matches_identity(identity, value)
        except ShapeError:
            continue  # an unusable IdentityObject matches nothing
    if matched:
        return CheckResult(
            RECIPIENT, "ok", "the credential was issued to this recipient", details=details
        )
    return CheckResult(
        RECIPIENT,
        "failed",
        "the credential names another learner than the one given",
        "recipient_mismatch",
        details=details,
    )
