"""did:web identities an institution hosts on its own domain (issue 8).

A tenant registers `did:web:<its domain>[:path]`; the issuer keeps the key
and signs under that DID; the institution downloads the DID document and the
DID Configuration Resource and hosts them (here: a local HTTPS server with a
`trustme` test CA); a verifier resolves the DID from that domain behind the
SSRF guard, never from our replica. A domain another provider registered is
refused, and so is a DID that exists already."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.verifier.app import create_app
from services.verifier.linkage import DomainLinkage
from services.verifier.settings import Settings
from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import WELL_KNOWN_PATH, check_linkage
from shared.settings import CommonSettings
from tests.e2e.client import Api, Json, check, until
from tests.e2e.harness import Stack
from tests.e2e.tls import hosted

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


def new_domain(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}.example"


async def register(api: Api, name: str, **fields: Any) -> tuple[int, Json]:
    status, body = await api.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers",
        json={"name": name, "url": "https://poly.example", **fields},
        headers=api.auth,
    )
    return status, body


async def export(api: Api, did: str) -> tuple[int, Json]:
    return await api.call(
        "GET", f"{api.stack.url('issuer')}/issuers/{did}/self-hosting", headers=api.auth
    )


async def test_an_institution_hosts_its_own_did_web(api: Api) -> None:
    domain = new_domain("selfhost")
    status, root = await register(api, "Self Hosting College", didMethod="web", webDomain=domain)
    assert status == 201, root
    did = str(root["id"])
    assert did == f"did:web:{domain}"
    status, pathed = await register(
        api, "Self Hosting College", didMethod="web", webDomain=domain, webPath="badges/2026"
    )
    assert status == 201 and pathed["id"] == f"did:web:{domain}:badges:2026", pathed

    # The export: the document (public keys only) and the linkage, and where to host them.
    status, exported = await export(api, did)
    assert status == 200, exported
    assert exported["didDocumentUrl"] == f"https://{domain}/.well-known/did.json"
    assert exported["didConfigurationUrl"] == f"https://{domain}{WELL_KNOWN_PATH}"
    document = exported["didDocument"]
    assert document == root["didDocument"] and document["id"] == did
    (method,) = document["verificationMethod"]
    assert set(method) == {"id", "type", "controller", "publicKeyMultibase"}, method
    await check_linkage(
        exported["didConfiguration"],
        did,
        domain,
        DidResolver(known={did: document}),
        datetime.now(UTC),
    )
    status, exported_path = await export(api, str(pathed["id"]))
    assert exported_path["didDocumentUrl"] == f"https://{domain}/badges/2026/did.json"

    # Not another tenant's to export; not for identities hosted here.
    other = api.as_tenant("other-token")
    status, body = await other.call(
        "GET", f"{api.stack.url('issuer')}/issuers/{did}/self-hosting", headers=other.auth
    )
    assert status == 404, body
    key_did = await api.create_issuer("Plain Key College")
    status, body = await export(api, key_did.replace(":", "%3A"))
    assert status == 409 and body["type"].endswith(":not-self-hosted"), body

    # The issuer signs under that DID.
    issued = await api.issue(await api.achievement(did))
    assert issued["credential"]["proof"]["verificationMethod"].startswith(did + "#")

    # The stack's verifier cannot reach the made-up domain: the proof cannot
    # be checked, since the document is resolved from the domain, not from us.
    _, report = await api.verify(issued["jwt"])
    assert report["verified"] is False, report
    assert check(report, "proof")["outcome"] == "not_checked", report

    # A verifier that reaches the domain (test CA, loopback) verifies it.
    status, provider = await api.call(
        "POST",
        f"{api.stack.url('catalog')}/providers",
        json={
            "legalName": "Self Hosting College",
            "country": "IE",
            "type": "college",
            "issuerDids": [did, pathed["id"]],
            "webDomain": domain,
        },
        headers=api.auth,
    )
    assert status == 201, provider
    runner, fetcher = await hosted(
        domain,
        {
            "/.well-known/did.json": document,
            "/badges/2026/did.json": exported_path["didDocument"],
            WELL_KNOWN_PATH: exported["didConfiguration"],
        },
    )
    environ = {**api.stack.services["verifier"].env, "MICROCRED_HTTP_PORT": "0"}
    settings = Settings(
        common=CommonSettings.from_env("verifier", 0, environ), trusted_fetch_origins=frozenset()
    )
    try:
        async with TestClient(TestServer(create_app(settings, fetcher=fetcher))) as client:

            async def verified(level: str) -> Json | None:
                answer = await client.post(
                    "/credentials/verify", json={"verifiableCredential": issued["jwt"]}
                )
                report = await answer.json()
                trust = next((r for r in report.get("results", []) if r["check"] == "trust"), {})
                return report if trust.get("code") == level else None

            report = await until(lambda: verified("registered"), within=20)
            assert report, "the in-process verifier never caught up"
            assert report["verified"] is True and check(report, "proof")["outcome"] == "ok"
            details = check(report, "trust")["details"]
            assert (details["domain"], details["domainLinked"]) == (domain, True), details

            status, body = await api.operator.accredit(str(provider["id"]))
            assert status == 201, body
            report = await until(lambda: verified("accredited"), within=5)
            assert report and report["verdict"] == "valid", report
    finally:
        await runner.cleanup()


async def test_a_domain_or_did_of_another_is_refused(api: Api) -> None:
    domain = new_domain("taken")
    other = api.as_tenant("other-token")
    their_did = await other.create_issuer("Domain Owner University")
    status, body = await other.call(
        "POST",
        f"{api.stack.url('catalog')}/providers",
        json={
            "legalName": "Domain Owner University",
            "country": "IE",
            "type": "university",
            "issuerDids": [their_did],
            "webDomain": domain,
        },
        headers=other.auth,
    )
    assert status == 201, body

    # The issuer learns the provider from catalog.providers: refused once it has.
    assert await until(lambda: _learnt(api, domain), within=5), "the issuer never saw it"
    status, body = await register(api, "Squatter", didMethod="web", webDomain=domain)
    assert status == 409 and body["type"].endswith(":domain-linked-elsewhere"), body
    assert domain in body["detail"] and "providers/" in body["detail"], body
    # ... also under a path of that domain.
    status, body = await register(
        api, "Squatter", didMethod="web", webDomain=domain, webPath="issuers/x"
    )
    assert status == 409 and body["type"].endswith(":domain-linked-elsewhere"), body

    # One DID, one identity: the same did:web again is a 409 too.
    mine = new_domain("mine")
    status, first = await register(api, "Mine College", didMethod="web", webDomain=mine)
    assert status == 201, first
    status, body = await register(api, "Mine College", didMethod="web", webDomain=mine)
    assert status == 409 and body["type"].endswith(":did-taken"), body

    # A domain with a tenant's self-hosted identity is that tenant's: another
    # tenant can neither put an identity under it nor register it as a provider's.
    status, body = await other.call(
        "POST",
        f"{api.stack.url('issuer')}/issuers",
        json={
            "name": "Path Squatter",
            "url": "https://x.example",
            "didMethod": "web",
            "webDomain": mine,
            "webPath": "badges",
        },
        headers=other.auth,
    )
    assert status == 409 and body["type"].endswith(":domain-linked-elsewhere"), body

    async def catalog_refuses() -> Json | None:
        fresh = await other.create_issuer("Provider Squatter")  # one provider per DID
        status, body = await other.call(
            "POST",
            f"{api.stack.url('catalog')}/providers",
            json={
                "legalName": "Provider Squatter",
                "country": "IE",
                "type": "college",
                "issuerDids": [fresh],
                "webDomain": mine,
            },
            headers=other.auth,
        )
        assert status in (409, 201), body  # 201 only before the catalog saw our identity
        return body if status == 409 else None

    refused = await until(catalog_refuses, within=5)
    assert refused and "self-hosted" in refused["detail"], refused

    # Strict input: a did:web needs didMethod web; a path needs a domain; no ".." or ports.
    for fields, path in (
        ({"webDomain": mine}, "$.webDomain"),
        ({"didMethod": "web", "webPath": "badges"}, "$.webPath"),
        ({"didMethod": "web", "webDomain": mine, "webPath": "../etc"}, "$.webPath"),
        ({"didMethod": "web", "webDomain": f"{mine}:8443"}, "$.webDomain"),
        ({"didMethod": "web", "webDomain": "Upper.Example"}, "$.webDomain"),
    ):
        status, body = await register(api, "Bad Input College", **fields)
        assert status == 422 and body["errors"][0]["path"] == path, (fields, body)


async def test_two_tenants_claiming_one_domain_at_once(api: Api) -> None:
    """One domain, one tenant, also when two tenants register DIDs on it (on
    different paths) at the same moment: one gets it, the other a 409."""
    for _ in range(3):
        domain = new_domain("race")
        answers = await asyncio.gather(
            register(api, "Race College", didMethod="web", webDomain=domain, webPath="a"),
            register(
                api.as_tenant("other-token"),
                "Other Race College",
                didMethod="web",
                webDomain=domain,
                webPath="b",
            ),
        )
        codes = sorted(status for status, _ in answers)
        assert codes == [201, 409], answers
        refused = next(body for status, body in answers if status == 409)
        assert refused["type"].endswith("domain-linked-elsewhere"), refused


async def _learnt(api: Api, domain: str) -> bool:
    """Whether the issuer's replica has the provider of `domain` (its trust
    list lists it)."""
    status, payload = await api.call("GET", f"{api.stack.url('issuer')}/trust-list.json")
    return status == 200 and any(p.get("webDomain") == domain for p in payload["providers"])


async def test_a_self_hosted_did_links_its_domain_in_json_ld_form(api: Api) -> None:
    """The export in JSON-LD form, hosted with the DID document: a verifier
    resolving the DID from the domain (TLS, test CA) finds it linked."""
    domain = new_domain("ldself")
    status, created = await register(api, "LD Self College", didMethod="web", webDomain=domain)
    assert status == 201, created
    did = str(created["id"])
    url = f"{api.stack.url('issuer')}/issuers/{did}/self-hosting"
    status, exported = await api.call("GET", f"{url}?format=jsonld", headers=api.auth)
    assert status == 200, exported
    (entry,) = exported["didConfiguration"]["linked_dids"]
    assert isinstance(entry, dict) and entry["proof"]["verificationMethod"].startswith(did + "#")
    status, body = await api.call("GET", f"{url}?format=pdf", headers=api.auth)
    assert status == 422, body
    runner, fetcher = await hosted(
        domain,
        {
            "/.well-known/did.json": exported["didDocument"],
            WELL_KNOWN_PATH: exported["didConfiguration"],
        },
    )
    try:
        checker = DomainLinkage(fetcher, DidResolver(fetch_json=fetcher.fetch_json))
        linkage = await checker.check(did, domain)
        assert linkage.linked, linkage.reason
    finally:
        await runner.cleanup()
