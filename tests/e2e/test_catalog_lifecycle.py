"""Issue 9, catalog: revisions, retirement, list and search, tenant
isolation, validation and policy profiles, against the running services."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from shared.credentials.jwt import peek_vc_jwt
from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

ESCO = "http://data.europa.eu/esco/skill/"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def definition(issuer_did: str, **changes: Any) -> Json:
    return {
        "issuerDid": issuer_did,
        "name": "Applied Data Protection",
        "description": "Apply GDPR principles to data processing in an SME.",
        "criteria": {"narrative": "Pass the final assessment with at least 90%."},
        "masteryThreshold": 0.9,
        **changes,
    }


async def write(
    api: Api, method: str, url: str, body: Json | None = None, key: str | None = None
) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    return await api.call(method, url, json=body, headers=headers)


def catalog(api: Api, path: str = "") -> str:
    return f"{api.stack.url('catalog')}/achievements{path}"


def revision_in(credential: Json) -> int:
    _, claims = peek_vc_jwt(credential["jwt"])
    return int(claims["credentialSubject"]["achievement"]["revision"])


async def test_revisions_and_retirement_keep_old_credentials_valid(api: Api) -> None:
    issuer = await api.create_issuer()
    key = f"define-{secrets.token_hex(4)}"
    status, first = await write(api, "POST", catalog(api), definition(issuer), key)
    assert status == 201 and first["revision"] == 1, first
    status, again = await write(api, "POST", catalog(api), definition(issuer), key)
    assert (status, again["id"]) == (200, first["id"])
    achievement_id = first["id"]
    await api.issuer_knows(achievement_id)
    old = await api.issue(achievement_id)
    assert revision_in(old) == 1

    # Update: the next revision, once per Idempotency-Key.
    revised = definition(issuer, name="Applied Data Protection (2027)")
    key = f"revise-{secrets.token_hex(4)}"
    for expected in (200, 200):
        status, body = await write(api, "PUT", achievement_id, revised, key)
        assert (status, body["revision"]) == (expected, 2), body
    status, history = await api.call("GET", f"{achievement_id}/revisions")
    assert status == 200
    assert [(r["revision"], r["achievement"]["name"]) for r in history["revisions"]] == [
        (1, "Applied Data Protection"),
        (2, "Applied Data Protection (2027)"),
    ]
    status, page = await api.call("GET", f"{achievement_id}?revision=1")
    assert status == 200 and page["revision"] == 1 and page["name"] == "Applied Data Protection"

    async def newer() -> Json | None:
        credential = await api.issue(achievement_id)
        return credential if revision_in(credential) == 2 else None

    new = await until(newer)
    assert new is not None, "the issuer never saw revision 2"

    # Retire: once; no new awards; every credential issued stays valid.
    key = f"retire-{secrets.token_hex(4)}"
    for _ in range(2):
        status, body = await write(api, "POST", f"{achievement_id}/retire", None, key)
        assert (status, body["status"], body["revision"]) == (200, "retired", 3), body
    status, body = await write(api, "POST", f"{achievement_id}/retire")
    assert (status, body["revision"]) == (200, 3), body  # retiring again changes nothing
    status, body = await write(api, "PUT", achievement_id, revised)
    assert status == 409, body

    async def refused() -> bool:
        status, _ = await api.award(achievement_id)
        return status == 409

    assert await until(refused), "the issuer kept awarding a retired achievement"
    status, problem = await api.award(achievement_id)
    assert problem["title"] == "Achievement retired", problem
    assert await api.verdict(old["jwt"]) == "valid"
    assert await api.verdict(new["credential"]) == "valid"
    assert revision_in(old) == 1 and revision_in(new) == 2

    # The report shows the revision each was issued under, and the catalog's now.
    async def seen_retired() -> Json | None:
        _, report = await api.verify(old["jwt"])
        known = check(report, "achievement_known")
        return known if (known.get("details") or {}).get("current") == 3 else None

    known = await until(seen_retired)
    assert known is not None, "the verifier never saw revision 3"
    assert known["outcome"] == "ok" and "issued under revision 1" in known["reason"], known
    assert known["details"] == {"issuedUnder": 1, "current": 3, "status": "retired"}

    # Another tenant can neither change nor see it in a listing.
    other = api.as_tenant("other-token")
    for method, url in (("PUT", achievement_id), ("POST", f"{achievement_id}/retire")):
        status, _ = await write(other, method, url, revised)
        assert status == 404
    status, listing = await other.call("GET", catalog(api), headers=other.auth)
    assert status == 200 and achievement_id not in [i["id"] for i in listing["items"]]

    # The replica is rebuilt from Kafka: every revision survives a Redis wipe.
    assert api.stack.wipe_redis("catalog") > 0

    async def rebuilt() -> Json | None:
        status, body = await api.call("GET", f"{achievement_id}/revisions")
        return body if status == 200 else None

    history = await until(rebuilt, within=30)
    assert history is not None and [r["status"] for r in history["revisions"]] == [
        "active",
        "active",
        "retired",
    ]


async def test_what_the_signed_format_refuses_is_a_422_naming_every_field(api: Api) -> None:
    issuer = await api.create_issuer()
    bad = definition(
        issuer,
        image="logo",
        criteria={"narrative": "Pass.", "id": "crit"},
        inLanguage="english!!",
        alignment=[{"targetName": "x", "targetUrl": "not a url"}],
        microCredential={"participationMode": "by carrier pigeon"},
    )
    status, problem = await write(api, "POST", catalog(api), bad)
    assert status == 422, problem
    assert {e["path"] for e in problem["errors"]} == {
        "$.image",
        "$.criteria.id",
        "$.inLanguage",
        "$.alignment[0].targetUrl",
        "$.microCredential.participationMode",
    }


async def test_list_filters_search_and_pages(api: Api) -> None:
    issuer = await api.create_issuer()
    status, provider = await api.register_provider([issuer], "Listing Polytechnic")
    assert status == 201, provider
    made = []
    for name, level, language, skill in (
        ("Cyber Hygiene Basics", 4, "en", f"{ESCO}cyber-1"),
        ("Grundlagen Datenschutz", 5, "de-DE", f"{ESCO}gdpr-2"),
        ("Advanced Cyber Defence", 6, "en-GB", "https://skills.example/cyber"),
    ):
        body = definition(
            issuer,
            name=name,
            inLanguage=language,
            alignment=[{"targetName": name, "targetUrl": skill}],
            microCredential={"eqfLevel": level},
        )
        status, answer = await write(api, "POST", catalog(api), body)
        assert status == 201, answer
        made.append(answer["id"])
    status, _ = await write(api, "POST", f"{made[1]}/retire")
    assert status == 200

    async def found(query: str) -> list[str]:
        status, body = await api.call("GET", f"{catalog(api)}?{query}", headers=api.auth)
        assert status == 200, body
        return [item["id"] for item in body["items"] if item["id"] in made]

    provider_key = provider["id"].rsplit("/", 1)[1]
    assert await found(f"provider={provider_key}&limit=100") == sorted(made)
    assert await found("q=cyber&limit=100") == sorted([made[0], made[2]])
    assert await found("q=cyber%20advanced&limit=100") == [made[2]]
    assert await found(f"skill={ESCO}&limit=100") == sorted(made[:2])
    assert await found("language=en&limit=100") == sorted([made[0], made[2]])
    assert await found("level=5&limit=100") == [made[1]]
    assert await found(f"status=retired&provider={provider_key}") == [made[1]]
    assert await found(f"type=MicroCredential&provider={provider_key}") == sorted(made)

    # Pages: one at a time, following `next`, meet each exactly once.
    seen: list[str] = []
    cursor: int | None = 0
    while cursor is not None:
        status, body = await api.call(
            "GET",
            f"{catalog(api)}?provider={provider_key}&limit=1&cursor={cursor}",
            headers=api.auth,
        )
        assert status == 200 and len(body["items"]) == 1 and body["total"] == 3
        seen.append(body["items"][0]["id"])
        cursor = body["next"]
    assert seen == sorted(made)

    status, problem = await api.call("GET", f"{catalog(api)}?level=9", headers=api.auth)
    assert status == 422, problem
    status, _ = await api.call("GET", catalog(api))
    assert status == 401


async def test_a_providers_policy_profile_gates_its_definitions(api: Api) -> None:
    issuer = await api.create_issuer()
    status, provider = await api.register_provider([issuer], "Profiled College")
    assert status == 201 and provider["policyProfile"] == "badge", provider
    status, provider = await write(api, "PATCH", provider["id"], {"policyProfile": "eu-2022"})
    assert status == 200 and provider["policyProfile"] == "eu-2022", provider

    status, problem = await write(api, "POST", catalog(api), definition(issuer))
    assert status == 422, problem
    assert problem["type"] == "urn:microcred:problem:profile-requirements-unmet"
    named = {e["path"] for e in problem["errors"]}
    assert {"$.microCredential.assessmentType", "$.microCredential.eqfLevel"} <= named

    complete = definition(
        issuer,
        creditsAvailable=5,
        microCredential={
            "eqfLevel": 6,
            "ectsCredits": 5,
            "assessmentType": "supervised online exam",
            "participationMode": "online",
            "qualityAssurance": "internal QA",
        },
    )
    status, body = await write(api, "POST", catalog(api), complete)
    assert status == 201, body


async def test_trusted_credential_awards_need_evidence_and_verify(api: Api) -> None:
    """The TrustEd Credential profile end to end: the definition needs an
    alignment by URI and Assessment Extension details, the provider an
    accreditation; each award needs evidence, and then verifies `valid`."""
    issuer = await api.create_issuer("Trusted Polytechnic")
    status, provider = await api.register_provider([issuer], "Trusted Polytechnic")
    assert status == 201, provider
    pid = provider["id"]
    status, body = await write(api, "PATCH", pid, {"policyProfile": "trusted-credential"})
    assert status == 200, body

    complete = definition(
        issuer,
        alignment=[{"targetName": "data protection", "targetUrl": f"{ESCO}gdpr-3"}],
        assessment={"evaluationMethod": "Proctored exam", "hasGroupEvaluation": False},
        microCredential={"assessmentType": "supervised online exam"},
    )
    status, problem = await write(api, "POST", catalog(api), complete)
    assert status == 422, problem  # not accredited yet: no accreditors
    assert [e["path"] for e in problem["errors"]] == ["$.issuerDid"], problem
    status, body = await api.operator.accredit(pid)
    assert status == 201, body

    async def accepted() -> Json | None:
        status, body = await write(api, "POST", catalog(api), complete)
        return body if status == 201 else None

    made = await until(accepted)
    assert made is not None, "the catalog kept refusing a complete definition"
    achievement_id = made["id"]
    rd = made["achievement"]["resultDescription"][0]
    assert "AssessmentResultDescription" in rd["type"] and rd["evaluationMethod"]

    # The issuer knows the accreditation (so the provider's profile) once its
    # public Profile carries it.
    async def accredited() -> bool:
        status, profile = await api.call("GET", f"{api.stack.url('issuer')}/issuers/{issuer}")
        return status == 200 and bool(profile.get("accreditations"))

    assert await until(accredited)
    await api.issuer_knows(achievement_id)
    status, problem = await api.award(achievement_id)
    assert status == 422, problem
    assert problem["type"] == "urn:microcred:problem:profile-requirements-unmet"
    assert [e["path"] for e in problem["errors"]] == ["$.evidence"]

    status, issued = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/awards",
        json={
            "achievementId": achievement_id,
            "recipient": {"id": "did:example:learner-9"},
            "score": 97,
            "evidence": [{"id": "https://lms.example/portfolio/9", "name": "Portfolio"}],
        },
        headers=api.auth,
    )
    assert status == 201, issued
    credential = issued["credential"]
    assert credential["evidence"][0]["id"] == "https://lms.example/portfolio/9"
    assert credential["credentialSubject"]["result"][0]["resultDate"]
    for form in (credential, issued["jwt"]):
        # valid once the accreditation and the achievement reach the verifier over Kafka
        assert await api.trusted_report(form), await api.verify(form)
