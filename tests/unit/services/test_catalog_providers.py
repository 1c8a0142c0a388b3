"""The provider registry's use cases on fakeredis with an in-memory publisher:
ownership of issuer DIDs, one provider per DID, operator-only accreditation
state, idempotent writes rebuilt from the published records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import fakeredis
import pytest

import services.catalog.store
from services.catalog.achievements import IssuerNotFound
from services.catalog.provider_domain import (
    AccreditationChangeIn,
    AccreditationExists,
    AccreditationIn,
    AccreditationWithdrawn,
    DomainClaimed,
    IssuerClaimed,
    ProviderChangeIn,
    ProviderIn,
    ProviderNotFound,
    ProviderStatusIn,
    QualityAssuranceBodyIn,
    ScopeIn,
)
from services.catalog.providers import Providers
from services.catalog.store import CatalogStore
from shared.errors import IdempotencyKeyReused, InvalidField, Rebuilding
from shared.events import ProviderPublished
from tests.unit.services.fakes import Recorded, replayed

PREFIX = "catalog"
T = TypeVar("T")


@dataclass
class World:
    client: fakeredis.FakeAsyncRedis
    store: CatalogStore
    published: Recorded
    providers: Providers


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issuers are known up front here: no read-your-writes wait."""

    async def once(lookup: Callable[[], Awaitable[T | None]]) -> T | None:
        return await lookup()

    monkeypatch.setattr(services.catalog.store, "wait_for_record", once)


async def world() -> World:
    client = fakeredis.FakeAsyncRedis()
    store, published = CatalogStore(client, PREFIX), Recorded()
    for did, tenant in [("did:key:zA", "uni-a"), ("did:key:zA2", "uni-a"), ("did:key:zB", "uni-b")]:
        await store.remember_issuer(did, tenant)
    await replayed(client, PREFIX)
    providers = Providers(
        store=store,
        publisher=published,
        redis=client,
        topic="catalog.providers",
        public_base_url="https://catalog.example",
        require_caught_up=lambda: None,
    )
    return World(client, store, published, providers)


def provider_in(*dids: str, name: str = "Example Polytechnic") -> ProviderIn:
    return ProviderIn(legalName=name, country="IE", type="college", issuerDids=list(dids))


def accreditation_in(id: str = "QQI-1", levels: list[int] | None = None) -> AccreditationIn:
    return AccreditationIn(
        id=id,
        qualityAssuranceBody=QualityAssuranceBodyIn(name="QQI"),
        scope=ScopeIn(eqfLevels=levels or [6, 7], fieldsOfStudy=["Business"]),
        validFrom=datetime(2025, 1, 1, tzinfo=UTC),
        validUntil=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def test_a_provider_registers_with_its_own_issuers_only() -> None:
    w = await world()
    event, created = await w.providers.register("uni-a", provider_in("did:key:zA"), "k1")
    assert created and event.revision == 1 and event.status == "active"
    assert event.accreditations == [] and event.tenant == "uni-a"
    with pytest.raises(IssuerNotFound):  # another tenant's issuer: 404, no leak
        await w.providers.register("uni-a", provider_in("did:key:zB"), None)
    with pytest.raises(IssuerNotFound):
        await w.providers.register("uni-a", provider_in("did:key:zUnknown"), None)
    with pytest.raises(IssuerClaimed):  # one provider per issuer DID
        await w.providers.register("uni-a", provider_in("did:key:zA"), None)


@pytest.mark.parametrize("name", [" ", "\u0000", "\u200b", "\u202e\u200f", "\u3000"])
async def test_a_legal_name_that_shows_nothing_is_refused(name: str) -> None:
    """Blank, control or invisible format characters: the trust list and the
    verification pages would show nothing, or another name."""
    w = await world()
    with pytest.raises(InvalidField, match="visible"):
        await w.providers.register("uni-a", provider_in("did:key:zA", name=name), None)
    event, _ = await w.providers.register("uni-a", provider_in("did:key:zA"), None)
    change = ProviderChangeIn(legalName=name)
    with pytest.raises(InvalidField, match="visible"):
        await w.providers.change("uni-a", event.provider_id, change, None)


async def test_a_web_domain_belongs_to_one_provider() -> None:
    w = await world()
    first = provider_in("did:key:zA")
    first.webDomain = "poly.example"
    mine, _ = await w.providers.register("uni-a", first, None)
    other = provider_in("did:key:zB", name="Other")
    other.webDomain = "poly.example"
    with pytest.raises(DomainClaimed):  # 409: the domain links to the first provider
        await w.providers.register("uni-b", other, None)
    other.webDomain = "other.example"
    theirs, _ = await w.providers.register("uni-b", other, None)
    with pytest.raises(DomainClaimed):
        await w.providers.change(
            "uni-b", theirs.provider_id, ProviderChangeIn(webDomain="poly.example"), None
        )
    # The first provider moves away: the domain is free again; its own edits pass.
    await w.providers.change(
        "uni-a", mine.provider_id, ProviderChangeIn(webDomain="poly.example"), None
    )
    await w.providers.change(
        "uni-a", mine.provider_id, ProviderChangeIn(webDomain="new.example"), None
    )
    moved, _ = await w.providers.change(
        "uni-b", theirs.provider_id, ProviderChangeIn(webDomain="poly.example"), None
    )
    assert moved.web_domain == "poly.example"


async def test_a_retry_gets_the_first_answer_and_writes_nothing() -> None:
    w = await world()
    first, _ = await w.providers.register("uni-a", provider_in("did:key:zA"), "k1")
    again, created = await w.providers.register("uni-a", provider_in("did:key:zA"), "k1")
    assert not created and again.provider_id == first.provider_id
    assert len(w.published.events) == 1
    with pytest.raises(IdempotencyKeyReused):
        await w.providers.register("uni-a", provider_in("did:key:zA2"), "k1")


async def test_operator_writes_accreditations_and_status() -> None:
    w = await world()
    provider, _ = await w.providers.register("uni-a", provider_in("did:key:zA"), None)
    pid = provider.provider_id
    accredited, _ = await w.providers.accredit("ministry", pid, accreditation_in(), "a1")
    [acc] = accredited.accreditations
    assert (acc.scope.eqf_levels, acc.recorded_by, acc.valid_until) == (
        [6, 7],
        "ministry",
        "2030-01-01T00:00:00Z",
    )
    with pytest.raises(AccreditationExists):
        await w.providers.accredit("ministry", pid, accreditation_in(), None)
    withdrawn, _ = await w.providers.change_accreditation(
        "ministry", pid, "QQI-1", AccreditationChangeIn(status="withdrawn"), "a2"
    )
    assert withdrawn.accreditations[0].status == "withdrawn" and withdrawn.revision == 3
    # A withdrawal is final (its endorsement is revoked for good): 409.
    with pytest.raises(AccreditationWithdrawn):
        await w.providers.change_accreditation(
            "ministry", pid, "QQI-1", AccreditationChangeIn(status="active"), None
        )
    suspended, _ = await w.providers.set_status(
        "ministry", pid, ProviderStatusIn(status="suspended", reason="audit"), None
    )
    assert (suspended.status, suspended.status_reason) == ("suspended", "audit")
    backwards = accreditation_in("QQI-2")
    backwards.validUntil = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidField):
        await w.providers.accredit("ministry", pid, backwards, None)
    # the QA body's url is signed into every credential of the provider
    for url in ("not a url at all", "javascript:alert(1)"):
        bad = accreditation_in("QQI-3")
        bad.qualityAssuranceBody.url = url
        with pytest.raises(InvalidField, match=r"qualityAssuranceBody\.url"):
            await w.providers.accredit("ministry", pid, bad, None)
    # each revision is a new record (its own id, and time: the trust list's `updated`)
    records = w.published.of(ProviderPublished)
    assert len(records) >= 4 and len({r.id for r in records}) == len(records)


async def test_a_tenant_edits_only_its_own_provider() -> None:
    w = await world()
    provider, _ = await w.providers.register("uni-a", provider_in("did:key:zA"), None)
    pid = provider.provider_id
    with pytest.raises(ProviderNotFound):
        await w.providers.change("uni-b", pid, ProviderChangeIn(legalName="Mine now"), None)
    event, _ = await w.providers.change(
        "uni-a", pid, ProviderChangeIn(issuerDids=["did:key:zA", "did:key:zA2"]), None
    )
    assert event.issuer_dids == ["did:key:zA", "did:key:zA2"]
    assert await w.store.provider_of_issuer("did:key:zA2") == pid


async def test_the_published_records_rebuild_the_registry_and_its_keys() -> None:
    w = await world()
    provider, _ = await w.providers.register("uni-a", provider_in("did:key:zA"), "k1")
    await w.providers.accredit("ministry", provider.provider_id, accreditation_in(), "a1")
    fresh = await world()  # a wiped Redis, replayed from the (compacted) topic
    newest = [e for e in w.published.events if isinstance(e, ProviderPublished)][-1]
    await fresh.store.save_provider(newest)
    again, created = await fresh.providers.register("uni-a", provider_in("did:key:zA"), "k1")
    assert not created and again.revision == 2
    again, created = await fresh.providers.accredit(
        "ministry", provider.provider_id, accreditation_in(), "a1"
    )
    assert not created and fresh.published.events == []


async def test_no_write_while_rebuilding() -> None:
    w = await world()
    await w.client.flushall()
    with pytest.raises(Rebuilding):
        await w.providers.register("uni-a", provider_in("did:key:zA"), "k1")
