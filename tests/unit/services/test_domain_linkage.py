"""Domain linkage (DIF Well Known DID Configuration) checked the way the
verifier does it: over real TLS against a local HTTPS server whose
certificate comes from a test CA (`trustme`), through the SSRF guard
(`connect_to` points the public-looking domain at the loopback server in
this test only). Refused when the linkage credential is missing, expired,
for another origin or signed by another DID, in the JWT and in the JSON-LD
(Data Integrity) form alike."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme
from aiohttp import web

from services.verifier.linkage import DomainLinkage
from shared.credentials.crypto_keys import SigningKey, generate_ed25519
from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import (
    CONFIGURATION_CONTEXT,
    configuration,
    linkage_jwt,
    linkage_ldp,
)
from shared.web.safe_fetch import FetchPolicy, SafeFetcher

DOMAIN = "poly.example"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Site:
    port: int
    ca: trustme.CA
    files: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def fetcher(self, *, trust_ca: bool = True) -> SafeFetcher:
        context = ssl.create_default_context()
        if trust_ca:
            self.ca.configure_trust(context)
        policy = FetchPolicy(
            ssl_context=context if trust_ca else None,
            connect_to={DOMAIN: ("127.0.0.1", self.port)},
        )
        return SafeFetcher(policy)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(DOMAIN).configure_cert(server_context)
    state = Site(0, ca)

    async def well_known(request: web.Request) -> web.Response:
        state.hits += 1
        if "config" not in state.files:
            raise web.HTTPNotFound()
        return web.json_response(state.files["config"])

    app = web.Application()
    app.router.add_get("/.well-known/did-configuration.json", well_known)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await tcp.start()
    server = tcp._server
    assert server is not None
    state.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    yield state
    await runner.cleanup()


def linkage(site: Site, *, trust_ca: bool = True) -> DomainLinkage:
    return DomainLinkage(site.fetcher(trust_ca=trust_ca), DidResolver())


def key() -> SigningKey:
    return generate_ed25519()


def did_of(signing: SigningKey) -> str:
    return signing.kid.split("#", 1)[0]


async def test_a_linked_domain_is_reported_and_cached(site: Site) -> None:
    issuer = key()
    site.files["config"] = configuration([linkage_jwt(did_of(issuer), DOMAIN, issuer, NOW)])
    checker = linkage(site)
    result = await checker.check(did_of(issuer), DOMAIN)
    assert result.linked, result.reason
    assert result.details()["domainLinked"] is True and result.details()["domain"] == DOMAIN
    await checker.check(did_of(issuer), DOMAIN)
    assert site.hits == 1  # cached


async def test_concurrent_checks_share_one_fetch(site: Site) -> None:
    issuer = key()
    site.files["config"] = configuration([linkage_jwt(did_of(issuer), DOMAIN, issuer, NOW)])
    checker = linkage(site)
    results = await asyncio.gather(*(checker.check(did_of(issuer), DOMAIN) for _ in range(20)))
    assert all(r.linked for r in results) and site.hits == 1


async def test_a_missing_configuration_is_not_a_linkage(site: Site) -> None:
    result = await linkage(site).check(did_of(key()), DOMAIN)
    assert not result.linked and "HTTP 404" in result.reason


async def test_a_missing_credential_for_this_did_is_not_a_linkage(site: Site) -> None:
    other = key()
    site.files["config"] = configuration([linkage_jwt(did_of(other), DOMAIN, other, NOW)])
    result = await linkage(site).check(did_of(key()), DOMAIN)
    assert not result.linked and result.reason.startswith("no_linkage")


async def test_an_expired_linkage_is_refused(site: Site) -> None:
    issuer = key()
    old = linkage_jwt(did_of(issuer), DOMAIN, issuer, NOW - timedelta(days=3), timedelta(days=1))
    site.files["config"] = configuration([old])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and result.reason.startswith("expired")


async def test_a_linkage_signed_by_another_did_is_refused(site: Site) -> None:
    issuer, forger = key(), key()
    # The payload names the issuer, the signature and kid are the forger's.
    forged = SigningKey(forger.private_key, f"{did_of(issuer)}#{did_of(issuer)[8:]}")
    site.files["config"] = configuration([linkage_jwt(did_of(issuer), DOMAIN, forged, NOW)])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and "signature" in result.reason


async def test_a_linkage_for_another_origin_is_refused(site: Site) -> None:
    issuer = key()
    site.files["config"] = configuration(
        [linkage_jwt(did_of(issuer), "elsewhere.example", issuer, NOW)]
    )
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and result.reason.startswith("origin_mismatch")


async def test_a_certificate_from_an_unknown_ca_is_refused(site: Site) -> None:
    issuer = key()
    site.files["config"] = configuration([linkage_jwt(did_of(issuer), DOMAIN, issuer, NOW)])
    result = await linkage(site, trust_ca=False).check(did_of(issuer), DOMAIN)
    assert not result.linked and "could not be fetched" in result.reason
    assert site.hits == 0


async def test_production_defaults_never_reach_the_loopback_server(site: Site) -> None:
    result = await DomainLinkage(SafeFetcher(), DidResolver()).check(did_of(key()), DOMAIN)
    assert not result.linked and site.hits == 0


async def test_the_configuration_resource_shape() -> None:
    issuer = key()
    resource = configuration([linkage_jwt(did_of(issuer), DOMAIN, issuer, NOW)])
    assert resource["@context"] == CONFIGURATION_CONTEXT and len(resource["linked_dids"]) == 1


async def test_a_json_ld_linkage_is_reported(site: Site) -> None:
    issuer, other = key(), key()
    ldp = linkage_ldp(did_of(issuer), DOMAIN, issuer, NOW)
    assert ldp["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert ldp["type"] == ["VerifiableCredential", "DomainLinkageCredential"]
    # Next to a JWT entry for another DID: each DID finds its own entry.
    site.files["config"] = configuration([linkage_jwt(did_of(other), DOMAIN, other, NOW), ldp])
    checker = linkage(site)
    result = await checker.check(did_of(issuer), DOMAIN)
    assert result.linked, result.reason
    assert (await checker.check(did_of(other), DOMAIN)).linked


async def test_a_json_ld_linkage_expired_or_for_another_origin_is_refused(site: Site) -> None:
    issuer = key()
    old = linkage_ldp(did_of(issuer), DOMAIN, issuer, NOW - timedelta(days=3), timedelta(days=1))
    site.files["config"] = configuration([old])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and result.reason.startswith("expired"), result.reason
    elsewhere = linkage_ldp(did_of(issuer), "elsewhere.example", issuer, NOW)
    site.files["config"] = configuration([elsewhere])
    result = await linkage(site).check(did_of(issuer), "poly.example")
    assert not result.linked and result.reason.startswith("origin_mismatch"), result.reason


async def test_a_json_ld_linkage_tampered_or_signed_by_another_did_is_refused(site: Site) -> None:
    issuer, forger = key(), key()
    forged = SigningKey(forger.private_key, f"{did_of(issuer)}#{did_of(issuer)[8:]}")
    site.files["config"] = configuration([linkage_ldp(did_of(issuer), DOMAIN, forged, NOW)])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and "signature" in result.reason, result.reason

    genuine = linkage_ldp(did_of(issuer), DOMAIN, issuer, NOW)
    later = {**genuine, "expirationDate": "2999-01-01T00:00:00Z"}  # signed over: refused
    site.files["config"] = configuration([later])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and "signature" in result.reason, result.reason

    # A key of another DID, named as such: the proof's controller is not the issuer.
    by_other = linkage_ldp(did_of(issuer), DOMAIN, forger, NOW)
    site.files["config"] = configuration([by_other])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked and result.reason.startswith("controller_mismatch"), result.reason


async def test_a_json_ld_linkage_with_an_unsupported_proof_is_refused(site: Site) -> None:
    issuer = key()
    genuine = linkage_ldp(did_of(issuer), DOMAIN, issuer, NOW)
    legacy = {**genuine, "proof": {**genuine["proof"], "type": "Ed25519Signature2018"}}
    site.files["config"] = configuration([legacy])
    result = await linkage(site).check(did_of(issuer), DOMAIN)
    assert not result.linked, result.reason
