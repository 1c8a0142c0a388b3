"""VC-API verification of any VC (issue 11), with the real verifier.

A VC that is not an Open Badge verifies (VC data model rules only); a
presentation without `holder` verifies; `options.checks` picks the checks
and the answer's `checks` lists every one made; JSON text is not a map.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import orjson
import pytest

from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.data_integrity import sign_data_integrity
from tests.e2e.client import Api, Json, check
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def signer() -> SigningKey:
    return generate_ed25519()  # a did:key verification method


def degree(issuer: SigningKey, **extra: object) -> Json:
    return sign_data_integrity(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": issuer.kid.split("#")[0],
            "credentialSubject": {"id": "did:example:graduate"},
            **extra,
        },
        issuer,
    )


async def post(api: Api, path: str, body: object) -> tuple[int, Json]:
    status, answer = await api.call("POST", f"{api.stack.url('verifier')}{path}", json=body)
    assert isinstance(answer, dict), answer
    return status, answer


async def test_any_vc_and_the_checks_asked_for(api: Api) -> None:
    issuer = signer()
    code, report = await post(api, "/credentials/verify", {"verifiableCredential": degree(issuer)})
    assert code == 200 and report["verified"] and report["verdict"] == "untrusted", report
    assert report["checks"] == ["shape", "proof", "validity", "status", "trust", "impersonation"]
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = degree(issuer, validUntil=past)
    code, report = await post(api, "/credentials/verify", {"verifiableCredential": expired})
    assert code == 400 and check(report, "validity")["outcome"] == "failed"
    assert "validity" in report["checks"]  # failed checks are listed too
    only_proof = {"verifiableCredential": expired, "options": {"checks": ["proof"]}}
    code, report = await post(api, "/credentials/verify", only_proof)
    assert code == 200 and "validity" not in report["checks"], report
    assert (report["verdict"], report["state"]) == ("invalid", "unchecked"), report
    assert report["stateDetails"]["code"] == "not_requested", report
    unknown = {"verifiableCredential": expired, "options": {"checks": ["teleport"]}}
    assert (await post(api, "/credentials/verify", unknown))[0] == 422
    text = {"verifiableCredential": '{"type": ["VerifiableCredential"]}'}
    assert (await post(api, "/credentials/verify", text))[0] == 422
    # the same JSON text as the whole body's string: refused alike
    assert (await post(api, "/credentials/verify", orjson.dumps(degree(issuer)).decode()))[0] == 422
    odd = {"verifiableCredential": expired, "options": {"recipient": 5}}
    code, problem = await post(api, "/credentials/verify", odd)
    assert code == 422 and "$.options.recipient" in problem["detail"], problem


async def test_a_presentation_without_holder(api: Api) -> None:
    issuer, presenter = signer(), signer()
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [degree(issuer)],
    }
    signed = sign_data_integrity(
        presentation, presenter, proof_purpose="authentication", challenge="c-1", domain="d.example"
    )
    body = {
        "verifiablePresentation": signed,
        "options": {"challenge": "c-1", "domain": "d.example"},
    }
    code, result = await post(api, "/presentations/verify", body)
    assert code == 200 and result["verified"], result
    assert "holder" not in result["results"]["presentation"]
    credential = result["results"]["credentials"][0]
    assert "holder_binding" not in credential["checks"]
    tampered = {**signed, "id": "urn:uuid:changed"}
    code, result = await post(
        api, "/presentations/verify", {**body, "verifiablePresentation": tampered}
    )
    assert code == 400 and not result["verified"]
