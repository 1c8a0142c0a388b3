"""Registrar operations (issue 9): status changes with reasons and their
audit trail, as an institution and a verifier see them.

Real processes (tests/e2e/harness.py) on the shared Kafka and Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.client import Api, Json, until
from tests.e2e.harness import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def change_status(
    api: Api, credential_id: str, purpose: str, status: bool, reason: Any, key: str | None = None
) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    body: Json = {
        "credentialId": credential_id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
        "status": status,
    }
    if reason is not None:
        body["reason"] = reason
    return await api.call(
        "POST", f"{api.stack.url('revocation')}/credentials/status", json=body, headers=headers
    )


async def history(api: Api, credential_id: str) -> tuple[int, Any]:
    url = f"{api.stack.url('revocation')}/credentials/{credential_id}/status-history"
    return await api.call("GET", url, headers=api.auth)


async def state_details(api: Api, jwt: str, state: str) -> Json:
    async def reached() -> Json | None:
        _, report = await api.verify(jwt)
        return report if report["state"] == state else None

    report = await until(reached, within=10.0)
    assert report, f"never {state}"
    return dict(report["stateDetails"])


async def test_reasons_public_and_private_with_an_audit_trail(api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    public = await api.issue(achievement_id, key="reason-a")
    private = await api.issue(achievement_id, key="reason-b")

    # A code outside the documented enumeration, an unknown member: 422.
    for bad in ({"code": "because"}, {"code": "other", "secret": 1}, {"text": "no code"}):
        status, problem = await change_status(api, public["credentialId"], "revocation", True, bad)
        assert status == 422, problem

    reason = {"code": "investigation", "text": "Under review by the exam board", "public": True}
    status, body = await change_status(
        api, public["credentialId"], "suspension", True, reason, key="s-1"
    )
    assert status == 200 and body["changed"], body
    details = await state_details(api, public["jwt"], "suspended")
    assert details["reason"] == {"code": "investigation", "text": "Under review by the exam board"}
    assert details["since"]

    secret = {"code": "academic_misconduct", "text": "Copied the capstone project"}
    status, body = await change_status(api, private["credentialId"], "revocation", True, secret)
    assert status == 200 and body["changed"], body
    details = await state_details(api, private["jwt"], "revoked")
    assert details["reason"] is None and details["since"]  # private: never shown

    # Reinstated, then revoked with a public reason: the report follows.
    status, _ = await change_status(api, public["credentialId"], "suspension", False, None)
    assert status == 200
    await state_details(api, public["jwt"], "valid")
    final = {"code": "issued_in_error", "text": "Wrong learner", "public": True}
    status, _ = await change_status(api, public["credentialId"], "revocation", True, final)
    assert status == 200
    details = await state_details(api, public["jwt"], "revoked")
    assert details["reason"] == {"code": "issued_in_error", "text": "Wrong learner"}

    status, trail = await history(api, public["credentialId"])
    assert status == 200, trail
    changes = trail["changes"]
    assert [c["action"] for c in changes] == ["suspended", "reinstated", "revoked"]
    assert changes[0]["reason"] == reason and changes[0]["idempotencyKey"] == "s-1"
    assert changes[1]["reason"] is None
    assert all(c["tenant"] == api.stack.tenant for c in changes)
    assert all(c["actor"].startswith("token:sha256:") for c in changes)
    assert api.stack.token not in str(trail)  # the token itself is never kept
    assert all(c["requestId"] for c in changes)

    status, trail = await history(api, private["credentialId"])
    assert status == 200 and trail["changes"][0]["reason"] == {**secret, "public": False}

    # Tenant-only: another institution, and anonymous callers, see nothing.
    status, _ = await history(api.as_tenant("other-token"), public["credentialId"])
    assert status == 404
    status, _ = await history(api.as_tenant(""), public["credentialId"])
    assert status == 401
