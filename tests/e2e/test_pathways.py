"""Issue 9, pathways: the catalog refuses unknown, retired, unaccredited and
cyclic components; the issuer awards a completed pathway exactly once, also
when two components are awarded at the same moment on two issuer instances
and after the issuer's Redis is wiped and rebuilt from Kafka."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.jwt import peek_vc_jwt
from shared.credentials.presentations import build_presentation
from shared.credentials.vp_jwt import sign_vp_jwt
from shared.events import CredentialIssued, decode_event
from shared.kafka.topics import CREDENTIALS_ISSUED
from tests.e2e.client import Api, Json, read_topic, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def definition(issuer_did: str, name: str, **changes: Any) -> Json:
    return {
        "issuerDid": issuer_did,
        "name": name,
        "description": f"{name}: a unit of the data protection programme.",
        "criteria": {"narrative": "Pass the final assessment with at least 60%."},
        "masteryThreshold": 0.6,
        **changes,
    }


async def post(api: Api, path: str, body: Json, key: str | None = None) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    return await api.call("POST", f"{api.stack.url('catalog')}{path}", json=body, headers=headers)


async def achievement(api: Api, issuer: str, name: str) -> str:
    status, body = await post(api, "/achievements", definition(issuer, name))
    assert status == 201, body
    return str(body["id"])


async def pathway(api: Api, issuer: str, **rule: Any) -> Json:
    body = {
        "name": "Data Protection Certificate",
        "achievement": definition(
            issuer, "Data Protection Certificate", achievementType="Certificate"
        ),
        **rule,
    }
    status, created = await post(api, "/pathways", body, key=f"pw-{secrets.token_hex(4)}")
    assert status == 201, created
    return dict(created)


async def put(api: Api, url: str, body: Json, key: str | None = None) -> tuple[int, Any]:
    headers = {**api.auth, **({"Idempotency-Key": key} if key else {})}
    return await api.call("PUT", url, json=body, headers=headers)


def errors(body: Json) -> dict[str, str]:
    return {e["path"]: e["message"] for e in body["errors"]}


async def stacked(stack: Stack, pathway_id: str) -> list[CredentialIssued]:
    """Every credential on credentials.issued that completes `pathway_id`."""
    found = []
    for record in await read_topic(stack.kafka_bootstrap, stack.topic(CREDENTIALS_ISSUED)):
        event = decode_event(record.value)
        if isinstance(event, CredentialIssued) and event.pathway_id == pathway_id:
            found.append(event)
    return found


async def test_refused_components_are_named(api: Api) -> None:
    issuer = await api.create_issuer()
    held = await achievement(api, issuer, "Lawful Processing")
    retired = await achievement(api, issuer, "Old Unit")
    status, body = await post(api, f"/achievements/{retired.rsplit('/', 1)[1]}/retire", {})
    assert status == 200 and body["status"] == "retired", body
    unknown = f"{api.stack.url('catalog')}/achievements/{secrets.token_hex(8)}"
    base = {"name": "P", "achievement": definition(issuer, "P")}

    status, body = await post(api, "/pathways", {**base, "core": [held, unknown, retired]})
    assert status == 422, body
    assert set(errors(body)) == {"$.core[1]", "$.core[2]"}, body
    assert "unknown" in errors(body)["$.core[1]"] and "retired" in errors(body)["$.core[2]"]

    # Another tenant's component: only from an accredited provider.
    other = api.as_tenant("other-token")
    plain = await achievement(other, await other.create_issuer("Other College"), "Their Unit")
    accredited = await achievement(other, await other.accredited_issuer("QA College"), "QA Unit")
    status, body = await post(api, "/pathways", {**base, "core": [plain]})
    assert status == 422 and "accredited" in errors(body)["$.core[0]"], body
    status, body = await post(
        api,
        "/pathways",
        {**base, "core": [held], "electives": [accredited], "electivesRequired": 1},
    )
    assert status == 201, body

    # Cycles: directly, and through a nested pathway.
    status, body = await post(
        api, "/pathways", {"name": "Self", "achievementId": held, "core": [held]}
    )
    assert status == 422 and "cycle" in errors(body)["$.core[0]"], body
    outer = await pathway(api, issuer, core=[held])
    status, body = await post(
        api, "/pathways", {"name": "Loop", "achievementId": held, "core": [outer["achievementId"]]}
    )
    assert status == 422, body
    assert errors(body)["$.core[0]"] == f"cycle: {held} -> {outer['achievementId']} -> {held}"

    # Read, list (the tenant's only), idempotent create, stackableInto.
    status, read = await api.call("GET", outer["id"], headers=api.auth)
    assert status == 200 and read["core"] == [held], read
    status, listed = await api.call("GET", f"{api.stack.url('catalog')}/pathways", headers=api.auth)
    assert outer["id"] in {p["id"] for p in listed["items"]}
    status, theirs = await other.call(
        "GET", f"{api.stack.url('catalog')}/pathways", headers=other.auth
    )
    assert outer["id"] not in {p["id"] for p in theirs["items"]}
    status, _ = await other.call("GET", outer["id"], headers=other.auth)
    assert status == 404
    status, page = await api.call("GET", held)
    assert outer["achievementId"] in page["stackableInto"], page

    # A revision that would close a cycle through another pathway is refused;
    # retiring takes the pathway out of stackableInto.
    inner = await pathway(api, issuer, core=[outer["achievementId"]])
    change = {"name": "Outer", "core": [inner["achievementId"]]}
    status, body = await put(api, outer["id"], change)
    assert status == 422, body
    assert errors(body)["$.core[0]"] == (
        f"cycle: {outer['achievementId']} -> {inner['achievementId']} -> {outer['achievementId']}"
    )
    key = f"rev-{secrets.token_hex(4)}"
    for _ in range(2):  # once per Idempotency-Key
        status, body = await put(api, outer["id"], {"name": "Outer", "core": [held, plain]}, key)
        assert status == 422 and "accredited" in errors(body)["$.core[1]"], body
        status, body = await put(api, outer["id"], {"name": "Outer v2", "core": [held]}, key + "x")
        assert (status, body["revision"], body["name"]) == (200, 2, "Outer v2"), body
    status, body = await post(api, f"/pathways/{outer['id'].rsplit('/', 1)[1]}/retire", {})
    assert (status, body["status"], body["revision"]) == (200, "retired", 3), body
    status, page = await api.call("GET", held)
    assert outer["achievementId"] not in page.get("stackableInto", []), page


def evidence_ids(stacked: CredentialIssued) -> set[str]:
    return {e["id"] for e in (stacked.credential_ldp or {})["evidence"]}


async def issue_to(api: Api, achievement_id: str, recipient: Json, issuer: str = "issuer") -> Json:
    status, body = await api.award(achievement_id, recipient=recipient, issuer=issuer)
    assert status == 201, body
    return dict(body)


async def test_concurrent_completion_then_wipe_awards_once(api: Api, stack: Stack) -> None:
    issuer = await api.accredited_issuer("Stacking Polytechnic")
    first = await achievement(api, issuer, "Lawful Processing")
    second = await achievement(api, issuer, "Data Subject Rights")
    created = await pathway(api, issuer, core=[first, second])
    second_issuer = stack.add_instance("issuer", "issuer-2")
    second_issuer.start()
    second_issuer.wait_ready()
    for name in ("issuer", "issuer-2"):
        await api.issuer_knows(first, issuer=name)
        await api.issuer_knows(second, issuer=name)

    # Two components of one learner at the same moment, on two instances; the
    # same learner named by e-mail written differently (one learner key).
    learners = [f"learner-{secrets.token_hex(3)}@example.org" for _ in range(4)]
    components: dict[str, list[str]] = {}
    for learner in learners:
        a, b = await asyncio.gather(
            issue_to(api, first, {"email": learner.upper()}, "issuer"),
            issue_to(api, second, {"email": f" {learner} "}, "issuer-2"),
        )
        components[learner] = [a["credentialId"], b["credentialId"]]

    async def all_stacked() -> list[CredentialIssued] | None:
        found = await stacked(stack, created["id"])
        return found if len(found) >= len(learners) else None

    assert await until(all_stacked, within=60), await stacked(stack, created["id"])
    await asyncio.sleep(3)  # a second award, if any, would be on the topic by now
    found = await stacked(stack, created["id"])
    assert len(found) == len(learners), [e.credential_id for e in found]
    evidence = sorted(sorted(evidence_ids(c)) for c in found)
    assert evidence == sorted(sorted(ids) for ids in components.values())
    credential = found[0].credential_ldp or {}
    assert credential["credentialSubject"]["achievement"]["id"] == created["achievementId"]
    assert "identifier" in credential["credentialSubject"]  # the learner's salted hash
    _, claims = peek_vc_jwt(found[0].credential_jwt)
    assert claims["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    assert await api.verdict(found[0].credential_jwt) == "valid"

    # The institution finds a learner's stacked credential by the learner's identity.
    find = f"{stack.url('issuer')}/pathway-awards/find"
    ask = {"pathwayId": created["id"], "recipient": {"email": learners[1]}}
    status, body = await api.call("POST", find, json=ask, headers=api.auth)
    [theirs] = [c for c in found if evidence_ids(c) == set(components[learners[1]])]
    assert status == 200 and body["credentialId"] == theirs.credential_id, body
    ask = {"pathwayId": created["id"], "recipient": {"email": "nobody@example.org"}}
    status, body = await api.call("POST", find, json=ask, headers=api.auth)
    assert status == 404 and body["type"].endswith("not-stacked"), body

    # Wipe the issuers' Redis: rebuilt from Kafka, the same decision is taken
    # again (a component awarded anew), and the idempotency record answers
    # the first credential. A new learner shows the stacking consumer ran.
    second_issuer.stop()
    stack.stop("issuer")
    assert stack.wipe_redis("issuer") > 0
    stack.start("issuer")
    async with aiohttp.ClientSession() as session:  # no connection to the old process
        restarted = Api(stack, session)
        await issue_to(restarted, first, {"email": learners[0]})
        fresh = f"fresh-{secrets.token_hex(3)}@example.org"
        await issue_to(restarted, first, {"email": fresh})
        await issue_to(restarted, second, {"email": fresh})

    async def fresh_stacked() -> list[CredentialIssued] | None:
        found = await stacked(stack, created["id"])
        return found if len(found) >= len(learners) + 1 else None

    assert await until(fresh_stacked, within=60), await stacked(stack, created["id"])
    await asyncio.sleep(3)
    after = await stacked(stack, created["id"])
    assert len(after) == len(learners) + 1, [e.credential_id for e in after]
    assert len({e.learner_key for e in after}) == len(after)


async def test_ordered_core_and_an_elective_then_the_verifier_reports_it(
    api: Api, stack: Stack
) -> None:
    """n-of with electives and ordering through the running services; then
    a learner presents the components and the verifier names the pathway."""
    issuer = await api.accredited_issuer("Ordered Polytechnic")
    first, second, elective, other = [
        await achievement(api, issuer, name) for name in ("Basics", "Advanced", "Law", "Ethics")
    ]
    created = await pathway(
        api,
        issuer,
        core=[first, second],
        electives=[elective, other],
        electivesRequired=1,
        ordered=True,
    )
    for unit in (first, second, elective):
        await api.issuer_knows(unit)
    learner = generate_ed25519()
    holder = learner.kid.partition("#")[0]
    recipient = {"id": holder}
    find = f"{stack.url('issuer')}/pathway-awards/find"
    ask = {"pathwayId": created["id"], "recipient": recipient}

    early = await issue_to(api, second, recipient)  # the second unit first
    await asyncio.sleep(1.1)  # validFrom has whole seconds
    basics = await issue_to(api, first, recipient)
    law = await issue_to(api, elective, recipient)
    await asyncio.sleep(2)  # out of order: nothing is stacked
    status, body = await api.call("POST", find, json=ask, headers=api.auth)
    assert status == 404, body
    assert await stacked(stack, created["id"]) == []

    await asyncio.sleep(1.1)
    advanced = await issue_to(api, second, recipient)  # now after the first unit

    async def found() -> Json | None:
        status, body = await api.call("POST", find, json=ask, headers=api.auth)
        return body if status == 200 else None

    body = await until(found, within=30)
    assert body, "never stacked"
    used = [e["id"] for e in body["credential"]["evidence"]]
    assert used == [basics["credentialId"], advanced["credentialId"], law["credentialId"]]
    assert early["credentialId"] not in used
    assert body["credential"]["credentialSubject"]["id"] == holder

    # The learner presents the three units: the verifier says what they complete.
    challenge = secrets.token_urlsafe(16)
    vp = build_presentation([basics["jwt"], advanced["jwt"], law["jwt"]], holder)
    token = sign_vp_jwt(vp, learner, challenge=challenge, domain="jobs.example")

    async def reported() -> list[Json] | None:
        status, answer = await api.call(
            "POST",
            f"{stack.url('verifier')}/presentations/verify",
            json={
                "verifiablePresentation": token,
                "options": {"challenge": challenge, "domain": "jobs.example"},
            },
        )
        both = status == 200 and len(answer["results"]["stacking"]) == 2
        return answer["results"]["stacking"] if both else None

    # A pathway defined after the learner earned its component is awarded too.
    later = await pathway(api, issuer, core=[elective])
    ask = {"pathwayId": later["id"], "recipient": recipient}
    body = await until(found, within=30)
    assert body and [e["id"] for e in body["credential"]["evidence"]] == [law["credentialId"]]

    stacking = await until(reported, within=15)
    assert stacking, "the verifier never named both pathways"
    by_pathway = {entry["pathway"]: entry for entry in stacking}
    assert by_pathway[created["id"]] == {
        "pathway": created["id"],
        "name": "Data Protection Certificate",
        "achievement": created["achievementId"],
        "learner": holder,
        "credentials": used,
    }
    assert by_pathway[later["id"]]["credentials"] == [law["credentialId"]]
