"""Invariant 9: trust is earned, not claimed (issue 8).

The fraud of issue 8, played with the real services: a tenant registers an
issuer and a provider called "Harvard University" and awards itself an MBA;
the verifier says `registered`, never `valid`, until the operator (and only
the operator) accredits it; the accreditation's scope and withdrawal reach
the verifier within a second; a look-alike signed by an unregistered did:key
is named as one.
"""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from openbadgeslib.ob3.did import resolve_did
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.jwt import sign_vc_jwt
from tests.e2e.client import Api, Json, check, list_bits, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

HARVARD = "Harvard University"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def mba(api: Api, issuer_did: str, eqf_level: int) -> str:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('catalog')}/achievements",
        json={
            "issuerDid": issuer_did,
            "name": "MBA",
            "description": "Master of Business Administration",
            "criteria": {"narrative": "Score at least 1%."},
            "masteryThreshold": 0.01,
            "fieldOfStudy": "Business",
            "microCredential": {"eqfLevel": eqf_level, "ectsCredits": 120},
        },
        headers=api.auth,
    )
    assert status == 201, body
    await api.issuer_knows(str(body["id"]))
    return str(body["id"])


async def trust_of(api: Api, credential: Json | str) -> tuple[str, Json]:
    """The trust level (the `trust` check's code) and the whole report."""
    status, report = await api.verify(credential)
    assert status == 200 and report["verified"], report  # cryptographically fine
    return str(check(report, "trust")["code"]), report


async def becomes(api: Api, credential: Json | str, level: str, within: float = 5) -> Json:
    async def now() -> Json | None:
        found, report = await trust_of(api, credential)
        return report if found == level else None

    report = await until(now, within=within, interval=0.02)
    assert report, f"trust never became {level}: {await trust_of(api, credential)}"
    return report


def provider_key(provider_id: str) -> str:
    return provider_id.rsplit("/", 1)[-1]


async def test_a_self_registered_harvard_is_not_trusted_until_the_operator_says_so(
    api: Api,
) -> None:
    did = await api.create_issuer(HARVARD)
    status, provider = await api.register_provider([did], HARVARD, key="harvard-1")
    assert status == 201 and provider["accreditations"] == [], provider
    assert provider["status"] == "active"
    pid = str(provider["id"])
    status, again = await api.register_provider([did], HARVARD, key="harvard-1")
    assert (status, again["id"]) == (200, pid)

    credential = await api.issue(await mba(api, did, 7), score=1)
    report = await becomes(api, credential["jwt"], "registered")
    assert report["verdict"] == "untrusted", report
    assert check(report, "trust")["details"]["provider"]["id"] == pid
    assert "trust" in {w["type"].rsplit("#", 1)[-1] for w in report["warnings"]}

    # The provider cannot accredit itself, nor reach the operator's writes.
    status, body = await api.accredit(pid)
    assert status == 403, body
    status, body = await api.call(
        "PUT", f"{pid}/status", json={"status": "active"}, headers=api.auth
    )
    assert status == 403, body
    status, body = await api.call(
        "PATCH",
        pid,
        json={"accreditations": [{"id": "self"}], "status": "active"},
        headers=api.auth,
    )
    assert status == 422, body

    # The operator accredits it for EQF 7 in business: valid within a second.
    scope = {"eqfLevels": [7], "fieldsOfStudy": ["Business"]}
    status, accredited = await api.operator.accredit(pid, scope=scope, key="acc-1")
    assert status == 201 and accredited["accreditations"][0]["recordedBy"] == "e2e-operator"
    started = time.monotonic()
    report = await becomes(api, credential["jwt"], "accredited", within=1.0)
    assert time.monotonic() - started < 1.0
    assert report["verdict"] == "valid", report
    shown = check(report, "trust")["details"]["accreditation"]
    assert (shown["id"], shown["scope"]["eqfLevels"]) == ("QA-1", [7])
    assert shown["qualityAssuranceBody"]["name"] == "Example QA Agency"
    status, again = await api.operator.accredit(pid, scope=scope, key="acc-1")
    assert status == 200 and len(again["accreditations"]) == 1, again

    # An EQF 8 credential from it is outside the scope: not valid.
    doctorate = await api.issue(await mba(api, did, 8), score=1)
    level, report = await trust_of(api, doctorate["jwt"])
    assert (level, report["verdict"]) == ("registered", "untrusted"), report
    assert "EQF level 8" in check(report, "trust")["reason"]

    # The operator withdraws the accreditation: withdrawn within a second.
    status, body = await api.operator.call(
        "PATCH",
        f"{pid}/accreditations/QA-1",
        json={"status": "withdrawn"},
        headers=api.operator.auth,
    )
    assert status == 200 and body["accreditations"][0]["status"] == "withdrawn", body
    report = await becomes(api, credential["jwt"], "withdrawn", within=1.0)
    assert report["verdict"] == "untrusted", report

    status, public = await api.call("GET", pid)
    assert status == 200 and public["accreditations"][0]["status"] == "withdrawn"


def lookalike(issued: Json, name: str) -> tuple[str, str]:
    """The credential re-signed by a fresh, unregistered did:key that copies
    the issuer's name and the achievement id (no status entries of ours)."""
    key = generate_ed25519()
    did = key.kid.partition("#")[0]
    forged: dict[str, Any] = {
        k: v for k, v in issued["credential"].items() if k not in ("proof", "credentialStatus")
    }
    forged["issuer"] = {**forged["issuer"], "id": did, "name": name}
    return sign_vc_jwt(forged, key), did


async def test_a_lookalike_is_named_as_one(api: Api) -> None:
    name = "Look-Alike Institute of Technology"
    did = await api.accredited_issuer(name)
    issued = await api.issue(await api.achievement(did))
    await becomes(api, issued["jwt"], "accredited")

    forged, fake_did = lookalike(issued, "LOOK ALIKE Institute of Technology, Inc.")
    level, report = await trust_of(api, forged)
    assert (level, report["verdict"]) == ("unknown", "untrusted"), report
    impersonation = check(report, "impersonation")
    assert (impersonation["outcome"], impersonation["code"]) == ("failed", "impersonation")
    assert name in impersonation["reason"] and did in impersonation["reason"], impersonation
    assert impersonation["details"]["realIssuerDids"] == [did]
    assert fake_did in impersonation["reason"]

    # Under a name of its own, the copied achievement id still gives it away
    # (once the achievement reached the verifier: catalog.achievements, Kafka).
    forged, _ = lookalike(issued, "Quite Different Academy")

    async def flagged() -> Json | None:
        _, report = await trust_of(api, forged)
        impersonation = check(report, "impersonation")
        return impersonation if impersonation["outcome"] == "failed" else None

    copied = await until(flagged, within=5)
    assert copied and copied["details"]["copied"] == "achievement", copied


async def test_providers_are_each_tenants_own(api: Api) -> None:
    ours = await api.create_issuer("Tenancy College")
    status, provider = await api.register_provider([ours], "Tenancy College")
    assert status == 201, provider
    other = api.as_tenant("other-token")

    status, body = await other.call(
        "PATCH", str(provider["id"]), json={"legalName": "Taken Over"}, headers=other.auth
    )
    assert status == 404, body
    status, body = await other.register_provider([ours], "Tenancy College")
    assert status == 404, body  # our issuer DID is not theirs to claim
    status, body = await api.register_provider([ours], "Tenancy College Again")
    assert status == 409, body  # one provider per issuer DID

    # Operator and tenant tokens are separate, both ways.
    status, body = await api.operator.register_provider([ours], "Operator College")
    assert status == 403, body
    status, body = await api.operator.create_achievement(ours)
    assert status == 403, body
    status, body = await other.accredit(str(provider["id"]))
    assert status == 403, body
    status, body = await api.as_tenant("").accredit(str(provider["id"]))
    assert status == 401, body

    status, body = await api.call(
        "PATCH", str(provider["id"]), json={"legalName": "Tenancy College Dublin"}, headers=api.auth
    )
    assert status == 200 and body["legalName"] == "Tenancy College Dublin", body


async def test_the_accreditation_travels_with_the_credential_signed(api: Api) -> None:
    """The operator's EndorsementCredential is in the issuer profile of each
    new credential, the verifier checks it and names the operator; after a
    withdrawal, new credentials no longer carry it and trust says so."""
    name = "Endorsed Polytechnic"
    did = await api.create_issuer(name)
    status, provider = await api.register_provider([did], name)
    assert status == 201, provider
    pid = str(provider["id"])
    achievement = await api.achievement(did)
    status, body = await api.operator.accredit(pid, accreditation_id="QA-E2E")
    assert status == 201, body

    async def endorsed() -> Json | None:
        issued = await api.issue(achievement)
        return issued if "endorsement" in issued["credential"]["issuer"] else None

    issued = await until(endorsed, within=5, interval=0.1)
    assert issued, "the issuer never embedded the accreditation"
    profile = issued["credential"]["issuer"]
    assert "IssuerAccreditationProfile" in profile["type"]
    assert profile["accreditations"][0]["name"] == "Example QA Agency"
    (endorsement,) = profile["endorsement"]
    assert endorsement["credentialSubject"]["id"] == did
    assert "QA-E2E" in endorsement["credentialSubject"]["endorsementComment"]
    # ... and published with the issuer's public Profile
    status, public = await api.call(
        "GET", f"{api.stack.url('issuer')}/issuers/{quote(did, safe=':')}"
    )
    assert status == 200 and public["endorsement"] == [endorsement], public
    # An independent implementation checks it, resolving the operator's did:key itself.
    operator_pem = resolve_did(endorsement["issuer"]["id"])
    verify_data_integrity_proof(copy.deepcopy(endorsement), operator_pem)

    for form in (issued["credential"], issued["jwt"]):
        report = await becomes(api, form, "accredited")
        assert report["verdict"] == "valid", report
        shown = check(report, "endorsements")
        assert shown["outcome"] == "ok", shown
        (one,) = shown["details"]["endorsements"]
        assert one["endorser"]["role"] == "operator" and one["verified"], one
        assert one["endorser"]["id"] == endorsement["issuer"]["id"]

    # A tampered endorsement fails the check (and the outer proof, as it is signed over).
    forged = {**issued["credential"], "issuer": {**profile, "endorsement": [{**endorsement}]}}
    forged["issuer"]["endorsement"][0]["credentialSubject"] = {
        **endorsement["credentialSubject"],
        "endorsementComment": "Accredited for everything.",
    }
    _, report = await api.verify(forged)
    assert report["verdict"] == "invalid", report
    assert check(report, "endorsements")["outcome"] == "failed", report

    status, body = await api.operator.call(
        "PATCH",
        f"{pid}/accreditations/QA-E2E",
        json={"status": "withdrawn"},
        headers=api.operator.auth,
    )
    assert status == 200, body
    await becomes(api, issued["jwt"], "withdrawn", within=1.0)

    # Visible without our registry: the embedded endorsement's own revocation
    # entry, in the operator's signed status list, is set.
    entry = endorsement["credentialStatus"]
    assert (entry["type"], entry["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")

    async def revoked() -> Json | None:
        _, report = await api.verify(issued["jwt"])
        (one,) = check(report, "endorsements")["details"]["endorsements"]
        return report if one["status"] == "revoked" else None

    report = await until(revoked, within=5, interval=0.05)
    assert report, "the verifier never saw the accreditation endorsement revoked"
    shown = check(report, "endorsements")
    (one,) = shown["details"]["endorsements"]
    assert shown["outcome"] == "failed" and not one["verified"], shown
    assert "revoked" in one["reason"] and one["endorser"]["role"] == "operator", one
    assert report["verified"] and report["verdict"] == "untrusted", report
    async with api.session.get(
        entry["statusListCredential"], headers={"Accept": "application/vc+jwt"}
    ) as answer:
        assert answer.status == 200, await answer.text()
        bits = list_bits(await answer.text())
    assert bits.get(int(entry["statusListIndex"])) == 1

    async def plain() -> Json | None:
        again = await api.issue(achievement)
        return again if "endorsement" not in again["credential"]["issuer"] else None

    assert await until(plain, within=5, interval=0.1), "still embedded after the withdrawal"


async def test_a_caller_or_the_operator_of_a_verifier_may_accept_registered_providers(
    api: Api,
) -> None:
    """Trust policy `registered` (issue 8): VC-API `options.trust` per request,
    `MICROCRED_VERIFIER_ACCEPT_REGISTERED` per verifier; `unknown`, `suspended`
    and `withdrawn` are never `valid`; `verified` does not move."""
    name = "Registered Only Academy"
    did = await api.create_issuer(name)
    status, provider = await api.register_provider([did], name)
    assert status == 201, provider
    issued = await api.issue(await api.achievement(did))
    report = await becomes(api, issued["jwt"], "registered")
    assert (report["verdict"], report["trustPolicy"]) == ("untrusted", "accredited"), report

    registered = {"trust": "registered"}

    async def accepted() -> tuple[int, Json] | None:
        # valid once the verifier also knows the achievement (catalog.achievements, Kafka)
        status, report = await api.verify(issued["jwt"], options=registered)
        return (status, report) if report["verdict"] == "valid" else None

    found = await until(accepted, within=5)
    assert found, await api.verify(issued["jwt"], options=registered)
    status, report = found
    assert (status, report["verified"], report["verdict"]) == (200, True, "valid"), report
    trust = check(report, "trust")
    assert (trust["outcome"], trust["code"], trust["details"]["policy"]) == (
        "ok",
        "registered",
        "registered",
    )
    assert report["trustPolicy"] == "registered" and "`registered`" in report["notice"]
    status, report = await api.verify(issued["jwt"], options={"trust": "accredited"})
    assert (status, report["verdict"]) == (200, "untrusted"), report

    # An unknown issuer is never valid, whatever the caller asks.
    forged, _ = lookalike(issued, "Nobody We Know Institute")
    status, report = await api.verify(forged, options=registered)
    assert (status, report["verified"], report["verdict"]) == (200, True, "untrusted"), report
    assert (check(report, "trust")["outcome"], check(report, "trust")["code"]) == (
        "failed",
        "unknown",
    )

    # Strict options: an unknown policy is a 422 problem, on both endpoints.
    for path, member in (
        ("/credentials/verify", "verifiableCredential"),
        ("/presentations/verify", "verifiablePresentation"),
    ):
        async with api.session.post(
            f"{api.stack.url('verifier')}{path}",
            json={member: issued["jwt"], "options": {"trust": "anyone"}},
        ) as answer:
            problem = await answer.json(content_type=None)
            assert answer.status == 422, problem
            assert answer.content_type == "application/problem+json"
            assert "options.trust" in str(problem), problem

    # A verifier configured to accept registered providers, and a caller who opts out.
    open_verifier = api.stack.add_instance("verifier", "verifier-registered")
    open_verifier.env["MICROCRED_VERIFIER_ACCEPT_REGISTERED"] = "true"
    open_verifier.start()
    try:
        open_verifier.wait_ready()

        async def judged() -> Json | None:
            _, report = await api.verify(issued["jwt"], "verifier-registered")
            return report if report.get("verdict") == "valid" else None

        report = await until(judged, within=10, interval=0.1)
        assert report and report["trustPolicy"] == "registered", report
        _, report = await api.verify(
            issued["jwt"], "verifier-registered", options={"trust": "accredited"}
        )
        assert (report["verdict"], report["trustPolicy"]) == ("untrusted", "accredited"), report

        # A suspended provider is not valid under `registered` either.
        status, body = await api.operator.call(
            "PUT",
            f"{provider['id']}/status",
            json={"status": "suspended", "reason": "audit"},
            headers=api.operator.auth,
        )
        assert status == 200, body

        async def suspended() -> Json | None:
            _, report = await api.verify(issued["jwt"], "verifier-registered")
            return report if check(report, "trust")["code"] == "suspended" else None

        report = await until(suspended, within=5, interval=0.05)
        assert report and report["verdict"] == "untrusted", report
    finally:
        open_verifier.stop()
