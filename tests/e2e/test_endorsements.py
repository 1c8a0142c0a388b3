"""Employer endorsements (issue 8): an endorser, with its own token and DID,
endorses an achievement; the catalog shows the endorsement with the
achievement, credentials awarded from then on carry it, and the verifier
checks its proof and names the endorser. Providers cannot endorse as an
endorser, and an endorser's token is no tenant's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

CLAIM = "Employers in logistics need staff who can apply GDPR to customer data."


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def endorse(
    api: Api, achievement_id: str, token: str, key: str | None = None
) -> tuple[int, Json]:
    headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
    return await api.call(
        "POST",
        f"{api.stack.url('issuer')}/endorsements",
        json={"achievementId": achievement_id, "claim": CLAIM},
        headers=headers,
    )


async def test_an_employer_endorsement_travels_with_the_achievement(api: Api) -> None:
    did = await api.accredited_issuer("Endorsement College")
    achievement = await api.achievement(did)

    # Tenancy: neither a provider nor the operator endorses as an endorser.
    status, body = await endorse(api, achievement, api.stack.token)
    assert status == 403, body
    status, body = await endorse(api, achievement, api.stack.operator_token)
    assert status == 403, body
    status, body = await endorse(api, achievement, "nobody")
    assert status == 401, body
    status, body = await api.as_tenant(api.stack.endorser_token).create_achievement(did)
    assert status == 403, body
    for token in (api.stack.endorser_token, api.stack.operator_token):  # the revocation service too
        status, body = await api.as_tenant(token).set_status("urn:uuid:any")
        assert status == 403, body

    status, endorsed = await endorse(api, achievement, api.stack.endorser_token, key="e-1")
    assert status == 201, endorsed
    assert endorsed["endorser"]["name"] == api.stack.endorser
    credential = endorsed["credential"]
    assert credential["credentialSubject"] == {
        "id": achievement,
        "type": ["EndorsementSubject"],
        "endorsementComment": CLAIM,
    }
    status, again = await endorse(api, achievement, api.stack.endorser_token, key="e-1")
    assert (status, again["id"]) == (200, endorsed["id"])

    async def shown() -> bool:
        status, body = await api.call("GET", achievement)
        return status == 200 and [e["id"] for e in body.get("endorsement", [])] == [endorsed["id"]]

    assert await until(shown, within=5), "the catalog never showed the endorsement"

    async def carried() -> Json | None:
        issued = await api.issue(achievement)
        held = issued["credential"]["credentialSubject"]["achievement"].get("endorsement", [])
        return issued if held else None

    issued = await until(carried, within=5, interval=0.1)
    assert issued, "awarded credentials never carried the endorsement"

    async def checked(form: Json | str) -> tuple[int, Json] | None:
        # The verifier learns the endorser's and the operator's identities, and
        # the operator's status list (of its endorsement), over Kafka.
        status, report = await api.verify(form)
        result = check(report, "endorsements")
        shown = (result.get("details") or {}).get("endorsements", [])
        roles = {e["endorser"]["role"] for e in shown}
        ready = result["outcome"] == "ok" and {"endorser", "operator"} <= roles
        return (status, report) if ready else None

    for form in (issued["credential"], issued["jwt"]):
        answer = await until(lambda: checked(form), within=10)
        assert answer, await api.verify(form)
        status, report = answer
        assert status == 200 and report["verified"], report
        result = check(report, "endorsements")
        assert result["outcome"] == "ok", result
        by = {e["endorser"]["role"]: e for e in result["details"]["endorsements"]}
        assert by["endorser"]["endorser"]["name"] == api.stack.endorser
        assert by["endorser"]["comment"] == CLAIM and by["endorser"]["on"] == "achievement"
        assert by["operator"]["on"] == "issuer"  # the accreditation, as before

    # The endorser (and only it) withdraws it: gone from the catalog and from
    # new credentials; the old credential shows it as withdrawn.
    url = f"{api.stack.url('issuer')}/endorsements/{endorsed['id']}"
    status, body = await api.call("DELETE", url, headers=api.auth)
    assert status == 403, body
    endorser = {"Authorization": f"Bearer {api.stack.endorser_token}", "Idempotency-Key": "w-1"}
    status, body = await api.call("DELETE", url, headers=endorser)
    assert (status, body["status"]) == (200, "withdrawn"), body

    async def hidden() -> bool:
        status, body = await api.call("GET", achievement)
        return status == 200 and "endorsement" not in body

    assert await until(hidden, within=5), "the catalog still shows the withdrawn endorsement"

    async def marked() -> bool:
        _, report = await api.verify(issued["jwt"])
        listed = check(report, "endorsements")["details"]["endorsements"]
        return any(e["on"] == "achievement" and e["status"] == "withdrawn" for e in listed)

    assert await until(marked, within=5), "the verifier never saw the withdrawal"
    again = await api.issue(achievement)
    assert "endorsement" not in again["credential"]["credentialSubject"]["achievement"]


async def test_only_endorsers_endorse_and_each_only_as_itself(api: Api) -> None:
    """Tenancy of the endorser role (issue 8): a provider's token is a 403, an
    endorser signs only under its own name and DID, cannot name another
    endorser in the request, and cannot withdraw another's endorsement; an
    endorser's token is neither a tenant's nor the operator's."""
    did = await api.create_issuer("Endorser Tenancy College")
    status, provider = await api.register_provider([did], "Endorser Tenancy College")
    assert status == 201, provider
    achievement = await api.achievement(did)
    stack = api.stack

    status, body = await endorse(api, achievement, stack.token)
    assert status == 403 and body["status"] == 403, body
    status, body = await endorse(api, achievement, "other-token")  # another tenant
    assert status == 403, body

    status, first = await endorse(api, achievement, stack.endorser_token)
    assert status == 201 and first["endorser"]["name"] == stack.endorser, first
    status, second = await endorse(api, achievement, stack.other_endorser_token)
    assert status == 201 and second["endorser"]["name"] == stack.other_endorser, second
    # Each signs with its own identity: two DIDs, each the credential's issuer.
    assert first["endorser"]["id"] != second["endorser"]["id"]
    for endorsed in (first, second):
        assert endorsed["credential"]["issuer"]["id"] == endorsed["endorser"]["id"]
        assert endorsed["credential"]["proof"]["verificationMethod"].startswith(
            endorsed["endorser"]["id"]
        )

    # The request cannot name another endorser or issuer: a 422, nothing signed.
    headers = {"Authorization": f"Bearer {stack.other_endorser_token}"}
    for smuggled in (
        {"endorser": stack.endorser},
        {"issuer": first["endorser"]["id"]},
    ):
        status, body = await api.call(
            "POST",
            f"{stack.url('issuer')}/endorsements",
            json={"achievementId": achievement, "claim": CLAIM, **smuggled},
            headers=headers,
        )
        assert status == 422, body

    # Nor withdraw another endorser's endorsement (404: not its own), nor
    # can a provider; the first endorser's stays active.
    url = f"{stack.url('issuer')}/endorsements/{first['id']}"
    status, body = await api.call("DELETE", url, headers=headers)
    assert status == 404, body
    status, body = await api.call("DELETE", url, headers=api.auth)
    assert status == 403, body

    async def both_shown() -> bool:
        status, body = await api.call("GET", achievement)
        shown = {e["id"] for e in body.get("endorsement", [])} if status == 200 else set()
        return shown == {first["id"], second["id"]}

    assert await until(both_shown, within=5), "the catalog does not show both endorsements"

    # An endorser's token is not the operator's: no accreditation by it.
    endorser_api = api.as_tenant(stack.endorser_token)
    status, body = await endorser_api.accredit(str(provider["id"]))
    assert status == 403, body
    status, body = await endorser_api.register_provider([did], "Endorser Tenancy College")
    assert status == 403, body


async def test_an_endorser_endorsing_again_supersedes_its_endorsement(api: Api) -> None:
    """One endorsement per endorser and achievement: 21 endorsements by one
    endorser leave its newest (the others withdrawn), so the institution's
    new credentials carry one and still pass the `endorsements` check
    rather than exceed what the verifier checks (`too_many_endorsements`)."""
    did = await api.accredited_issuer("Endorsement Flood College")
    achievement = await api.achievement(did)
    made = []
    for _ in range(21):
        status, endorsed = await endorse(api, achievement, api.stack.endorser_token)
        assert status == 201, endorsed
        made.append(endorsed["id"])

    async def shown() -> bool:
        status, body = await api.call("GET", achievement)
        return status == 200 and [e["id"] for e in body.get("endorsement", [])] == [made[-1]]

    assert await until(shown, within=5), "the catalog does not show the newest one alone"

    async def carried() -> Json | None:
        issued = await api.issue(achievement)
        held = issued["credential"]["credentialSubject"]["achievement"].get("endorsement", [])
        return issued if [e["id"] for e in held] == [made[-1]] else None

    issued = await until(carried, within=5, interval=0.1)
    assert issued, "awarded credentials never carried the newest endorsement alone"

    async def checked() -> Json | None:
        _, report = await api.verify(issued["jwt"])
        result = check(report, "endorsements")
        roles = {
            e["endorser"]["role"] for e in (result.get("details") or {}).get("endorsements", [])
        }
        return report if result["outcome"] == "ok" and {"endorser", "operator"} <= roles else None

    report = await until(checked, within=10)
    assert report, await api.verify(issued["jwt"])
    assert report["verified"] and report["verdict"] == "valid", report
