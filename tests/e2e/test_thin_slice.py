"""The thin slice: issue, verify, keep verifying with the others down, revoke.

Runs the four services as processes against the real Kafka and Redis.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

Json = dict[str, Any]


async def call(
    method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=json, headers=headers) as answer,
    ):
        content_type = answer.headers.get("Content-Type", "")
        body = (
            await answer.json(content_type=None) if "json" in content_type else await answer.text()
        )
        return answer.status, body


async def until(predicate: Any, *, within: float = 15.0, interval: float = 0.05) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


async def create_issuer(stack: Stack) -> str:
    status, body = await call(
        "POST",
        f"{stack.url('issuer')}/issuers",
        json={"name": "Example Polytechnic", "url": "https://poly.example", "country": "IE"},
        headers=stack.auth,
    )
    assert status == 201, body
    assert body["id"].startswith("did:key:z6Mk")
    return str(body["id"])


async def create_achievement(stack: Stack, issuer_did: str) -> str:
    status, body = await call(
        "POST",
        f"{stack.url('catalog')}/achievements",
        json={
            "issuerDid": issuer_did,
            "name": "Applied Data Protection",
            "description": "Apply GDPR principles to data processing in an SME.",
            "criteria": {"narrative": "Pass the final assessment with at least 90%."},
            "masteryThreshold": 0.9,
        },
        headers=stack.auth,
    )
    assert status == 201, body
    return str(body["id"])


async def award(stack: Stack, achievement_id: str, score: float, key: str) -> tuple[int, Any]:
    """One call, right after the achievement was defined: the issuer waits for
    the catalog's event rather than answering 404 (read-your-writes)."""
    return await call(
        "POST",
        f"{stack.url('issuer')}/awards",
        json={
            "achievementId": achievement_id,
            "recipient": {"id": "did:example:learner-1"},
            "score": score,
            "maxScore": 100,
        },
        headers={**stack.auth, "Idempotency-Key": key},
    )


async def verify(stack: Stack, credential: Any) -> tuple[int, Json]:
    status, body = await call(
        "POST",
        f"{stack.url('verifier')}/credentials/verify",
        json={"verifiableCredential": credential, "options": {}},
    )
    assert isinstance(body, dict), body
    return status, body


def check(report: Json, name: str) -> Json:
    for result in report["results"]:
        if result["check"] == name:
            return dict(result)
    raise AssertionError(f"no {name!r} check in {report}")


def tamper(jwt: str) -> str:
    """Change one character of the payload, keeping it valid base64url JSON."""
    header, payload, signature = jwt.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    changed = raw.replace(b"Applied Data Protection", b"Applied Data Protectiom", 1)
    assert changed != raw
    encoded = base64.urlsafe_b64encode(changed).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


async def test_issue_verify_offline_then_revoke(stack: Stack) -> None:
    issuer_did = await create_issuer(stack)
    achievement_id = await create_achievement(stack, issuer_did)

    status, failing = await award(stack, achievement_id, 80, key="fail-1")
    assert status == 422, failing
    assert failing["type"].endswith("assessment-below-threshold")

    status, issued = await award(stack, achievement_id, 95, key="pass-1")
    assert status == 201, issued
    jwt = issued["jwt"]
    statuses = issued["credential"]["credentialStatus"]
    assert {s["statusPurpose"] for s in statuses} == {"revocation", "suspension"}
    assert {s["type"] for s in statuses} == {"BitstringStatusListEntry"}

    # A retry with the same Idempotency-Key answers the same credential.
    status, again = await award(stack, achievement_id, 95, key="pass-1")
    assert status in (200, 201) and again["credentialId"] == issued["credentialId"]

    # Verifiable at once: no waiting for status lists to propagate.
    code, report = await verify(stack, jwt)
    assert code == 200 and report["verified"], report
    assert check(report, "proof")["outcome"] == "ok"
    assert check(report, "status")["outcome"] == "ok"

    async def trusted_now() -> Json | None:
        # The verifier learns a brand-new issuer from Kafka within moments;
        # until then the credential is valid but "untrusted" (advisory).
        _, report = await verify(stack, jwt)
        return report if report["verdict"] == "valid" else None

    report = await until(trusted_now, within=5.0)
    assert report, "the verifier never learnt the issuer from Kafka"
    assert check(report, "issuer_known")["outcome"] == "ok"

    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{jwt}",
    }
    code, report = await verify(stack, enveloped)
    assert code == 200 and report["verified"], report

    # The same credential with its embedded Data Integrity proof (eddsa-rdfc-2022).
    code, report = await verify(stack, issued["credential"])
    assert code == 200 and report["verified"], report
    assert issued["credential"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"

    altered = {**issued["credential"], "name": "Advanced Data Protection"}
    code, report = await verify(stack, altered)
    assert code == 400 and check(report, "proof")["outcome"] == "failed", report

    code, report = await verify(stack, tamper(jwt))
    assert code == 400 and not report["verified"], report
    assert check(report, "proof")["outcome"] == "failed"

    # The verifier keeps working with issuer, catalog and revocation stopped.
    stack.stop("issuer", "catalog", "revocation")
    code, report = await verify(stack, jwt)
    assert code == 200 and report["verified"], report

    stack.start("revocation")
    status, body = await call(
        "POST",
        f"{stack.url('revocation')}/credentials/status",
        json={
            "credentialId": issued["credentialId"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=stack.auth,
    )
    assert status == 200, body
    acknowledged = time.monotonic()

    async def revoked_now() -> Json | None:
        code, report = await verify(stack, jwt)
        return report if code == 400 and not report["verified"] else None

    report = await until(revoked_now, within=5.0, interval=0.02)
    elapsed = time.monotonic() - acknowledged
    assert report, "the revocation never reached the verifier"
    assert check(report, "status")["outcome"] == "failed"
    assert "revoked" in (check(report, "status")["reason"] or "")
    assert elapsed < 1.0, f"revocation took {elapsed:.3f}s to reach the verifier"
    stack.start("issuer", "catalog")


async def test_other_tenant_cannot_revoke(stack: Stack) -> None:
    issuer_did = await create_issuer(stack)
    achievement_id = await create_achievement(stack, issuer_did)
    status, issued = await award(stack, achievement_id, 100, key="tenant-1")
    assert status == 201, issued
    status, body = await call(
        "POST",
        f"{stack.url('revocation')}/credentials/status",
        json={
            "credentialId": issued["credentialId"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers={"Authorization": "Bearer other-token"},
    )
    assert status == 404, body
    assert body["status"] == 404


@pytest.mark.parametrize(
    ("service", "path", "payload"),
    [
        ("issuer", "/awards", b"{not json"),
        ("issuer", "/issuers", b'{"name": 5, "url": []}'),
        ("catalog", "/achievements", b'{"issuerDid": "x", "masteryThreshold": "high"}'),
        ("revocation", "/credentials/status", b'{"credentialId": 1}'),
        ("verifier", "/credentials/verify", b"[1, 2"),
    ],
)
async def test_bad_requests_get_problem_json(
    stack: Stack, service: str, path: str, payload: bytes
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{stack.url(service)}{path}",
            data=payload,
            headers={**stack.auth, "Content-Type": "application/json"},
        ) as answer,
    ):
        assert 400 <= answer.status < 500, await answer.text()
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        body = await answer.json(content_type=None)
        assert body["status"] == answer.status and body["title"]


@pytest.mark.parametrize("service", ["issuer", "catalog", "revocation", "verifier"])
async def test_oversize_body_is_refused(stack: Stack, service: str) -> None:
    path = {
        "issuer": "/awards",
        "catalog": "/achievements",
        "revocation": "/credentials/status",
        "verifier": "/credentials/verify",
    }[service]

    async def body() -> AsyncIterator[bytes]:  # 2 MiB, streamed without Content-Length
        yield b'{"x": "'
        for _ in range(32):
            yield b"a" * 65536
        yield b'"}'

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{stack.url(service)}{path}",
            data=body(),
            headers={**stack.auth, "Content-Type": "application/json"},
        ) as answer,
    ):
        assert answer.status == 413
        assert answer.headers["Content-Type"].startswith("application/problem+json")
