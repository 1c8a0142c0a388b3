"""services/issuer/domain/vc_input.py: which unsigned credentials the VC-API issuer signs."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.issuer.domain.vc_input import (
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
