"""Self-hosted did:web identities: the DID from a domain and path, and the
rules that keep a domain one provider's and a DID one identity's, on the
issuer's real store over fakeredis."""

from __future__ import annotations

import fakeredis
import pytest

from services.issuer.self_hosting import (
    DidTaken,
    DomainLinkedElsewhere,
    require_free,
    self_hosted_did,
)
from services.issuer.store import IssuerStore
from shared.credentials.did_documents import web_did_host
from shared.credentials.dids import did_web_url
from shared.events import IssuerProfilePublished, ProviderPublished
from tests.unit.services.fakes import replayed


def test_the_did_and_where_it_is_hosted() -> None:
    assert self_hosted_did("poly.example", None) == "did:web:poly.example"
    assert self_hosted_did("poly.example", "badges/2026") == "did:web:poly.example:badges:2026"
    assert did_web_url("did:web:poly.example") == "https://poly.example/.well-known/did.json"
    assert (
        did_web_url(self_hosted_did("poly.example", "badges"))
        == "https://poly.example/badges/did.json"
    )
    assert web_did_host("did:web:poly.example:badges:2026") == "poly.example"


async def test_a_domain_is_one_providers_and_a_did_one_identitys() -> None:
    client = fakeredis.FakeAsyncRedis()
    await replayed(client, "issuer")
    store = IssuerStore(client, "issuer")
    await store.save_provider(
        ProviderPublished(
            tenant="owner",
            provider_id="https://catalog.example/providers/1",
            revision=1,
            legal_name="Owner University",
            country="IE",
            provider_type="university",
            web_domain="owner.example",
            issuer_dids=["did:key:zOwner"],
        )
    )
    with pytest.raises(DomainLinkedElsewhere, match="providers/1"):
        await require_free(store, "squatter", "did:web:owner.example")
    with pytest.raises(DomainLinkedElsewhere):
        await require_free(store, "squatter", "did:web:owner.example:badges")
    await require_free(store, "owner", "did:web:owner.example")  # its own provider's domain
    await require_free(store, "squatter", "did:web:free.example")
    await store.save_issuer(
        IssuerProfilePublished(
            tenant="squatter",
            did="did:web:free.example",
            profile={},
            did_document={"id": "did:web:free.example"},
            self_hosted=True,
        )
    )
    with pytest.raises(DidTaken):
        await require_free(store, "squatter", "did:web:free.example")
    # The domain is now the squatter's: another tenant cannot take a path on it.
    await require_free(store, "squatter", "did:web:free.example:badges")
    with pytest.raises(DomainLinkedElsewhere, match="self-hosted"):
        await require_free(store, "owner", "did:web:free.example:badges")
