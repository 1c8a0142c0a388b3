"""Per-issuer key types (OB 3.0 §8.2: RS256 is the minimum JWT algorithm,
ES256 available; issue 11), with the real services on Kafka and Redis:
`POST /issuers` with `keyType`, the DID document that publishes the key,
awards signed with it, status lists signed with it, revocation seen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from shared.credentials.jws import peek_jws
from tests.e2e.client import Api, Json, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def _issuer(api: Api, **fields: str) -> tuple[int, Json]:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers",
        json={"name": "Key Type College", "url": "https://ktc.example", **fields},
        headers=api.auth,
    )
    return status, dict(body) if isinstance(body, dict) else {"body": body}


async def _award(api: Api, did: str) -> Json:
    achievement = await api.achievement(did)
    await api.issuer_knows(achievement)
    return await api.issue(achievement)


async def test_an_rsa_issuer_signs_rs256_jwts_and_its_lists(api: Api) -> None:
    status, issuer = await _issuer(api, didMethod="web", keyType="RSA")
    assert status == 201, issuer
    did = issuer["id"]
    (method,) = issuer["didDocument"]["verificationMethod"]
    assert method["type"] == "JsonWebKey2020" and method["publicKeyJwk"]["kty"] == "RSA"
    credential = await _award(api, did)
    header = peek_jws(credential["jwt"])[0]
    assert header == {"alg": "RS256", "kid": f"{did}#key-1", "typ": "JWT"}
    assert credential["credential"] is None  # no RSA Data Integrity cryptosuite
    assert "credential.json" not in credential["downloads"], credential["downloads"]
    for url in credential["downloads"].values():  # each one offered is there
        async with api.session.get(url, headers=api.auth) as answer:
            assert answer.status == 200, url
    assert await api.reaches(credential["jwt"], "valid")
    # its status list is a VC-JWT signed with the same key, even asked for JSON-LD
    payload = peek_jws(credential["jwt"])[1]
    list_url = payload["credentialStatus"][0]["statusListCredential"]
    status, listed = await api.call("GET", list_url)
    assert status == 200 and peek_jws(str(listed))[0]["alg"] == "RS256"
    status, body = await api.set_status(credential["credentialId"])
    assert status == 200, body
    assert await api.reaches(credential["jwt"], "revoked")
    # a rotation keeps the key type
    status, rotated = await api.call(
        "POST", f"{api.stack.url('issuer')}/issuers/{quote(did, safe=':')}/keys", headers=api.auth
    )
    assert status == 201, rotated
    new = rotated["didDocument"]["verificationMethod"][-1]
    assert new["type"] == "JsonWebKey2020" and new["publicKeyJwk"]["kty"] == "RSA"


async def test_a_p256_issuer_signs_es256_and_ecdsa_rdfc_2019(api: Api) -> None:
    status, issuer = await _issuer(api, keyType="P-256")
    assert status == 201, issuer
    did = issuer["id"]
    assert did.startswith("did:key:zDn")  # multicodec p256-pub
    credential = await _award(api, did)
    assert peek_jws(credential["jwt"])[0]["alg"] == "ES256"
    assert credential["credential"]["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    for form in (credential["jwt"], credential["credential"]):
        assert await api.reaches(form, "valid")


async def test_rsa_needs_did_web_and_unknown_types_are_refused(api: Api) -> None:
    status, body = await _issuer(api, keyType="RSA")
    assert status == 422 and "did:web" in str(body), body
    status, body = await _issuer(api, keyType="secp256k1")
    assert 400 <= status < 500, body


async def test_vc_api_with_an_rsa_issuer_is_vc_jwt_only(api: Api) -> None:
    status, issuer = await _issuer(api, didMethod="web", keyType="RSA")
    assert status == 201, issuer
    did = issuer["id"]

    async def registered() -> Json | None:
        status, body = await api.register_provider([did], "Key Type College")
        return body if status == 201 else None

    provider = await until(registered)
    assert provider, "the catalog never saw the issuer"
    status, body = await api.operator.call(
        "PUT",
        f"{provider['id']}/generic-issuance",
        json={"enabled": True},
        headers=api.operator.auth,
    )
    assert status == 200, body
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:rsa-holder"},
    }

    async def issue(**options: str) -> tuple[int, Any]:
        return await api.call(
            "POST",
            f"{api.stack.url('issuer')}/credentials/issue",
            json={"credential": credential, "options": options},
            headers=api.auth,
        )

    async def answered() -> tuple[int, Any] | None:
        answer = await issue()
        return answer if answer[0] != 403 else None  # until the issuer learns the flag

    refused = await until(answered)
    assert refused, await issue()
    status, body = refused
    assert status == 422 and "VC-JWT" in body["detail"], body
    status, body = await issue(securingMechanism="VC-JWT")
    assert status == 201, body
    envelope = body["verifiableCredential"]
    jwt = envelope["id"].partition(",")[2]
    assert peek_jws(jwt)[0]["alg"] == "RS256"
    code, report = await api.verify(envelope)
    assert code == 200 and report["verified"], report
