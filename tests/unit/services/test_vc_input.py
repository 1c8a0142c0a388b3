"""services/issuer/domain/vc_input.py: which unsigned credentials the VC-API issuer signs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
import pytest

from services.issuer.domain.vc_input import (
    MAX_DEPTH,
    InvalidCredential,
    IssueCredentialIn,
    IssueOptions,
    achievement_id,
    check_credential_id_option,
    checked_credential,
    is_open_badge,
    is_vc1,
    with_context,
)
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.jwt import sign_vc_jwt
from shared.idempotency import fingerprint
from tests.unit.credentials.di_samples import did_of

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
GOOD: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:subject"},
}


def test_a_conforming_credential_is_copied() -> None:
    copied = checked_credential(GOOD)
    assert copied == GOOD and copied is not GOOD
    copied["credentialSubject"]["id"] = "changed"
    assert GOOD["credentialSubject"]["id"] == "did:example:subject"
    other_status = {"type": "CredentialStatusList2017", "id": "did:example:status"}
    assert checked_credential({**GOOD, "credentialStatus": other_status})


@pytest.mark.parametrize(
    ("member", "value", "path"),
    [
        ("@context", 4, "$.credential.@context"),
        ("@context", None, "$.credential.@context"),
        ("type", [None], "$.credential.type"),
        ("issuer", True, "$.credential.issuer"),
        ("credentialSubject", None, "$.credential.credentialSubject"),
        ("proof", {"type": "DataIntegrityProof"}, "$.credential.proof"),
        (
            "credentialStatus",
            {"type": "BitstringStatusListEntry", "statusListCredential": "https://x.example/l"},
            "$.credential.credentialStatus",
        ),
    ],
)
def test_refused(member: str, value: object, path: str) -> None:
    with pytest.raises(InvalidCredential) as info:
        checked_credential({**GOOD, member: value})
    paths = [e["path"] for e in info.value.extra["errors"]]  # type: ignore[union-attr]
    assert any(p.startswith(path) for p in paths), paths


def test_request_body() -> None:
    body = msgspec.convert({"credential": GOOD}, IssueCredentialIn)
    assert body.options.securingMechanism == "DataIntegrity"
    assert body.options.credentialStatus is None
    for bad in (
        {"verifiableCredential": GOOD},
        {"credential": GOOD, "options": {"securingMechanism": "SD-JWT"}},
        {"credential": GOOD, "options": {"credentialStatus": {"type": "StatusList2021Entry"}}},
        {"credential": GOOD, "options": {"assessment": {"score": 1, "maxScore": 0}}},
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(bad, IssueCredentialIn)


def test_helpers() -> None:
    badge = {
        **GOOD,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "credentialSubject": {"achievement": {"id": "https://c.example/a/1"}},
    }
    assert is_open_badge(badge) and not is_open_badge(GOOD)
    assert achievement_id(badge) == "https://c.example/a/1" and achievement_id(GOOD) is None
    v1 = {**GOOD, "@context": ["https://www.w3.org/2018/credentials/v1"]}
    assert is_vc1(v1) and not is_vc1(GOOD)
    with_context(v1, "https://w3id.org/security/data-integrity/v2")
    with_context(v1, "https://w3id.org/security/data-integrity/v2")
    assert v1["@context"][1:] == ["https://w3id.org/security/data-integrity/v2"]


@pytest.mark.parametrize("given", ["", " ", "x", "not a url"])
def test_a_credential_id_option_that_is_no_url_is_refused(given: str) -> None:
    options = msgspec.convert({"credentialId": given}, IssueOptions)
    with pytest.raises(InvalidCredential) as refused:
        check_credential_id_option(options)
    assert refused.value.extra["errors"][0]["path"] == "$.options.credentialId"
    check_credential_id_option(IssueOptions(credentialId="urn:uuid:1"))
    check_credential_id_option(IssueOptions())


def nested_subject(levels: int) -> dict[str, Any]:
    """A credentialSubject (depth 2) holding `levels` objects, each inside the last."""
    inner: object = "leaf"
    for _ in range(levels):
        inner = {"x": inner}
    return {"id": "did:example:subject", "x": inner}


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, 300, 5000])
def test_a_credential_nested_too_deep_is_refused(levels: int) -> None:
    # 300 levels passed the shape rules and overflowed the stack in copy.deepcopy (a 500)
    with pytest.raises(InvalidCredential) as refused:
        checked_credential({**GOOD, "credentialSubject": nested_subject(levels)})
    path = refused.value.extra["errors"][0]["path"]
    assert path == "$.credential.credentialSubject" + ".x" * (MAX_DEPTH - 1)


@contextmanager
def stack_headroom(frames: int) -> Iterator[None]:
    """Python's recursion limit set `frames` above the current stack (a server's
    request handler runs far deeper than a test)."""
    depth, frame = 0, sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def test_the_deepest_accepted_credential_signs_within_a_small_stack() -> None:
    # parentOrg (OB 3.0 §B.1.14 Profile) nests terms the contexts define, so
    # canonicalisation walks every level instead of stopping at an undefined term
    key = generate_ed25519()
    org: dict[str, Any] = {"id": "https://org.example/top", "type": ["Profile"]}
    # depths: credential 1, issuer 2, parentOrg 3 to MAX_DEPTH - 1, the innermost
    # type array MAX_DEPTH
    for i in range(MAX_DEPTH - 4):
        org = {"id": f"https://org.example/{i}", "type": ["Profile"], "parentOrg": org}
    credential = {
        **GOOD,
        "@context": [*GOOD["@context"], OB_CONTEXT],
        "id": "urn:uuid:5d1c7ee8-05a8-4c35-9fd1-0a6c4f1b8a01",
        "issuer": {"id": did_of(key), "type": ["Profile"], "parentOrg": org},
    }
    copied = checked_credential(credential)
    with stack_headroom(400):  # under half of Python's default limit
        sign_data_integrity(copied, key)
        sign_vc_jwt(copied, key)
        fingerprint(["vc-api", msgspec.convert({"credential": copied}, IssueCredentialIn)])
    one_more = {**credential, "issuer": {**credential["issuer"], "parentOrg": {"parentOrg": org}}}
    with pytest.raises(InvalidCredential):
        checked_credential(one_more)
