"""Invariant 5: the verifier verifies with issuer, catalog and revocation
stopped, even freshly started then: its replica comes from Kafka alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.client import Api, check
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

OTHERS = ("issuer", "catalog", "revocation")


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def test_a_fresh_verifier_needs_only_kafka(stack: Stack, api: Api) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    await api.issuer_knows(achievement_id)
    valid, revoked, suspended = [await api.issue(achievement_id) for _ in range(3)]
    assert (await api.set_status(revoked["credentialId"]))[0] == 200
    assert (await api.set_status(suspended["credentialId"], purpose="suspension"))[0] == 200
    assert await api.reaches(suspended["jwt"], "suspended")
    assert await api.reaches(revoked["jwt"], "revoked")
    # Trusted before the others stop: the revocation service publishes the
    # operator's status list (of the accreditation endorsement) once it learnt
    # of it over Kafka, and the fresh verifier can only replay what was published.
    assert await api.trusted_report(valid["jwt"]), await api.verify(valid["jwt"])

    stack.stop(*OTHERS, "verifier")
    stack.start("verifier")
    for name in OTHERS:  # really down: nothing to fetch from
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.call("GET", f"{stack.url(name)}/healthz")

    for form in (valid["jwt"], valid["credential"]):
        status, report = await api.verify(form)
        assert status == 200 and report["verified"], report
        for name in ("proof", "status", "trust", "achievement_known", "impersonation"):
            assert check(report, name)["outcome"] == "ok", report
        assert report["verdict"] == "valid", report
    assert await api.verdict(revoked["jwt"]) == "revoked"
    assert await api.verdict(revoked["credential"]) == "revoked"
    assert await api.verdict(suspended["jwt"]) == "suspended"
