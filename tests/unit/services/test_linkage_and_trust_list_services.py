"""The issuer's DID configuration and the operator's signed trust list, on
their real stores over fakeredis with a file key store."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import fakeredis
import msgspec
import orjson
import pytest

from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.domain.errors import IssuerNotFound
from services.issuer.linkage import DomainLinkages, NoWebDomain
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from services.issuer.trust_list import TrustListPublisher
from services.verifier.trust_lists import Source, TrustListError, parse_list
from shared.credentials.builders import build_profile
from shared.credentials.crypto_keys import b64url_decode
from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import check_linkage
from shared.events import IssuerProfilePublished, ProviderPublished
from shared.keystore import FileKeyStore
from tests.unit.services.fakes import Recorded, replayed


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


async def test_the_trust_list_is_signed_by_the_operator_and_stable(tmp_path: Path) -> None:
    """Built by the issuer from its replica of the registry and signed with
    the operator's key from the issuer's key store: the same DID that signs
    the accreditation endorsements; one registry state, one document."""
    client = fakeredis.FakeAsyncRedis()
    await replayed(client, "issuer")
    store = IssuerStore(client, "issuer")
    await store.save_provider(provider("did:key:zIssuer", "poly.example"))
    published = Recorded()
    accreditations = Accreditations(
        store=store,
        signer=Signer(FileKeyStore(tmp_path, os.urandom(32))),
        publisher=published,
        topic="issuer.profiles",
        operator_name="Ministry",
        operator_url="https://issuer.example",
        allocator=StatusAllocator(client, "issuer", "https://status.example/lists"),
        endorsements_topic="issuer.endorsements",
    )
    publisher = TrustListPublisher(store, accreditations, "https://issuer.example/trust-list", "M")
    first, jws = await publisher.current()
    again, jws_again = await publisher.current()
    assert (first.etag, jws) == (again.etag, jws_again)
    (operator,) = published.of(IssuerProfilePublished)  # created once, announced with its role
    assert isinstance(operator, IssuerProfilePublished) and operator.role == "operator"
    assert first.payload["iss"] == operator.did
    header = orjson.loads(b64url_decode(jws.split(".")[0]))
    assert header["kid"].startswith(operator.did + "#") and header["typ"] == "JWT"
    entries = await parse_list(jws.encode(), Source("x", operator.did), DidResolver())
    assert list(entries) == ["did:key:zIssuer"]
    assert first.payload["providers"][0]["webDomain"] == "poly.example"
    with pytest.raises(TrustListError, match="not the pinned"):
        await parse_list(jws.encode(), Source("x", "did:key:zSomeoneElse"), DidResolver())

    await store.save_provider(
        msgspec.structs.replace(provider("did:key:zIssuer", None), revision=2, status="suspended")
    )
    changed, _ = await publisher.current()
    assert changed.etag != first.etag and changed.payload["providers"][0]["status"] == "suspended"
