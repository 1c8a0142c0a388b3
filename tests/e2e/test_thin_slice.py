"""The thin slice: issue, verify, keep verifying with the others down, revoke.

Runs the four services as processes against the real Kafka and Redis.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def tamper(jwt: str) -> str:
    """Change one character of the payload, keeping it valid base64url JSON."""
    header, payload, signature = jwt.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    changed = raw.replace(b"Applied Data Protection", b"Applied Data Protectiom", 1)
    assert changed != raw
    encoded = base64.urlsafe_b64encode(changed).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


async def test_issue_verify_offline_then_revoke(stack: Stack, api: Api) -> None:
    # Each call right after the previous one: services wait for what another
    # one just published on Kafka instead of answering 404 (read-your-writes).
    achievement_id = await api.achievement(await api.accredited_issuer())

    status, failing = await api.award(achievement_id, score=80, key="fail-1")
    assert status == 422, failing
    assert failing["type"].endswith("assessment-below-threshold")

    status, issued = await api.award(achievement_id, score=95, key="pass-1")
    assert status == 201, issued
    jwt = issued["jwt"]
    statuses = issued["credential"]["credentialStatus"]
    assert {s["statusPurpose"] for s in statuses} == {"revocation", "suspension"}
    assert {s["type"] for s in statuses} == {"BitstringStatusListEntry"}

    # A retry with the same Idempotency-Key answers the same credential.
    status, again = await api.award(achievement_id, score=95, key="pass-1")
    assert status in (200, 201) and again["credentialId"] == issued["credentialId"]

    # Verifiable at once: no waiting for status lists to propagate.
    code, report = await api.verify(jwt)
    assert code == 200 and report["verified"], report
    assert check(report, "proof")["outcome"] == "ok"
    assert check(report, "status")["outcome"] == "ok"

    async def trusted_now() -> Json | None:
        # The verifier learns a brand-new provider and its accreditation from
        # Kafka within moments; until then the credential is verified but
        # "untrusted" (trust decides the verdict, not `verified`).
        _, report = await api.verify(jwt)
        return report if report["verdict"] == "valid" else None

    report = await until(trusted_now, within=5.0)
    assert report, "the verifier never learnt the accredited provider from Kafka"
    assert check(report, "trust")["code"] == "accredited"
    assert check(report, "impersonation")["outcome"] == "ok"
    assert "verdict" in report["notice"]

    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{jwt}",
    }
    code, report = await api.verify(enveloped)
    assert code == 200 and report["verified"], report

    # The same credential with its embedded Data Integrity proof (eddsa-rdfc-2022).
    code, report = await api.verify(issued["credential"])
    assert code == 200 and report["verified"], report
    assert issued["credential"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"

    altered = {**issued["credential"], "name": "Advanced Data Protection"}
    code, report = await api.verify(altered)
    assert code == 400 and check(report, "proof")["outcome"] == "failed", report

    code, report = await api.verify(tamper(jwt))
    assert code == 400 and not report["verified"], report
    assert check(report, "proof")["outcome"] == "failed"

    # The verifier keeps working with issuer, catalog and revocation stopped.
    stack.stop("issuer", "catalog", "revocation")
    code, report = await api.verify(jwt)
    assert code == 200 and report["verified"], report

    stack.start("revocation")
    status, body = await api.set_status(issued["credentialId"])
    assert status == 200, body
    acknowledged = time.monotonic()

    async def revoked_now() -> Json | None:
        code, report = await api.verify(jwt)
        return report if code == 400 and not report["verified"] else None

    report = await until(revoked_now, within=5.0, interval=0.02)
    elapsed = time.monotonic() - acknowledged
    assert report, "the revocation never reached the verifier"
    assert check(report, "status")["outcome"] == "failed"
    assert "revoked" in (check(report, "status")["reason"] or "")
    assert elapsed < 1.0, f"revocation took {elapsed:.3f}s to reach the verifier"
    stack.start("issuer", "catalog")


async def test_other_tenant_cannot_revoke(api: Api) -> None:
    achievement_id = await api.achievement(await api.create_issuer())
    issued = await api.issue(achievement_id, score=100, key="tenant-1")
    status, body = await api.as_tenant("other-token").set_status(issued["credentialId"])
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


async def metric(api: Api, service: str, operation: str, outcome: str) -> float:
    async with api.session.get(f"{api.stack.url(service)}/metrics") as answer:
        text = await answer.text()
    wanted = f'microcred_outcomes_total{{operation="{operation}",outcome="{outcome}"}}'
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(wanted)]
    return values[0] if values else 0.0


async def test_outcomes_are_counted_for_operators(api: Api) -> None:
    achievement_id = await api.achievement(await api.create_issuer())
    before = await metric(api, "issuer", "award", "issued")
    issued = await api.issue(achievement_id)
    await api.award(achievement_id, score=10)
    assert await metric(api, "issuer", "award", "issued") == before + 1
    assert await metric(api, "issuer", "award", "below_threshold") >= 1

    await api.verify(issued["jwt"])
    verdicts = [
        await metric(api, "verifier", "credential_verification", verdict)
        for verdict in ("valid", "untrusted")
    ]
    assert sum(verdicts) >= 1
    await api.set_status(issued["credentialId"], purpose="suspension")
    assert await metric(api, "revocation", "status_change", "suspension") >= 1
