"""Registering an issuer: the profile its credentials carry must sign and verify."""

from __future__ import annotations

from typing import Any

import pytest

from services.issuer.identities import IssuerIn
from shared.credentials.model import check_profile
from shared.errors import InvalidField, InvalidFields

GOOD: dict[str, Any] = {
    "name": "Example Polytechnic",
    "url": "https://poly.example",
    "email": "registrar@poly.example",
    "country": "IE",
    "region": "Leinster",
}


def test_a_complete_profile_is_accepted() -> None:
    body = IssuerIn(**GOOD)
    body.check()
    profile = body.profile("did:example:issuer")
    assert check_profile(profile) == []
    assert profile["address"]["addressCountryCode"] == "IE"


@pytest.mark.parametrize(
    ("member", "value", "path"),
    [
        ("url", "notaurl", "$.url"),
        ("url", "https://a.b/ sp", "$.url"),
        ("url", "javascript:alert(1)", "$.url"),
        ("email", "bad", "$.email"),
        ("country", "zz", "$.country"),
        ("name", "\u200b\u202e", "$.name"),  # shows nothing on a page
        ("name", " ", "$.name"),
    ],
)
def test_what_the_verifier_would_refuse_is_refused_naming_the_member(
    member: str, value: str, path: str
) -> None:
    with pytest.raises((InvalidField, InvalidFields)) as info:
        IssuerIn(**{**GOOD, member: value}).check()
    assert path in info.value.detail
