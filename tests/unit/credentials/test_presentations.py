"""presentations.py: Data Integrity presentations, challenge, domain, holder binding."""

from __future__ import annotations

import json
from typing import Any

import didkit
import pytest

from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity, verify_data_integrity
from shared.credentials.dids import DidResolver
from shared.credentials.errors import ContextError, CredentialError, ProofError, ShapeError
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.presentations import (
    build_presentation,
    sign_presentation,
    verify_presentation,
)
from shared.credentials.vp_model import VerifiedPresentation, embedded_credentials
from tests.unit.credentials.di_samples import did_of, fresh_badge, mutate

CHALLENGE = "c0ffee-2f1a"
DOMAIN = "verifier.example.org"


def _issued() -> tuple[dict[str, Any], str]:
    issuer, doc = fresh_badge()
    return sign_data_integrity(doc, issuer), sign_vc_jwt(doc, issuer)


def _signed_vp(holder: SigningKey | None = None, **kwargs: Any) -> dict[str, Any]:
    holder = holder or generate_ed25519()
    badge, jwt = _issued()
    vp = build_presentation([badge, jwt], did_of(holder))
    options = {"challenge": CHALLENGE, "domain": DOMAIN, **kwargs}
    return sign_presentation(vp, holder, **options)


async def _verify(vp: dict[str, Any], **kwargs: Any) -> VerifiedPresentation:
    options = {"challenge": CHALLENGE, "domain": DOMAIN, **kwargs}
    return await verify_presentation(vp, DidResolver(), **options)


async def _error(vp: dict[str, Any], **kwargs: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        await _verify(vp, **kwargs)
    return info.value


async def test_round_trip_returns_the_embedded_credentials() -> None:
    holder = generate_ed25519()
    badge, jwt = _issued()
    vp = sign_presentation(
        build_presentation([badge, jwt], did_of(holder), presentation_id="urn:uuid:1"),
        holder,
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    assert vp["proof"]["proofPurpose"] == "authentication"
    assert vp["verifiableCredential"][1]["id"] == f"data:application/vc+jwt,{jwt}"
    result = await _verify(vp)
    assert result.holder == did_of(holder)
    assert (result.proof.challenge, result.proof.domain) == (CHALLENGE, (DOMAIN,))
    assert result.credentials == (badge, jwt)
    # The caller then verifies each credential on its own.
    embedded = result.credentials[0]
    assert isinstance(embedded, dict)
    assert (await verify_data_integrity(embedded, DidResolver())).purpose == "assertionMethod"


async def test_holder_defaults_to_the_signing_key_controller() -> None:
    holder = generate_ed25519()
    unsigned = build_presentation([], "placeholder")
    del unsigned["holder"]
    vp = sign_presentation(unsigned, holder, challenge="c")
    assert vp["holder"] == did_of(holder)
    assert (await _verify(vp, challenge="c", domain=None)).credentials == ()


async def test_wrong_challenge_and_domain() -> None:
    vp = _signed_vp()
    error = await _error(vp, challenge="replayed-nonce")
    assert (type(error), error.code, error.path) == (
        ProofError,
        "challenge_mismatch",
        "proof.challenge",
    )
    error = await _error(vp, domain="other.example")
    assert (error.code, error.path) == ("domain_mismatch", "proof.domain")
    unbound = _signed_vp(domain=None)
    assert (await _error(unbound)).code == "domain_mismatch"


async def test_holder_binding() -> None:
    alice, mallory = generate_ed25519(), generate_ed25519()
    vp = build_presentation([_issued()[0]], did_of(alice))
    with pytest.raises(ProofError) as info:
        sign_presentation(vp, mallory, challenge=CHALLENGE)
    assert info.value.code == "holder_mismatch"
    forged = sign_data_integrity(
        vp, mallory, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN
    )
    error = await _error(forged)
    assert (error.code, error.path) == ("holder_mismatch", "proof.verificationMethod")
    # Dropping the holder after signing breaks the signature, not the rule.
    assert (await _error({**forged, "holder": None})).code == "signature_invalid"


async def test_holder_is_optional() -> None:
    """VC DM 2.0 §4.13: a presentation need not name its holder; any key may
    then sign it, and nothing is bound to a holder."""
    signer = generate_ed25519()
    vp = build_presentation([_issued()[0]], did_of(signer))
    del vp["holder"]
    signed = sign_data_integrity(
        vp, signer, proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN
    )
    verified = await _verify(signed)
    assert verified.holder is None
    assert len(verified.credentials) == 1
    assert (await _error(mutate(signed, "id", "urn:uuid:other"))).code == ("signature_invalid")


async def test_tampered_presentation_contents() -> None:
    vp = _signed_vp()
    name = "verifiableCredential.0.credentialSubject.name"
    assert (await _error(mutate(vp, name, "Mallory"))).code == "signature_invalid"
    _, other_jwt = _issued()
    swapped = mutate(vp, "verifiableCredential.1.id", f"data:application/vc+jwt,{other_jwt}")
    assert (await _error(swapped)).code == "signature_invalid"
    extra = mutate(vp, "verifiableCredential.0.credentialSubject.extra", "x")
    error = await _error(extra)
    assert isinstance(error, ContextError)
    assert (error.code, error.path) == (
        "undefined_term",
        "verifiableCredential[0].credentialSubject.extra",
    )


async def test_presentation_needs_the_authentication_purpose() -> None:
    holder = generate_ed25519()
    vp = build_presentation([], did_of(holder))
    asserted = sign_data_integrity(vp, holder, challenge=CHALLENGE, domain=DOMAIN)
    assert (await _error(asserted)).code == "purpose_mismatch"


async def test_not_a_presentation() -> None:
    badge, _ = _issued()
    error = await _error(badge)
    assert (type(error), error.code) == (ShapeError, "not_a_presentation")


def test_embedded_credentials_shapes() -> None:
    vp = {"verifiableCredential": ["header.payload.sig"]}
    assert embedded_credentials(vp) == ("header.payload.sig",)
    envelope = {"type": "EnvelopedVerifiableCredential", "id": "data:application/vc+sd-jwt,x"}
    with pytest.raises(ShapeError) as info:
        embedded_credentials({"verifiableCredential": envelope})
    assert (info.value.code, info.value.path) == ("unsupported_envelope", "verifiableCredential[0]")
    with pytest.raises(ShapeError):
        embedded_credentials({"verifiableCredential": [42]})
    assert embedded_credentials({}) == ()


async def test_legacy_presentation_through_didkit() -> None:
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    vm = await didkit.key_to_verification_method("key", jwk)
    vp = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did,
    }
    options = {"proofPurpose": "authentication", "verificationMethod": vm,
               "challenge": CHALLENGE, "domain": DOMAIN}  # fmt: skip
    signed = json.loads(await didkit.issue_presentation(json.dumps(vp), json.dumps(options), jwk))
    result = await _verify(signed)
    assert (result.holder, result.proof.cryptosuite) == (did, "Ed25519Signature2018")
    assert (await _error(signed, challenge="other")).code == "challenge_mismatch"
    other = didkit.key_to_did("key", didkit.generate_ed25519_key())
    assert (await _error({**signed, "holder": other})).code == "holder_mismatch"
