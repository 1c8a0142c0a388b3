"""Issuer identities bound to domains (issue 8): the issuer service makes
the DID Configuration Resource for a provider's registered web domain; the
institution hosts it (here: a local HTTPS server with a `trustme` test CA)
and the verifier's linkage check accepts it over real TLS; the verifier
process reports `domainLinked` in the trust details, and a domain claimed by
one provider is refused to another (409)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.verifier.app import create_app
from services.verifier.linkage import DomainLinkage
from services.verifier.settings import Settings
from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import WELL_KNOWN_PATH
from shared.settings import CommonSettings
from tests.e2e.client import Api, check, until
from tests.e2e.harness import Stack
from tests.e2e.tls import hosted

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def web_issuer(api: Api, name: str) -> tuple[str, dict[str, Any]]:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers",
        json={"name": name, "url": "https://poly.example", "didMethod": "web"},
        headers=api.auth,
    )
    assert status == 201, body
    return str(body["id"]), body["didDocument"]


async def provider(api: Api, did: str, name: str, domain: str) -> tuple[int, Any]:
    return await api.call(
        "POST",
        f"{api.stack.url('catalog')}/providers",
        json={
            "legalName": name,
            "country": "IE",
            "type": "college",
            "issuerDids": [did],
            "webDomain": domain,
        },
        headers=api.auth,
    )


async def did_configuration(api: Api, did: str) -> dict[str, Any]:
    url = f"{api.stack.url('issuer')}/issuers/{did.rsplit(':', 1)[-1]}/did-configuration.json"

    async def ready() -> dict[str, Any] | None:
        status, body = await api.call("GET", url, headers=api.auth)
        assert status in (200, 409), body  # 409 until the issuer saw the provider
        return body if status == 200 else None

    found = await until(ready, within=5)
    assert found, "the issuer never made the DID configuration"
    return found


async def test_the_linkage_made_by_the_issuer_verifies_over_tls(api: Api) -> None:
    domain = f"poly-{uuid.uuid4().hex[:10]}.example"
    did, document = await web_issuer(api, "Linked Polytechnic")
    status, registered = await provider(api, did, "Linked Polytechnic", domain)
    assert status == 201, registered

    # One domain, one provider: another provider claiming it is refused.
    other_did, _ = await web_issuer(api, "Squatter College")
    status, body = await provider(api, other_did, "Squatter College", domain)
    assert status == 409, body

    resource = await did_configuration(api, did)
    assert resource["@context"] == "https://identity.foundation/.well-known/did-configuration/v1"
    assert len(resource["linked_dids"]) == 1
    runner, fetcher = await hosted(domain, {WELL_KNOWN_PATH: resource})
    try:
        checker = DomainLinkage(fetcher, DidResolver(known={did: document}))
        linkage = await checker.check(did, domain)
        assert linkage.linked, linkage.reason
        # Another DID is not linked by this file.
        other = await checker.check(other_did, domain)
        assert not other.linked and other.reason.startswith("no_linkage")
    finally:
        await runner.cleanup()

    # The verifier process cannot reach the (made-up) domain: it says so,
    # and linkage never decides the verdict.
    credential = await api.issue(await api.achievement(did))

    async def linked_shown() -> dict[str, Any] | None:
        _, report = await api.verify(credential["jwt"])
        details = check(report, "trust").get("details") or {}
        return report if "domainLinked" in details else None

    report = await until(linked_shown, within=5)
    assert report, "the trust details never showed the linkage"
    details = check(report, "trust")["details"]
    assert (details["domain"], details["domainLinked"]) == (domain, False)
    assert report["verdict"] == "untrusted" and details["level"] == "registered"


async def test_a_verifier_reports_the_linkage_and_only_accreditation_makes_it_valid(
    api: Api,
) -> None:
    """The verifier's app, in this process on the stack's Kafka, with a
    fetcher that trusts the test CA and reaches the domain on loopback (what
    a real domain gives a deployed verifier)."""
    domain = f"linked-{uuid.uuid4().hex[:10]}.example"
    did, _ = await web_issuer(api, "Verified Link College")
    status, registered = await provider(api, did, "Verified Link College", domain)
    assert status == 201, registered
    runner, fetcher = await hosted(domain, {WELL_KNOWN_PATH: await did_configuration(api, did)})
    environ = {**api.stack.services["verifier"].env, "MICROCRED_HTTP_PORT": "0"}
    settings = Settings(
        common=CommonSettings.from_env("verifier", 0, environ), trusted_fetch_origins=frozenset()
    )
    credential = await api.issue(await api.achievement(did))
    try:
        async with TestClient(TestServer(create_app(settings, fetcher=fetcher))) as client:

            async def verified(level: str) -> dict[str, Any] | None:
                answer = await client.post(
                    "/credentials/verify", json={"verifiableCredential": credential["jwt"]}
                )
                report = await answer.json()
                trust = next((r for r in report.get("results", []) if r["check"] == "trust"), {})
                return report if trust.get("code") == level else None

            report = await until(lambda: verified("registered"), within=20)
            assert report, "the in-process verifier never caught up"
            details = check(report, "trust")["details"]
            assert (details["domain"], details["domainLinked"]) == (domain, True), details
            assert report["verdict"] == "untrusted"  # linked, but not accredited

            status, body = await api.operator.accredit(str(registered["id"]))
            assert status == 201, body
            report = await until(lambda: verified("accredited"), within=5)
            assert report and report["verdict"] == "valid", report
            assert check(report, "trust")["details"]["domainLinked"] is True
    finally:
        await runner.cleanup()


async def test_the_linkage_in_json_ld_form_or_both_verifies_over_tls(api: Api) -> None:
    """DIF Well Known DID Configuration allows JWT and JSON-LD entries: the
    issuer makes either or both on request, and the verifier accepts each."""
    domain = f"ld-{uuid.uuid4().hex[:10]}.example"
    did, document = await web_issuer(api, "Linked Data College")
    status, registered = await provider(api, did, "Linked Data College", domain)
    assert status == 201, registered
    await did_configuration(api, did)  # once the issuer saw the provider
    url = f"{api.stack.url('issuer')}/issuers/{did.rsplit(':', 1)[-1]}/did-configuration.json"

    status, ld_only = await api.call("GET", f"{url}?format=jsonld", headers=api.auth)
    assert status == 200, ld_only
    (entry,) = ld_only["linked_dids"]
    assert isinstance(entry, dict) and "DomainLinkageCredential" in entry["type"]
    assert entry["issuer"] == did and entry["credentialSubject"]["origin"] == f"https://{domain}"
    assert entry["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    status, both = await api.call("GET", f"{url}?format=both", headers=api.auth)
    assert status == 200 and [type(e).__name__ for e in both["linked_dids"]] == ["str", "dict"]
    status, body = await api.call("GET", f"{url}?format=xml", headers=api.auth)
    assert status == 422 and body["errors"][0]["path"] == "format", body

    for resource in (ld_only, both):
        runner, fetcher = await hosted(domain, {WELL_KNOWN_PATH: resource})
        try:
            checker = DomainLinkage(fetcher, DidResolver(known={did: document}))
            linkage = await checker.check(did, domain)
            assert linkage.linked, linkage.reason
        finally:
            await runner.cleanup()

    # Signed over: a JSON-LD entry moved to another origin no longer links.
    moved = {**entry, "credentialSubject": {"id": did, "origin": "https://evil.example"}}
    runner, fetcher = await hosted(
        "evil.example", {WELL_KNOWN_PATH: {**ld_only, "linked_dids": [moved]}}
    )
    try:
        checker = DomainLinkage(fetcher, DidResolver(known={did: document}))
        linkage = await checker.check(did, "evil.example")
        assert not linkage.linked and "signature" in linkage.reason, linkage.reason
    finally:
        await runner.cleanup()
