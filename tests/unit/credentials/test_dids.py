"""dids.py: did:key, did:jwk, did:web and key look-up by proof purpose."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.credentials.crypto_keys import (
    b58encode,
    b64url_encode,
    generate_ed25519,
    generate_p256,
    public_key_multibase,
    public_key_to_jwk,
)
from shared.credentials.dids import (
    DidResolver,
    did_jwk_document,
    did_jwk_for,
    did_key_document,
    did_key_for,
    did_web_url,
)
from shared.credentials.errors import DidError

SPEC_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def test_did_key_document_shape() -> None:
    doc = did_key_document(SPEC_DID)
    vm_id = SPEC_DID + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    assert doc["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert doc["verificationMethod"] == [
        {
            "id": vm_id,
            "type": "Multikey",
            "controller": SPEC_DID,
            "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        }
    ]
    for purpose in (
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        assert doc[purpose] == [vm_id]


@pytest.mark.parametrize(
    "did", ["did:key:", "did:key:abc", "did:key:z" + b58encode(b"\xed\x01" + b"\x00" * 5)]
)
def test_did_key_invalid(did: str) -> None:
    with pytest.raises(DidError) as err:
        did_key_document(did)
    assert err.value.code == "invalid_did"


def test_did_jwk_document_and_use() -> None:
    key = generate_p256()
    did = did_jwk_for(key.public_key)
    doc = did_jwk_document(did)
    assert doc["verificationMethod"][0]["publicKeyJwk"] == public_key_to_jwk(key.public_key)
    assert doc["assertionMethod"] == [did + "#0"] and doc["keyAgreement"] == [did + "#0"]
    enc = {**public_key_to_jwk(key.public_key), "use": "enc"}
    enc_did = "did:jwk:" + b64url_encode(json.dumps(enc).encode())
    assert "assertionMethod" not in did_jwk_document(enc_did)
    private = {**public_key_to_jwk(key.public_key), "d": "AAAA"}
    with pytest.raises(DidError):
        did_jwk_document("did:jwk:" + b64url_encode(json.dumps(private).encode()))


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user", "https://example.com:3000/user/did.json"),
    ],
)
def test_did_web_url(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did",
    ["did:web:", "did:web:exa mple.com", "did:web:example.com:..", "did:web:a%2Fb", "did:web:x@y"],
)
def test_did_web_url_invalid(did: str) -> None:
    with pytest.raises(DidError):
        did_web_url(did)


async def test_resolver_did_key_and_caching() -> None:
    key = generate_ed25519()
    resolver = DidResolver()
    assert (await resolver.resolve(key.kid))["id"] == did_key_for(key.public_key)
    pub = await resolver.verification_key(key.kid)
    assert isinstance(pub, Ed25519PublicKey)
    assert public_key_multibase(pub) == public_key_multibase(key.public_key)
    assert await resolver.verification_key(key.kid) is pub  # cached


def _web_doc(did: str, assertion: list[Any], methods: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": did, "verificationMethod": methods, "assertionMethod": assertion}


async def test_did_web_via_fetch_and_purpose_check() -> None:
    key = generate_ed25519()
    did = "did:web:issuer.example"
    method = {
        "id": f"{did}#k1",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public_key_multibase(key.public_key),
    }
    auth_only = {**method, "id": f"{did}#k2"}
    doc = _web_doc(did, ["#k1"], [method, auth_only])
    doc["authentication"] = ["#k2"]
    fetched: list[str] = []

    async def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return doc

    resolver = DidResolver(fetch_json=fetch)
    assert isinstance(await resolver.verification_key(f"{did}#k1"), Ed25519PublicKey)
    assert fetched == ["https://issuer.example/.well-known/did.json"]
    with pytest.raises(DidError) as err:
        await resolver.verification_key(f"{did}#k2")
    assert err.value.code == "key_not_authorized"
    with pytest.raises(DidError) as err:
        await resolver.verification_key(f"{did}#nope")
    assert err.value.code == "not_found"
    assert isinstance(
        await resolver.verification_key(f"{did}#k2", "authentication"), Ed25519PublicKey
    )


async def test_embedded_and_legacy_method_types() -> None:
    key = generate_ed25519()
    did = "did:example:legacy"
    raw = public_key_multibase(key.public_key)
    doc = {
        "id": did,
        "assertionMethod": [
            {
                "id": "#a",
                "type": "Ed25519VerificationKey2020",
                "controller": did,
                "publicKeyMultibase": raw,
            },
            {
                "id": "#b",
                "type": "Ed25519VerificationKey2018",
                "controller": did,
                "publicKeyBase58": b58encode(key.public_key.public_bytes_raw()),
            },
            {
                "id": "#c",
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": public_key_to_jwk(key.public_key),
            },
            {
                "id": "#d",
                "type": "Ed25519VerificationKey2020",
                "controller": did,
                "publicKeyMultibase": public_key_multibase(generate_p256().public_key),
            },
            {"id": "#e", "type": "EcdsaSecp256k1VerificationKey2019", "controller": did},
        ],
    }
    resolver = DidResolver(known={did: doc})
    for frag in "abc":
        pub = await resolver.verification_key(f"{did}#{frag}")
        assert public_key_multibase(pub) == raw
    for frag in "de":
        with pytest.raises(DidError) as err:
            await resolver.verification_key(f"{did}#{frag}")
        assert err.value.code == "bad_document"


async def test_errors_unsupported_mismatch_and_unreachable() -> None:
    async def fetch(url: str) -> dict[str, Any]:
        if "down" in url:
            raise OSError("connection refused")
        return {"id": "did:web:someone.else"}

    resolver = DidResolver(fetch_json=fetch)
    cases = [
        ("did:ion:abc", "unsupported_method"),
        ("did:web:evil.example", "bad_document"),
        ("did:web:down.example", "unavailable"),
    ]
    for did, code in cases:
        with pytest.raises(DidError) as err:
            await resolver.resolve(did)
        assert err.value.code == code, did
    with pytest.raises(DidError) as err:
        await DidResolver().resolve("did:web:example.com")
    assert err.value.code == "unavailable"


async def test_known_documents_win_and_are_live() -> None:
    key = generate_ed25519()
    did = "did:web:school.example"
    known: dict[str, dict[str, Any]] = {}
    resolver = DidResolver(known=known)
    with pytest.raises(DidError):
        await resolver.resolve(did)
    known[did] = _web_doc(
        did,
        [f"{did}#k"],
        [
            {
                "id": f"{did}#k",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": public_key_to_jwk(key.public_key),
            }
        ],
    )
    assert isinstance(await resolver.verification_key(f"{did}#k"), Ed25519PublicKey)
    # a bare DID names the key when exactly one method is authorised for the purpose
    assert isinstance(await resolver.verification_key(did), Ed25519PublicKey)
