"""A learner presents their credential to an employer's verifier.

The learner holds a did:key generated here; the issuer awards the credential
to that DID; the learner wraps it in a presentation bound to the verifier's
challenge and domain, and `POST /presentations/verify` checks it all.
"""

from __future__ import annotations

import secrets
from typing import Any

import aiohttp
import pytest

from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.presentations import build_presentation, sign_presentation
from shared.credentials.vp_jwt import enveloped_presentation, sign_vp_jwt
from tests.e2e.client import Api, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

Json = dict[str, Any]
DOMAIN = "jobs.example"


def did_of(key: SigningKey) -> str:
    return key.kid.partition("#")[0]


async def present(api: Api, vp: Json | str, challenge: str) -> tuple[int, Json]:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('verifier')}/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": DOMAIN}},
    )
    assert isinstance(body, dict), body
    return status, body


async def test_learner_presents_a_vp_jwt(stack: Stack) -> None:
    learner = generate_ed25519()
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        achievement = await api.achievement(await api.accredited_issuer())
        await api.issuer_knows(achievement)
        issued = await api.issue(achievement, key="vp-award-1", recipient={"id": did_of(learner)})
        assert issued["credential"]["credentialSubject"]["id"] == did_of(learner)

        challenge = secrets.token_urlsafe(16)  # the employer's verifier issues it
        vp = build_presentation([issued["jwt"]], did_of(learner))
        token = sign_vp_jwt(vp, learner, challenge=challenge, domain=DOMAIN)

        async def accepted() -> Json | None:
            status, body = await present(api, token, challenge)
            trusted = status == 200 and body["results"]["credentials"][0]["verdict"] == "valid"
            return body if trusted else None

        # Until the verifier's replica knows the accredited provider and the
        # achievement (trust decides the verdict).
        body = await until(accepted)
        assert body and body["verified"] is True, body
        presentation = body["results"]["presentation"]
        assert presentation["holder"] == {"verified": True, "input": did_of(learner)}
        assert presentation["challenge"] == {"verified": True, "input": challenge}
        [report] = body["results"]["credentials"]
        assert report["verified"] is True and report["verdict"] == "valid", report
        assert check(report, "holder_binding")["outcome"] == "ok"
        assert check(report, "status")["outcome"] == "ok"

        status, replayed = await present(api, token, secrets.token_urlsafe(16))
        assert status == 400 and replayed["verified"] is False, replayed
        assert [p["errorCode"] for p in replayed["problemDetails"]] == ["challenge_mismatch"]
        assert replayed["results"]["credentials"] == []

        status, body = await present(api, enveloped_presentation(token), challenge)
        assert status == 200, body
        embedded = build_presentation([issued["credential"]], did_of(learner))
        signed = sign_presentation(embedded, learner, challenge=challenge, domain=DOMAIN)
        status, body = await present(api, signed, challenge)
        assert status == 200, body
        assert check(body["results"]["credentials"][0], "proof")["reason"] == "embedded proof"


async def test_someone_elses_key_and_malformed_requests(stack: Stack) -> None:
    learner, mallory = generate_ed25519(), generate_ed25519()
    async with aiohttp.ClientSession() as session:
        api = Api(stack, session)
        challenge = secrets.token_urlsafe(16)
        # Mallory signs a presentation that names the learner as its holder.
        forged = sign_data_integrity(
            build_presentation([], did_of(learner)),
            mallory,
            proof_purpose="authentication",
            challenge=challenge,
            domain=DOMAIN,
        )
        status, body = await present(api, forged, challenge)
        assert status == 400 and body["verified"] is False, body
        assert [p["errorCode"] for p in body["problemDetails"]] == ["holder_mismatch"]

        url = f"{stack.url('verifier')}/presentations/verify"
        expected = {b"[1, 2": 400, b'{"verifiablePresentation": 5}': 422, b"{}": 422}
        for payload, code in expected.items():
            headers = {"Content-Type": "application/json"}
            async with session.post(url, data=payload, headers=headers) as answer:
                assert answer.status == code, await answer.text()
                assert answer.headers["Content-Type"].startswith("application/problem+json")
