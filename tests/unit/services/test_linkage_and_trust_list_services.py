"""The issuer's DID configuration and the catalog's signed trust list, on
their real stores over fakeredis with a file key store."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import pytest

from services.catalog.store import CatalogStore
from services.catalog.trust_list import TrustListPublisher
from services.issuer.domain.errors import IssuerNotFound
from services.issuer.linkage import DomainLinkages, NoWebDomain
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from services.verifier.trust_lists import Source, parse_list
from shared.credentials.builders import build_profile
from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import check_linkage
from shared.errors import Unavailable
from shared.events import IssuerProfilePublished, ProviderPublished
from shared.keystore import FileKeyStore
from tests.unit.services.fakes import replayed


def provider(did: str, domain: str | None, tenant: str = "uni") -> ProviderPublished:
    return ProviderPublished(
        tenant=tenant,
        provider_id="https://catalog.example/providers/1",
        revision=1,
        legal_name="Example Polytechnic",
        country="IE",
        provider_type="college",
        web_domain=domain,
        issuer_dids=[did],
    )


async def test_the_issuer_signs_the_did_configuration_of_its_providers_domain(
    tmp_path: Path,
) -> None:
    client = fakeredis.FakeAsyncRedis()
    await replayed(client, "issuer")
    store, signer = IssuerStore(client, "issuer"), Signer(FileKeyStore(tmp_path, os.urandom(32)))
    key_id, did, document = await signer.create_web_identity("uni", "https://issuer.example")
    await store.save_issuer(
        IssuerProfilePublished(
            tenant="uni",
            did=did,
            profile=build_profile(did, "Example Polytechnic", url="https://poly.example"),
            did_document=document,
            signing_key_id=key_id,
        )
    )
    linkages = DomainLinkages(store, signer)
    with pytest.raises(NoWebDomain):  # no provider lists it yet
        await linkages.configuration("uni", did)
    await store.save_provider(provider(did, None))
    with pytest.raises(NoWebDomain):  # a provider without a web domain
        await linkages.configuration("uni", did)
    await store.save_provider(provider(did, "poly.example"))
    found = await linkages.configuration("uni", did)
    assert found["domain"] == "poly.example"
    resolver = DidResolver(known={did: document})
    await check_linkage(found["configuration"], did, "poly.example", resolver, datetime.now(UTC))
    with pytest.raises(IssuerNotFound):  # another tenant's issuer: 404
        await linkages.configuration("other", did)


async def test_the_trust_list_is_signed_stable_and_needs_a_key(tmp_path: Path) -> None:
    client = fakeredis.FakeAsyncRedis()
    await replayed(client, "catalog")
    store = CatalogStore(client, "catalog")
    await store.save_provider(provider("did:key:zIssuer", "poly.example"))
    keystore = FileKeyStore(tmp_path, os.urandom(32))
    publisher = TrustListPublisher(
        store, keystore, "https://catalog.example/trust-list", "Ministry"
    )
    first, jws = await publisher.current(signed=True)
    again, jws_again = await TrustListPublisher(
        store, keystore, "https://catalog.example/trust-list", "Ministry"
    ).current(signed=True)
    assert (first.etag, jws) == (again.etag, jws_again)  # one key, one document
    assert jws is not None
    entries = await parse_list(jws.encode(), Source("x", first.payload["iss"]), DidResolver())
    assert list(entries) == ["did:key:zIssuer"]
    unsigned = TrustListPublisher(store, None, "https://catalog.example/trust-list", "Ministry")
    with pytest.raises(Unavailable):
        await unsigned.current(signed=True)
    plain, _ = await unsigned.current(signed=False)
    assert (
        "iss" not in plain.payload and plain.payload["providers"][0]["webDomain"] == "poly.example"
    )
