"""presentations.py, JOSE side: VP-JWTs (VC-JOSE-COSE §3.1.2, VC 1.1 ``vp`` claim),
enveloped presentations, challenge/domain as nonce/aud, holder binding, lifetime."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import didkit
import jwt as pyjwt
import pytest

from shared.credentials.crypto_keys import (
    SigningKey,
    generate_ed25519,
    generate_p256,
    public_key_to_jwk,
)
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.dids import DidResolver, did_key_document
from shared.credentials.errors import CredentialError, ProofError, ShapeError
from shared.credentials.jws import sign_jws
from shared.credentials.jwt import sign_vc_jwt, verify_vc_jwt
from shared.credentials.presentations import (
    build_presentation,
    holder_binding_check,
    sign_presentation,
    verify_any_presentation,
)
from shared.credentials.vp_jwt import enveloped_presentation, sign_vp_jwt, verify_vp_jwt
from shared.credentials.vp_model import VerifiedPresentation
from tests.unit.credentials.di_samples import did_of, fresh_badge

CHALLENGE = "9f2c-challenge"
DOMAIN = "verifier.example.org"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _decode(part: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _issued() -> tuple[dict[str, Any], str]:
    issuer, doc = fresh_badge()
    return sign_data_integrity(doc, issuer), sign_vc_jwt(doc, issuer)


def _vp_jwt(holder: SigningKey, **options: Any) -> str:
    badge, jwt = _issued()
    vp = build_presentation([badge, jwt], did_of(holder), presentation_id="urn:uuid:vp-1")
    settings = {"challenge": CHALLENGE, "domain": DOMAIN, "now": NOW, **options}
    return sign_vp_jwt(vp, holder, **settings)


async def _verify(token: Any, resolver: DidResolver | None = None, **kw: Any) -> Any:
    options = {"challenge": CHALLENGE, "domain": DOMAIN, "now": NOW + timedelta(seconds=5), **kw}
    return await verify_vp_jwt(token, resolver or DidResolver(), **options)


async def _error(token: Any, resolver: DidResolver | None = None, **kw: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        await _verify(token, resolver, **kw)
    return info.value


def _claims(holder: SigningKey, **extra: Any) -> dict[str, Any]:
    did = did_of(holder)
    base = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "iss": did,
        "nonce": CHALLENGE,
        "aud": DOMAIN,
        "iat": int(NOW.timestamp()),
    }
    return {**base, **extra}


async def test_round_trip_returns_the_embedded_credentials() -> None:
    holder = generate_ed25519()
    badge, jwt = _issued()
    vp = build_presentation([badge, jwt], did_of(holder), presentation_id="urn:uuid:vp-1")
    token = sign_vp_jwt(vp, holder, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    header, payload, _ = token.split(".")
    assert _decode(header) == {"alg": "EdDSA", "kid": holder.kid, "typ": "vp+jwt"}
    claims = _decode(payload)
    assert (claims["iss"], claims["holder"], claims["jti"]) == (did_of(holder),) * 2 + (
        "urn:uuid:vp-1",
    )
    assert (claims["nonce"], claims["aud"]) == (CHALLENGE, DOMAIN)
    assert claims["exp"] - claims["iat"] == 300 and claims["iat"] == int(NOW.timestamp())
    assert "vp" not in claims and "proof" not in claims  # VC-JOSE-COSE: no vp claim

    result = await _verify(token)
    assert isinstance(result, VerifiedPresentation)
    assert result.holder == did_of(holder)
    assert result.credentials == (badge, jwt)
    proof = result.proof
    assert (proof.purpose, proof.cryptosuite, proof.challenge) == (
        "authentication",
        "EdDSA",
        CHALLENGE,
    )
    assert (proof.verification_method, proof.domain) == (holder.kid, (DOMAIN,))
    # The caller verifies each credential on its own: the enveloped VC-JWT is returned as text.
    assert (await verify_vc_jwt(jwt, DidResolver()))["name"] == badge["name"]


async def test_p256_holder_and_enveloped_form() -> None:
    holder = generate_p256()
    token = _vp_jwt(holder)
    assert _decode(token.split(".")[0])["alg"] == "ES256"
    envelope = enveloped_presentation(token)
    assert envelope["id"] == f"data:application/vp+jwt,{token}"
    assert envelope["type"] == "EnvelopedVerifiablePresentation"
    assert (await _verify(envelope)).holder == did_of(holder)
    wrong_media = {**envelope, "id": f"data:application/vc+jwt,{token}"}
    assert (await _error(wrong_media)).code == "unsupported_envelope"


async def test_any_presentation_dispatches_on_the_form() -> None:
    holder = generate_ed25519()
    token = _vp_jwt(holder)
    signed_di = sign_presentation(
        build_presentation([], did_of(holder)), holder, challenge=CHALLENGE, domain=DOMAIN
    )
    options = {"challenge": CHALLENGE, "domain": DOMAIN, "now": NOW}
    for form in (token, enveloped_presentation(token), signed_di):
        result = await verify_any_presentation(form, DidResolver(), **options)
        assert result.holder == did_of(holder)
    di = await verify_any_presentation(signed_di, DidResolver(), **options)
    assert di.proof.cryptosuite == "eddsa-rdfc-2022"


async def test_challenge_is_the_nonce() -> None:
    holder = generate_ed25519()
    token = _vp_jwt(holder)
    error = await _error(token, challenge="another-challenge")
    assert (type(error), error.code, error.path) == (ProofError, "challenge_mismatch", "nonce")
    unchallenged = _vp_jwt(holder, challenge=None)
    assert "nonce" not in _decode(unchallenged.split(".")[1])
    assert (await _error(unchallenged)).code == "challenge_missing"
    # No challenge asked for: a nonce in the token is not an error.
    assert (await _verify(token, challenge=None)).proof.challenge == CHALLENGE


async def test_domain_is_the_audience() -> None:
    holder = generate_ed25519()
    token = _vp_jwt(holder)
    error = await _error(token, domain="evil.example")
    assert (error.code, error.path) == ("domain_mismatch", "aud")
    unbound = _vp_jwt(holder, domain=None)
    assert (await _error(unbound)).code == "domain_missing"
    assert (await _verify(unbound, domain=None)).proof.domain == ()
    # RFC 7519 §4.1.3: a verifier that is not in aud rejects the token.
    assert (await _error(token, domain=None)).code == "domain_mismatch"
    several = sign_jws(_claims(holder, aud=["a.example", DOMAIN]), holder, "vp+jwt")
    assert (await _verify(several)).proof.domain == ("a.example", DOMAIN)
    bad_aud = sign_jws(_claims(holder, aud=[DOMAIN, 7]), holder, "vp+jwt")
    assert (await _error(bad_aud)).code == "malformed_jwt"
    listed_nonce = sign_jws(_claims(holder, nonce=[CHALLENGE]), holder, "vp+jwt")
    assert (await _error(listed_nonce)).code == "malformed_jwt"


async def test_holder_binding() -> None:
    alice, mallory = generate_ed25519(), generate_ed25519()
    vp = build_presentation([], did_of(alice))
    with pytest.raises(ProofError) as info:
        sign_vp_jwt(vp, mallory, challenge=CHALLENGE)
    assert info.value.code == "holder_mismatch"
    # Mallory signs a presentation that names Alice as holder and issuer.
    forged = sign_jws(_claims(alice), mallory, "vp+jwt")
    error = await _error(forged)
    assert error.code == "unknown_key" and "does not control" in error.detail
    # iss and holder disagree.
    split = sign_jws(_claims(alice, iss=did_of(mallory)), mallory, "vp+jwt")
    assert (await _error(split)).code == "holder_mismatch"
    # No holder: iss stands in for it (VC 1.1 §6.3.1), no iss either: refused.
    no_holder = {k: v for k, v in _claims(alice).items() if k != "holder"}
    assert (await _verify(sign_jws(no_holder, alice, "vp+jwt"))).holder == did_of(alice)
    anonymous = {k: v for k, v in no_holder.items() if k != "iss"}
    assert (await _error(sign_jws(anonymous, alice, "vp+jwt"))).code == "missing_holder"


async def test_key_must_be_authorised_for_authentication() -> None:
    holder = generate_ed25519()
    did = did_of(holder)
    document = did_key_document(did)
    assertion_only = {k: v for k, v in document.items() if k != "authentication"}
    resolver = DidResolver(known={did: assertion_only})
    token = _vp_jwt(holder)
    error = await _error(token, resolver)
    assert error.code == "unknown_key" and "key_not_authorized" in error.detail
    # The same key still signs credentials (assertionMethod) under that document.
    _, badge = fresh_badge(holder)
    assert (await verify_vc_jwt(sign_vc_jwt(badge, holder), resolver))["issuer"]["id"] == did
    assert (await _verify(token, DidResolver(known={did: document}))).holder == did
    # A header jwk (no kid) is held to the authentication relationship too.
    jwk_header = {"jwk": public_key_to_jwk(holder.public_key), "typ": "vp+jwt"}
    by_jwk = pyjwt.encode(_claims(holder), holder.private_key, "EdDSA", headers=jwk_header)
    assert (await _verify(by_jwk, DidResolver(known={did: document}))).holder == did
    error = await _error(by_jwk, resolver)
    assert error.code == "unknown_key" and "authentication key of the holder" in error.detail


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "vp+jwt"},
        {"alg": "HS256", "typ": "vp+jwt"},
        {"alg": "EdDSA", "typ": "vc+jwt"},
        {"alg": "EdDSA", "typ": "vp+jwt", "crit": ["exp"]},
    ],
)
async def test_unsafe_headers_are_refused(header: dict[str, Any]) -> None:
    holder = generate_ed25519()
    genuine = _vp_jwt(holder)
    _, payload, signature = genuine.split(".")
    kept = "" if header["alg"] == "none" else signature
    forged = f"{_b64({**header, 'kid': holder.kid})}.{payload}.{kept}"
    error = await _error(forged)
    expected = "alg_not_allowed" if header["alg"] != "EdDSA" else "malformed_jwt"
    assert (type(error), error.code) == (ProofError, expected)


async def test_credential_and_presentation_jwts_are_not_interchangeable() -> None:
    holder = generate_ed25519()
    token = _vp_jwt(holder)
    with pytest.raises(ProofError) as info:
        await verify_vc_jwt(token, DidResolver())
    assert info.value.code == "malformed_jwt"
    _, jwt = _issued()
    assert (await _error(jwt)).code == "malformed_jwt"  # typ vc+jwt


async def test_tampered_token() -> None:
    holder = generate_ed25519()
    header, payload, signature = _vp_jwt(holder).split(".")
    claims = _decode(payload)
    claims["verifiableCredential"] = claims["verifiableCredential"][:1]
    assert (await _error(f"{header}.{_b64(claims)}.{signature}")).code == "signature_invalid"


async def test_lifetime() -> None:
    holder = generate_ed25519()
    token = _vp_jwt(holder, lifetime=timedelta(minutes=2))
    late = NOW + timedelta(minutes=2, seconds=61)
    error = await _error(token, now=late)
    assert (error.code, error.path) == ("presentation_expired", "exp")
    assert (await _verify(token, now=NOW + timedelta(minutes=2, seconds=30))).holder
    early = NOW - timedelta(seconds=61)
    assert (await _error(token, now=early)).code == "presentation_not_yet_valid"
    assert (await _verify(token, now=NOW - timedelta(seconds=30))).holder
    odd = sign_jws(_claims(holder, exp="tomorrow"), holder, "vp+jwt")
    assert (await _error(odd)).code == "malformed_jwt"


@pytest.mark.parametrize("iat", [-1e20, -(10**18), -62135596801])
async def test_an_iat_no_date_can_hold_is_malformed_not_an_overflow(iat: float) -> None:
    holder = generate_ed25519()
    ancient = sign_jws(_claims(holder, iat=iat), holder, "vp+jwt")
    error = await _error(ancient)
    assert (error.code, error.path) == ("malformed_jwt", "iat")


async def test_malformed_payloads() -> None:
    holder = generate_ed25519()
    not_vp = sign_jws(_claims(holder, type=["VerifiableCredential"]), holder, "vp+jwt")
    error = await _error(not_vp)
    assert (type(error), error.code) == (ShapeError, "not_a_presentation")
    bad_vp = sign_jws({"iss": did_of(holder), "vp": "x", "nonce": CHALLENGE}, holder, "jwt")
    assert (await _error(bad_vp)).code == "malformed_jwt"
    other_id = sign_jws(_claims(holder, id="urn:a", jti="urn:b"), holder, "vp+jwt")
    assert (await _error(other_id)).code == "claim_mismatch"
    assert (await _error("not.a-jwt")).code == "malformed_jwt"


async def test_vc11_presentation_jwt_from_didkit() -> None:
    """Independent code: didkit's VC 1.1 VP-JWT (``vp`` claim, nonce, aud, no typ)."""
    jwk = didkit.generate_ed25519_key()
    did = didkit.key_to_did("key", jwk)
    method = await didkit.key_to_verification_method("key", jwk)
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": did},
    }
    vc_options = {"proofPurpose": "assertionMethod", "verificationMethod": method,
                  "proofFormat": "jwt"}  # fmt: skip
    vc_jwt = await didkit.issue_credential(json.dumps(credential), json.dumps(vc_options), jwk)
    vp = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": [vc_jwt],
    }
    options = {"proofPurpose": "authentication", "verificationMethod": method,
               "challenge": CHALLENGE, "domain": DOMAIN, "proofFormat": "jwt"}  # fmt: skip
    token = await didkit.issue_presentation(json.dumps(vp), json.dumps(options), jwk)
    assert "vp" in _decode(token.split(".")[1])
    result = await verify_vp_jwt(token, DidResolver(), challenge=CHALLENGE, domain=DOMAIN)
    assert (result.holder, result.credentials) == (did, (vc_jwt,))
    assert (await verify_vc_jwt(vc_jwt, DidResolver()))["credentialSubject"]["id"] == did
    with pytest.raises(ProofError) as info:
        await verify_vp_jwt(token, DidResolver(), challenge="other", domain=DOMAIN)
    assert info.value.code == "challenge_mismatch"


async def test_pyjwt_cross_check() -> None:
    """Independent code: PyJWT reads our VP-JWT, and we read PyJWT's."""
    holder = generate_ed25519()
    token = _vp_jwt(holder, now=datetime.now(UTC))
    claims = pyjwt.decode(token, holder.public_key, algorithms=["EdDSA"], audience=DOMAIN)
    assert (claims["nonce"], claims["iss"]) == (CHALLENGE, did_of(holder))
    with pytest.raises(pyjwt.InvalidAudienceError):
        pyjwt.decode(token, holder.public_key, algorithms=["EdDSA"], audience="other.example")
    theirs = pyjwt.encode(
        _claims(holder), holder.private_key, algorithm="EdDSA", headers={"kid": holder.kid,
                                                                        "typ": "vp+jwt"}
    )  # fmt: skip
    assert (await _verify(theirs)).holder == did_of(holder)


def test_holder_binding_check() -> None:
    holder = "did:key:z6MkHolder"
    one = {"credentialSubject": {"id": holder}}
    ok = holder_binding_check(one, holder)
    assert ok is not None and (ok.name, ok.outcome) == ("holder_binding", "ok")
    other = holder_binding_check({"credentialSubject": {"id": "did:example:else"}}, holder)
    assert other is not None and (other.outcome, other.code) == ("failed", "subject_not_holder")
    many = {"credentialSubject": [{"id": "did:example:else"}, {"id": holder}]}
    assert getattr(holder_binding_check(many, holder), "outcome", None) == "ok"
    assert holder_binding_check({"credentialSubject": {"id": "mailto:a@b.c"}}, holder) is None
    assert holder_binding_check({"credentialSubject": {"name": "no id"}}, holder) is None
    assert holder_binding_check({}, holder) is None
