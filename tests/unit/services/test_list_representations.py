"""services/revocation/representations.py: JSON-LD unless the VC-JWT is asked for."""

from __future__ import annotations

import msgspec
import orjson
import pytest

from services.revocation.representations import JSON_LD, JWT, representation
from shared.events import StatusListPublished

SNAPSHOT = StatusListPublished(
    list_id="l-revocation-0",
    list_url="https://status.example/l-revocation-0",
    issuer_did="did:example:issuer",
    purpose="revocation",
    sequence=7,
    credential_jwt="eyJ.a.b",
    credential_ldp={"type": ["VerifiableCredential", "BitstringStatusListCredential"]},
)


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        ("", JSON_LD),
        ("*/*", JSON_LD),
        ("application/json", JSON_LD),
        ("application/vc+jwt", JWT),
        ("application/jwt", JWT),
        ("application/vc+jwt, application/vc+ld+json", JSON_LD),  # a tie: JSON-LD
        ("application/vc+ld+json;q=0.5, application/vc+jwt", JWT),
        ("application/vc+jwt;q=0, application/json", JSON_LD),
        ("application/vc+jwt;q=bogus", JSON_LD),
    ],
)
def test_negotiation(accept: str, form: str) -> None:
    assert representation(SNAPSHOT, accept).content_type == form


def test_bodies_and_etags() -> None:
    ld, jwt = representation(SNAPSHOT, ""), representation(SNAPSHOT, JWT)
    assert orjson.loads(ld.body) == SNAPSHOT.credential_ldp and ld.etag == '"7"'
    assert jwt.body == b"eyJ.a.b" and jwt.etag == '"7-jwt"'
    old = msgspec.structs.replace(SNAPSHOT, credential_ldp=None)
    assert representation(old, "").content_type == JWT  # made before JSON-LD lists
