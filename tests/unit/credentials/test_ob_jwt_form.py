"""OB 3.0 §8.2: the JWT form our issuer produces for Open Badges.

§8.2.1: the JOSE header holds ``alg``, ``kid`` (or ``jwk``) and ``typ``, which
MUST then be ``"JWT"``; no other header. When a credential carries both proofs,
the Data Integrity proof is made first and sits inside the JWT payload.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from openbadgeslib.ob3 import OB3Verifier

from services.issuer.signing import SigningPool, sign_both
from shared.credentials.crypto_keys import (
    KeyFormatError,
    SigningKey,
    generate_ed25519,
    generate_p256,
)
from shared.credentials.data_integrity import verify_data_integrity
from shared.credentials.did_documents import current_method_id, web_document
from shared.credentials.dids import JWS_2020_CONTEXT, DidResolver, did_key_document, did_key_for
from shared.credentials.jws import peek_jws
from shared.credentials.jwt import verify_vc_jwt
from shared.errors import Unavailable
from shared.keystore import RSA_BITS
from tests.unit.credentials.vc_samples import ob3_credential

RESOLVER = DidResolver()


@pytest.fixture(scope="module")
def signed() -> tuple[SigningKey, str, dict[str, object]]:
    key = generate_ed25519()
    did = did_key_for(key.public_key)
    jwt, credential = sign_both(ob3_credential(did, name="Header Rules"), key)
    return key, jwt, credential


def test_header_is_alg_kid_and_typ_jwt_only(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    key, jwt, _ = signed
    header, _ = peek_jws(jwt)
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_data_integrity_proof_is_inside_the_payload(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    _, jwt, credential = signed
    _, payload = peek_jws(jwt)
    assert payload["proof"] == credential["proof"]
    assert payload["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    # the credential read from the JWT is the Data Integrity one, and both proofs hold
    from_jwt = asyncio.run(verify_vc_jwt(jwt, RESOLVER))
    assert from_jwt == credential
    asyncio.run(verify_data_integrity(from_jwt, RESOLVER))


def test_an_independent_ob3_verifier_accepts_it(
    signed: tuple[SigningKey, str, dict[str, object]],
) -> None:
    key, jwt, credential = signed
    verified = OB3Verifier(pubkey_pem=key.public_key).verify(jwt)
    assert verified.id == credential["id"]
    assert verified.achievement.name == "Header Rules"


# --- per-issuer key types (OB 3.0 §8.2: RS256 is the minimum; ES256 available) ---


def _key_of_kind(kind: str) -> tuple[SigningKey, str, dict[str, object]]:
    """A key of ``kind``, its issuer DID and DID document, as the issuer makes them."""
    if kind == "P-256":
        key = generate_p256()
        did = did_key_for(key.public_key)
        return key, did, did_key_document(did)
    did = "did:web:issuer.example:issuers:rsa"
    private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    document = web_document(did, private.public_key())
    return SigningKey(private, current_method_id(document)), did, document


@pytest.mark.parametrize(("kind", "alg"), [("P-256", "ES256"), ("RSA", "RS256")])
def test_p256_and_rsa_issuers_sign_es256_and_rs256_jwts(kind: str, alg: str) -> None:
    key, did, document = _key_of_kind(kind)
    jwt, credential = sign_both(ob3_credential(did, name="Key Types"), key)
    header, payload = peek_jws(jwt)
    assert header == {"alg": alg, "kid": key.kid, "typ": "JWT"}
    # an independent OB 3.0 verifier accepts it, and refuses another key's signature
    verified = OB3Verifier(pubkey_pem=key.public_key).verify(jwt)
    assert verified.achievement.name == "Key Types"
    other, _, _ = _key_of_kind(kind)
    with pytest.raises(Exception, match=r"(?i)signature|verif"):
        OB3Verifier(pubkey_pem=other.public_key).verify(jwt)
    # ours, resolving the key from the DID document as any verifier would
    resolver = DidResolver(known={did: document})
    from_jwt = asyncio.run(verify_vc_jwt(jwt, resolver))
    assert from_jwt["credentialSubject"] == payload["credentialSubject"]
    if kind == "P-256":  # ecdsa-rdfc-2019, inside the payload (§8.2)
        assert credential is not None and payload["proof"] == credential["proof"]
        assert credential["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
        asyncio.run(verify_data_integrity(credential, resolver))
    else:  # no RSA Data Integrity cryptosuite: the VC-JWT is the only proof
        assert credential is None and "proof" not in payload


def test_rsa_keys_are_published_as_jwks_on_did_web() -> None:
    _, _, document = _key_of_kind("RSA")
    (method,) = document["verificationMethod"]  # type: ignore[misc]
    assert method["type"] == "JsonWebKey2020"
    assert method["publicKeyJwk"]["kty"] == "RSA" and "d" not in method["publicKeyJwk"]
    assert JWS_2020_CONTEXT in document["@context"]  # type: ignore[operator]
    _, _, p256_doc = _key_of_kind("P-256")
    assert p256_doc["id"].startswith("did:key:zDn")  # type: ignore[union-attr]
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError):
        SigningKey(small, "did:web:issuer.example#key-1")  # RFC 7518 §3.3


def test_an_rsa_issuers_domain_linkage_is_the_jwt_form() -> None:
    from datetime import UTC, datetime

    from services.issuer.linkage import linkage_entries

    key, did, _ = _key_of_kind("RSA")
    now = datetime.now(UTC).replace(microsecond=0)
    for form in ("jwt", "jsonld", "both"):
        (entry,) = linkage_entries(did, "issuer.example", key, now, form)  # type: ignore[arg-type]
        assert isinstance(entry, str) and peek_jws(entry)[0]["alg"] == "RS256"
    ed = generate_ed25519("did:web:issuer.example#key-1")
    assert len(linkage_entries("did:web:issuer.example", "issuer.example", ed, now, "both")) == 2


def test_the_signing_pool_signs_each_key_kind_as_on_the_event_loop() -> None:
    """services/issuer/signing.py: the key crosses to a pool process as PKCS#8."""
    ed25519 = generate_ed25519()
    did = did_key_for(ed25519.public_key)
    kinds = [(ed25519, did, did_key_document(did)), _key_of_kind("P-256"), _key_of_kind("RSA")]

    async def sign_all() -> list[tuple[str, dict[str, Any] | None]]:
        pool = SigningPool(1)
        pool.start()
        try:
            return [await pool.sign(ob3_credential(d, name="Pooled"), k) for k, d, _ in kinds]
        finally:
            pool.stop()

    signed = asyncio.run(sign_all())
    assert [credential is None for _, credential in signed] == [False, False, True]
    for (key, did, document), (jwt, credential) in zip(kinds, signed, strict=True):
        resolver = DidResolver(known={did: document})
        header, payload = peek_jws(jwt)
        assert header == {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        from_jwt = asyncio.run(verify_vc_jwt(jwt, resolver))
        assert from_jwt["credentialSubject"] == payload["credentialSubject"]
        if credential is not None:
            asyncio.run(verify_data_integrity(credential, resolver))


def test_a_killed_signing_worker_costs_one_retry_and_no_credential() -> None:
    """A pool worker killed mid-life: that award answers 503 (`Unavailable`),
    the pool is replaced and the next award is signed."""
    key = generate_ed25519()
    did = did_key_for(key.public_key)

    async def sign_kill_sign() -> str:
        pool = SigningPool(1)
        pool.start()
        try:
            await pool.sign(ob3_credential(did, name="Before"), key)
            for worker in multiprocessing.active_children():
                if worker.name.startswith("SpawnProcess"):
                    os.kill(worker.pid or 0, signal.SIGKILL)
            with pytest.raises(Unavailable):
                await pool.sign(ob3_credential(did, name="Lost"), key)
            jwt, _ = await pool.sign(ob3_credential(did, name="After"), key)
            return jwt
        finally:
            pool.stop()

    jwt = asyncio.run(sign_kill_sign())
    assert asyncio.run(verify_vc_jwt(jwt, RESOLVER))["credentialSubject"]
