"""VC-API `POST /credentials/issue` (issue 11), with the real services.

Exactly 201 `{verifiableCredential}`; 4xx problem+json for bad input; any
credential type only once the operator enabled the issuer's provider; an
Open Badge of one of our achievements passes the mastery gate; status
entries on request, which the revocation service then flips; VC 1.1 input
gets the Data Integrity context; VC-JWT comes as an enveloped credential.
Everything issued is checked by our verifier (the W3C suites check it
with an independent implementation: docs/conformance.md).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def alumni(issuer: str, **extra: Any) -> Json:
    return {
        "@context": [V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "name": "Alumna of Example University",
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:alumna"},
        **extra,
    }


async def issue(api: Api, credential: Json, **options: Any) -> tuple[int, Any]:
    return await api.call(
        "POST",
        f"{api.stack.url('issuer')}/credentials/issue",
        json={"credential": credential, "options": options},
        headers=api.auth,
    )


async def enabled_issuer(api: Api) -> str:
    """An issuer whose provider the operator enabled for generic issuance."""
    did = await api.create_issuer("Generic Issuing College")

    async def registered() -> Json | None:
        status, body = await api.register_provider([did], "Generic Issuing College")
        return body if status == 201 else None

    provider = await until(registered)
    assert provider, "the catalog never saw the issuer"
    status, body = await api.operator.call(
        "PUT",
        f"{provider['id']}/generic-issuance",
        json={"enabled": True},
        headers=api.operator.auth,
    )
    assert status == 200 and body["genericIssuance"] is True, body
    return did


async def test_any_type_only_for_an_enabled_provider(api: Api) -> None:
    did = await api.create_issuer("Not Enabled College")
    status, body = await issue(api, alumni(did))
    assert status == 403 and body["type"].endswith("generic-issuance-not-enabled"), body
    # a tenant may not flip the operator's flag
    enabled = await enabled_issuer(api)

    async def issued() -> tuple[int, Any] | None:
        answer = await issue(api, alumni(enabled))
        return answer if answer[0] == 201 else None

    answer = await until(issued)  # the issuer learns the flag from Kafka
    assert answer, await issue(api, alumni(enabled))
    status, body = answer
    assert list(body) == ["verifiableCredential"]
    vc = body["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    code, report = await api.verify(vc)
    assert code == 200 and report["verified"], report
    assert [r["check"] for r in report["results"]][:4] == ["shape", "proof", "validity", "status"]


async def test_bad_input_is_a_4xx_problem(api: Api) -> None:
    did = await enabled_issuer(api)
    # the issuer learns the flag from Kafka: until then some cases below are a 403
    assert await until(lambda: _issued(api, alumni(did))), "never enabled"
    good = alumni(did)
    cases: list[Json] = [
        {"verifiableCredential": good},
        {"credential": {k: v for k, v in good.items() if k != "@context"}},
        {"credential": {**good, "@context": 4}},
        {"credential": {**good, "type": [4]}},
        {"credential": {**good, "type": {}}},
        {"credential": {**good, "type": ["VerifiableCredential", {"a": 1}]}},
        {"credential": {**good, "issuer": []}},
        {"credential": {**good, "credentialSubject": "did:example:x"}},
        {
            "credential": {
                **good,
                "validFrom": "2025-01-02T00:00:00Z",
                "validUntil": "2025-01-01T00:00:00Z",
            }
        },
        {"credential": {**good, "proof": {"type": "DataIntegrityProof"}}},
        {
            "credential": {
                **good,
                "credentialStatus": {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": "1",
                    "statusListCredential": "https://evil.example/l",
                },
            }
        },
        {"credential": {**good, "undefinedTerm": "x"}},  # JSON-LD safe mode
        {"credential": good, "options": {"teleport": True}},
    ]
    for body in cases:
        status, problem = await api.call(
            "POST", f"{api.stack.url('issuer')}/credentials/issue", json=body, headers=api.auth
        )
        assert status in (400, 422), (body, status, problem)
        assert problem["status"] == status and "title" in problem
    status, _ = await api.call(
        "POST", f"{api.stack.url('issuer')}/credentials/issue", json={"credential": good}
    )
    assert status == 401
    other = await api.as_tenant("other-token").create_issuer("Other Tenant College")
    assert (await issue(api, alumni(other)))[0] == 404


async def test_status_entries_on_request_and_revocation(api: Api) -> None:
    did = await enabled_issuer(api)
    credential = alumni(did)
    answer = await until(
        lambda: _issued(
            api,
            credential,
            credentialStatus={"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        )
    )
    vc = answer["verifiableCredential"]
    entry = vc["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert await api.reaches(vc, "valid")
    status, body = await api.set_status(credential["id"])
    assert status == 200, body
    assert await api.reaches(vc, "revoked")
    again, _ = await issue(api, credential)  # the same id twice
    assert again == 409


async def test_one_credential_per_id_also_when_asked_at_once(api: Api) -> None:
    """Ten requests naming one credential id at the same moment (each with its
    own Idempotency-Key): one is signed, nine are 409, so the status API's id
    names one credential that a revocation reaches."""
    did = await enabled_issuer(api)
    assert await until(lambda: _issued(api, alumni(did))), "never enabled"
    credential = alumni(did)
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}

    async def one(n: int) -> int:
        code, _ = await api.call(
            "POST",
            f"{api.stack.url('issuer')}/credentials/issue",
            json={"credential": credential, "options": {"credentialStatus": status}},
            headers={**api.auth, "Idempotency-Key": f"same-id-{uuid.uuid4()}-{n}"},
        )
        return code

    codes = await asyncio.gather(*(one(n) for n in range(10)))
    assert sorted(codes) == [201] + [409] * 9, codes


async def _issued(api: Api, credential: Json, **options: Any) -> Json | None:
    status, body = await issue(api, copy.deepcopy(credential), **options)
    return dict(body) if status == 201 else None


async def test_vc11_and_vc_jwt(api: Api) -> None:
    did = await enabled_issuer(api)
    v1 = {
        "@context": [V1],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alumna"},
    }
    answer = await until(lambda: _issued(api, v1))
    assert answer
    vc = answer["verifiableCredential"]
    assert vc["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
    code, report = await api.verify(vc)
    assert code == 200, report
    status, body = await issue(api, alumni(did), securingMechanism="VC-JWT")
    assert status == 201, body
    envelope = body["verifiableCredential"]
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["id"].startswith("data:application/vc+jwt,ey")
    code, report = await api.verify(envelope)
    assert code == 200 and check(report, "proof")["outcome"] == "ok", report
    assert (await issue(api, v1, securingMechanism="VC-JWT"))[0] == 422


async def test_an_open_badge_of_our_achievement_is_an_award(api: Api) -> None:
    did = await api.create_issuer("Badge College")
    achievement = await api.achievement(did)  # mastery threshold 90 %
    await api.issuer_knows(achievement)
    badge = {
        "@context": [V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "Badge College"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Applied Data Protection",
        "credentialSubject": {
            "id": "did:example:learner-9",
            "type": ["AchievementSubject"],
            "achievement": {"id": achievement},
        },
    }
    status, body = await issue(api, badge)
    assert status == 422 and body["type"].endswith("assessment-required"), body
    # another tenant's issuer, even one enabled for generic issuance, signs no
    # badge of this achievement: it would pass itself off as this issuer's
    other = api.as_tenant("other-token")
    enabled = await enabled_issuer(other)
    assert await until(lambda: _issued(other, alumni(enabled))), "never enabled"
    foreign = copy.deepcopy(badge)
    foreign["issuer"] = {"id": enabled, "type": ["Profile"], "name": "Generic Issuing College"}
    status, body = await issue(other, foreign, assessment={"score": 95})
    assert status == 422, body
    assert body["errors"][0]["path"] == "$.credential.credentialSubject.achievement.id", body
    status, body = await issue(api, badge, assessment={"score": 95}, credentialId="urn:x:1")
    assert status == 422 and body["errors"][0]["path"] == "$.options.credentialId", body
    status, body = await issue(api, badge, assessment={"score": 50})
    assert status == 422 and body["type"].endswith("assessment-below-threshold"), body
    status, body = await issue(api, badge, assessment={"score": 95})
    assert status == 201, body
    vc = body["verifiableCredential"]
    assert vc["credentialSubject"]["achievement"]["id"] == achievement
    # the issuer's first status lists reach the verifier over Kafka a moment later
    assert await api.reaches(vc, "valid", within=30), "never verified"
    code, report = await api.verify(vc)
    assert code == 200 and report["verified"], report
