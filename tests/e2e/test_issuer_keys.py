"""Issuer identities bound to did:web (hosted by the issuer service), key
rotation and compromise (issue 8), with the real services on Kafka and Redis.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from shared.credentials.dids import did_web_url
from shared.credentials.jws import peek_jws
from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def _web_issuer(api: Api, name: str = "Hosted University") -> Json:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers",
        json={"name": name, "url": "https://uni.example", "didMethod": "web"},
        headers=api.auth,
    )
    assert status == 201, body
    return dict(body)


def _path(did: str) -> str:
    return quote(did, safe=":")  # %3A in the DID becomes %253A in the URL


async def _rotate(api: Api, did: str, key: str | None = None) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    return await api.call(
        "POST", f"{api.stack.url('issuer')}/issuers/{_path(did)}/keys", headers=headers
    )


async def _compromise(api: Api, did: str, method: str, at: datetime) -> tuple[int, Any]:
    fragment = method.rpartition("#")[2]
    return await api.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers/{_path(did)}/keys/{fragment}/compromise",
        json={"compromisedAt": at.isoformat()},
        headers=api.auth,
    )


async def _ready_achievement(api: Api, did: str) -> str:
    achievement = await api.achievement(did)
    await api.issuer_knows(achievement)
    return achievement


def _kid(credential: Json) -> str:
    return str(peek_jws(credential["jwt"])[0]["kid"])


async def test_did_web_issuer_is_served_and_its_credentials_verify(api: Api) -> None:
    issuer = await _web_issuer(api)
    did = issuer["id"]
    port = api.stack.url("issuer").rpartition(":")[2]
    assert did.startswith(f"did:web:127.0.0.1%3A{port}:issuers:")
    slug = did.rpartition(":")[2]
    # did:web §3.2: the DID names the issuer service's path for its document.
    assert did_web_url(did) == f"https://127.0.0.1:{port}/issuers/{slug}/did.json"
    status, document = await api.call("GET", f"{api.stack.url('issuer')}/issuers/{slug}/did.json")
    assert status == 200, document
    assert document == issuer["didDocument"]
    assert document["id"] == did
    method = document["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["id"] == f"{did}#key-1"
    assert document["assertionMethod"] == [method["id"]]
    status, same = await api.call("GET", f"{api.stack.url('issuer')}/issuers/{_path(did)}/did.json")
    assert (status, same) == (200, document)

    # Accredited by the operator, so the verdict can be `valid` (issue 8).
    status, provider = await api.register_provider([did], "Hosted University")
    assert status == 201, provider
    status, body = await api.operator.accredit(str(provider["id"]))
    assert status == 201, body
    credential = await api.issue(await _ready_achievement(api, did))
    assert _kid(credential) == f"{did}#key-1"
    for form in (credential["jwt"], credential["credential"]):
        # valid once the accreditation and the achievement reach the verifier over Kafka
        report = await api.trusted_report(form)
        assert report, await api.verify(form)
        assert check(report, "trust")["code"] == "accredited", report


async def test_rotation_old_credentials_verify_new_ones_use_the_new_key(api: Api) -> None:
    did = (await _web_issuer(api))["id"]
    achievement = await _ready_achievement(api, did)
    old = await api.issue(achievement)

    key = f"rotate-{secrets.token_hex(4)}"
    status, rotated = await _rotate(api, did, key)
    assert status == 201, rotated
    assert rotated["signingMethod"] == rotated["verificationMethod"] == f"{did}#key-2"
    document = rotated["didDocument"]
    assert document["assertionMethod"] == [f"{did}#key-1", f"{did}#key-2"]
    status, again = await _rotate(api, did, key)  # a retry: no third key
    assert status == 200 and again["verificationMethod"] == f"{did}#key-2", again

    new = await api.issue(achievement)
    assert _kid(new) == f"{did}#key-2"
    for credential in (old, new):
        assert await api.reaches(credential["jwt"], "valid"), credential["credentialId"]
        assert await api.reaches(credential["credential"], "valid")

    # Status lists are re-signed with the new key and keep verifying.
    status, body = await api.set_status(old["credentialId"])
    assert status == 200, body
    assert await api.reaches(old["jwt"], "revoked")
    assert await api.reaches(new["jwt"], "valid")
    list_url = new["credential"]["credentialStatus"][0]["statusListCredential"]

    async def resigned() -> bool:
        # The revocation service learns the new key from issuer.profiles (Kafka).
        status, listed = await api.call("GET", list_url, headers={"Accept": "application/vc+jwt"})
        return status == 200 and bool(peek_jws(str(listed))[0]["kid"] == f"{did}#key-2")

    assert await until(resigned), "the status list was never signed with the new key"
    status, listed = await api.call("GET", list_url)  # the JSON-LD form, same key
    assert status == 200 and listed["proof"]["verificationMethod"] == f"{did}#key-2"


async def test_compromise_fails_credentials_issued_from_then_on(api: Api) -> None:
    did = (await _web_issuer(api))["id"]
    achievement = await _ready_achievement(api, did)
    before = await api.issue(achievement)
    await asyncio.sleep(2.1)  # validFrom has second precision
    after = await api.issue(achievement)  # still signed with key-1
    assert _kid(after) == f"{did}#key-1"
    since = datetime.fromisoformat(after["credential"]["validFrom"]) - timedelta(seconds=1)

    status, marked = await _compromise(api, did, f"{did}#key-1", since)
    assert status == 200, marked
    assert marked["verificationMethod"] == f"{did}#key-1"
    assert marked["signingMethod"] == f"{did}#key-2"  # the current key: rotated in one step
    methods = {m["id"]: m for m in marked["didDocument"]["verificationMethod"]}
    assert "revoked" in methods[f"{did}#key-1"] and "revoked" not in methods[f"{did}#key-2"]

    async def compromised() -> bool:
        code, report = await api.verify(after["jwt"])
        return code == 400 and check(report, "proof")["code"] == "key_compromised"

    assert await until(compromised, within=5), "the verifier never learnt the compromise"
    code, report = await api.verify(after["credential"])
    assert code == 400 and check(report, "proof")["code"] == "key_compromised", report
    assert report["verdict"] == "invalid"
    assert await api.reaches(before["jwt"], "valid")
    assert await api.reaches(before["credential"], "valid")
    fresh = await api.issue(achievement)  # never signed with the compromised key again
    assert _kid(fresh) == f"{did}#key-2"
    assert await api.reaches(fresh["jwt"], "valid")

    status, body = await _compromise(api, did, f"{did}#key-1", since)
    assert status == 409, body
    future = datetime.now(UTC) + timedelta(hours=1)
    status, body = await _compromise(api, did, f"{did}#key-2", future)
    assert status == 422, body
    status, body = await _compromise(api, did, f"{did}#key-9", since)
    assert status == 404, body


async def test_did_key_cannot_rotate_and_other_tenants_get_404(api: Api) -> None:
    did_key = await api.create_issuer("Quick Start College")
    status, body = await _rotate(api, did_key)
    assert status == 409, body
    assert body["type"].endswith("rotation-unsupported")
    assert "did:key" in body["detail"]
    status, body = await _compromise(api, did_key, "x", datetime.now(UTC))
    assert status == 409, body

    did = (await _web_issuer(api))["id"]
    other = api.as_tenant("other-token")
    status, body = await _rotate(other, did)
    assert status == 404, body
    status, body = await _compromise(other, did, f"{did}#key-1", datetime.now(UTC))
    assert status == 404, body
    status, body = await _rotate(api.as_tenant(""), did)
    assert status == 401, body
    status, document = await api.call(
        "GET", f"{api.stack.url('issuer')}/issuers/{_path(did)}/did.json"
    )
    assert status == 200 and len(document["verificationMethod"]) == 1, document
