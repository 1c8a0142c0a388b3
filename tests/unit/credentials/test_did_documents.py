"""did:web documents we host (rotation, compromise) and the compromise rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.did_documents import (
    add_method,
    current_method_id,
    method_ids,
    revoke_method,
    web_did,
    web_document,
)
from shared.credentials.dids import DidResolver, did_key_document, did_key_for, did_web_url
from shared.credentials.errors import DidError
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.key_revocation import compromised, made_at
from shared.credentials.verify import verify_credential
from tests.unit.credentials.vc_samples import NOW, iso, ob3_credential


def test_web_did_encodes_the_port_and_keeps_the_base_path() -> None:
    did = web_did("http://127.0.0.1:8082", "issuers", "abc")
    assert did == "did:web:127.0.0.1%3A8082:issuers:abc"
    assert did_web_url(did) == "https://127.0.0.1:8082/issuers/abc/did.json"
    did = web_did("https://creds.example.org/api/", "issuers", "abc")
    assert did == "did:web:creds.example.org:api:issuers:abc"
    assert did_web_url(did) == "https://creds.example.org/api/issuers/abc/did.json"
    with pytest.raises(DidError):
        web_did("not a url", "issuers", "abc")


def test_document_rotation_keeps_old_methods_for_assertions() -> None:
    did = web_did("https://uni.example", "issuers", "x")
    first, second = generate_ed25519(), generate_ed25519()
    doc = web_document(did, first.public_key)
    assert doc["verificationMethod"][0]["type"] == "Multikey"
    assert current_method_id(doc) == f"{did}#key-1"
    rotated, new_id = add_method(doc, second.public_key)
    assert new_id == f"{did}#key-2" == current_method_id(rotated)
    assert method_ids(rotated) == [f"{did}#key-1", f"{did}#key-2"]
    assert rotated["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    assert rotated["authentication"] == [new_id]
    assert len(doc["verificationMethod"]) == 1  # the input is not changed
    revoked = revoke_method(rotated, f"{did}#key-1", "2025-06-01T00:00:00Z")
    assert revoked["verificationMethod"][0]["revoked"] == "2025-06-01T00:00:00Z"
    assert "revoked" not in rotated["verificationMethod"][0]
    with pytest.raises(DidError):
        revoke_method(rotated, f"{did}#key-9", "2025-06-01T00:00:00Z")


def test_did_key_documents_cannot_rotate() -> None:
    key = generate_ed25519()
    with pytest.raises(DidError):
        add_method(did_key_document(did_key_for(key.public_key)), generate_ed25519().public_key)


def test_compromise_rule_at_or_after_fails_before_passes() -> None:
    at = NOW
    assert compromised(None, NOW) is None
    assert compromised(iso(at), NOW - timedelta(seconds=1)) is None
    assert compromised(iso(at), NOW) is not None  # at the time: fails
    assert compromised(iso(at), NOW + timedelta(days=1)) is not None
    assert compromised("yesterday", NOW - timedelta(days=9)) is not None  # unreadable: always


def test_made_at_takes_the_latest_claim() -> None:
    doc: dict[str, Any] = {
        "validFrom": iso(NOW - timedelta(days=2)),
        "proof": {"created": iso(NOW - timedelta(days=1))},
    }
    assert made_at(doc, None, NOW) == NOW - timedelta(days=1)
    assert made_at({}, None, NOW) == NOW  # no claim: made now
    assert made_at({"validFrom": "garbage"}, None, NOW) == NOW


class WebIssuer:
    def __init__(self) -> None:
        self.did = web_did("https://uni.example", "issuers", "x")
        self.old = generate_ed25519()
        self.new = generate_ed25519()
        doc = web_document(self.did, self.old.public_key)
        self.doc, self.new_id = add_method(doc, self.new.public_key)

    def signer(self, which: str) -> SigningKey:
        key = self.old if which == "old" else self.new
        return SigningKey(key.private_key, f"{self.did}#key-{1 if which == 'old' else 2}")


async def _codes(issuer: WebIssuer, credential: dict[str, Any] | str) -> dict[str, Any]:
    resolver = DidResolver(known={issuer.did: issuer.doc})
    report = await verify_credential(credential, resolver=resolver, status_lists=None, now=NOW)  # type: ignore[arg-type]
    return {c.name: (c.outcome, c.code) for c in report.checks}


@pytest.mark.parametrize("form", ["jwt", "data_integrity"])
async def test_compromised_key_fails_later_credentials_only(form: str) -> None:
    issuer = WebIssuer()
    before = ob3_credential(issuer.did, valid_from=NOW - timedelta(days=3))
    after = ob3_credential(issuer.did, valid_from=NOW - timedelta(hours=1))

    def signed(doc: dict[str, Any], which: str) -> dict[str, Any] | str:
        key = issuer.signer(which)
        if form == "jwt":
            return sign_vc_jwt(doc, key)
        return sign_data_integrity(doc, key, created=NOW - timedelta(days=3))

    # Rotated, nothing compromised: both keys verify.
    assert (await _codes(issuer, signed(after, "old")))["proof"] == ("ok", None)
    assert (await _codes(issuer, signed(after, "new")))["proof"] == ("ok", None)

    issuer.doc = revoke_method(issuer.doc, f"{issuer.did}#key-1", iso(NOW - timedelta(days=1)))
    assert (await _codes(issuer, signed(before, "old")))["proof"] == ("ok", None)
    failed = await _codes(issuer, signed(after, "old"))
    assert failed["proof"] == ("failed", "key_compromised")
    assert failed["status"] == ("not_checked", "no_proof")
    assert (await _codes(issuer, signed(after, "new")))["proof"] == ("ok", None)
