"""Cross-check eddsa-rdfc-2022 with openbadgeslib, an independent implementation.

Each direction must agree: what we sign verifies there, what it signs verifies
here, and on tampered documents both implementations reject.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st
from openbadgeslib.ob3.credential import OpenBadgeCredential
from openbadgeslib.ob3.ldp import OB3LdpSigner, OB3LdpVerifier, add_data_integrity_proof
from openbadgeslib.ob3.verifier import OB3VerificationError

from shared.credentials.crypto_keys import SigningKey, b58decode, b58encode, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity, verify_data_integrity
from shared.credentials.dids import DidResolver
from shared.credentials.errors import CredentialError
from tests.unit.credentials.di_samples import did_of, fresh_badge, mutate

CREATED = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)


def _private_pem(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _theirs(doc: dict[str, Any]) -> bool:
    try:
        OB3LdpVerifier().verify(copy.deepcopy(doc))
    except OB3VerificationError:
        return False
    return True


def _ours(doc: dict[str, Any]) -> bool:
    try:
        asyncio.run(verify_data_integrity(doc, DidResolver()))
    except CredentialError:
        return False
    return True


def _flip(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    signature = bytearray(b58decode(out["proof"]["proofValue"][1:]))
    signature[0] ^= 0x80
    out["proof"]["proofValue"] = "z" + b58encode(bytes(signature))
    return out


TAMPERINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "untouched": lambda d: d,
    "subject name": lambda d: mutate(d, "credentialSubject.name", "Mallory"),
    "validFrom": lambda d: mutate(d, "validFrom", "2019-01-01T00:00:00Z"),
    "achievement": lambda d: mutate(d, "credentialSubject.achievement.name", "PhD"),
    "issuer": lambda d: mutate(d, "issuer.id", did_of(generate_ed25519())),
    "signature bit": _flip,
    "added property": lambda d: mutate(d, "credentialSubject.extraField", "x"),
    "proof created": lambda d: mutate(d, "proof.created", "2030-01-01T00:00:00Z"),
}


def test_we_sign_openbadgeslib_verifies() -> None:
    key, doc = fresh_badge()
    signed = sign_data_integrity(doc, key, created=CREATED)
    credential = OB3LdpVerifier().verify(copy.deepcopy(signed))
    assert credential.issuer.id == did_of(key)


async def test_openbadgeslib_signs_we_verify() -> None:
    key, doc = fresh_badge()
    # The schema-agnostic signer, on our document ...
    theirs = add_data_integrity_proof(doc, _private_pem(key), key.kid, created=CREATED)
    assert (await verify_data_integrity(theirs, DidResolver())).verification_method == key.kid
    # ... and its OB3 signer, on the document its own model builds.
    model = OpenBadgeCredential.from_vc_document(copy.deepcopy(doc))
    issued = OB3LdpSigner(_private_pem(key), key.kid).sign(model, created=CREATED)
    assert (await verify_data_integrity(issued, DidResolver())).controller == did_of(key)


async def test_same_proof_value_for_the_same_input() -> None:
    key, doc = fresh_badge()
    ours = sign_data_integrity(doc, key, created=CREATED)
    theirs = add_data_integrity_proof(doc, _private_pem(key), key.kid, created=CREATED)
    assert ours["proof"] == theirs["proof"]  # same canonical bytes, deterministic Ed25519


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
@pytest.mark.parametrize("signer", ["ours", "openbadgeslib"])
def test_both_implementations_agree(signer: str, name: str) -> None:
    key, doc = fresh_badge()
    if signer == "ours":
        signed = sign_data_integrity(doc, key, created=CREATED)
    else:
        signed = add_data_integrity_proof(doc, _private_pem(key), key.kid, created=CREATED)
    candidate = TAMPERINGS[name](signed)
    assert _ours(candidate) == _theirs(candidate), f"disagreement on {name!r}"
    assert _ours(candidate) == (name == "untouched")


_KEY = generate_ed25519()


@settings(max_examples=15, deadline=None)
@given(name=st.text(min_size=1, max_size=30), value=st.text(max_size=15))
def test_agreement_over_generated_subjects(name: str, value: str) -> None:
    doc = fresh_badge(_KEY, subject_name=name)[1]
    doc = mutate(doc, "credentialSubject.result.0.value", value)
    ours = sign_data_integrity(doc, _KEY, created=CREATED)
    theirs = add_data_integrity_proof(doc, _private_pem(_KEY), _KEY.kid, created=CREATED)
    assert ours["proof"]["proofValue"] == theirs["proof"]["proofValue"]
    assert _ours(theirs) and _theirs(ours)
