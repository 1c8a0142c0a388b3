"""The achievement lifecycle on fakeredis with an in-memory publisher:
revisions, retirement, idempotency, tenant isolation, concurrent changes,
profiles, and the replica rebuilt from the published revisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import fakeredis
import msgspec
import pytest

import services.catalog.store
from services.catalog.achievements import (
    AchievementNotFound,
    AchievementRetired,
    Achievements,
    ProfileRequirementsUnmet,
)
from services.catalog.domain import AchievementIn
from services.catalog.listing import ListQuery, page
from services.catalog.store import CatalogStore
from shared.errors import IdempotencyKeyReused, InvalidField
from shared.events import AchievementPublished, ProviderPublished
from tests.unit.services.fakes import Recorded, replayed

PREFIX = "catalog"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    async def once(lookup: Callable[[], Awaitable[T | None]]) -> T | None:
        return await lookup()

    monkeypatch.setattr(services.catalog.store, "wait_for_record", once)


@dataclass
class World:
    client: fakeredis.FakeAsyncRedis
    store: CatalogStore
    published: Recorded
    achievements: Achievements


@pytest.fixture
async def world() -> World:
    client = fakeredis.FakeAsyncRedis()
    store, published = CatalogStore(client, PREFIX), Recorded()
    for did, tenant in [("did:key:zA", "uni-a"), ("did:key:zB", "uni-b")]:
        await store.remember_issuer(did, tenant)
    await replayed(client, PREFIX)
    achievements = Achievements(
        store=store,
        publisher=published,
        redis=client,
        topic="catalog.achievements",
        public_base_url="https://catalog.example",
        require_caught_up=lambda: None,
    )
    return World(client, store, published, achievements)


def body(did: str = "did:key:zA", **changes: Any) -> AchievementIn:
    raw = {
        "issuerDid": did,
        "name": "Applied Data Protection",
        "description": "Apply GDPR principles in an SME.",
        "criteria": {"narrative": "Pass the final assessment."},
        "masteryThreshold": 0.9,
        **changes,
    }
    return msgspec.convert(raw, AchievementIn)


async def test_updates_are_revisions_once_per_key(world: World) -> None:
    made, created = await world.achievements.define("uni-a", body(), "k1")
    assert created and made.revision == 1 and made.achievement["revision"] == 1
    again, created = await world.achievements.define("uni-a", body(), "k1")
    assert (again.achievement_id, created) == (made.achievement_id, False)
    aid = made.achievement_id
    new = body(name="Applied Data Protection II")
    first, _ = await world.achievements.revise("uni-a", aid, new, "k2")
    retried, fresh = await world.achievements.revise("uni-a", aid, new, "k2")
    assert (first.revision, retried.revision, fresh) == (2, 2, False)
    with pytest.raises(IdempotencyKeyReused):
        await world.achievements.revise("uni-a", aid, body(name="Other"), "k2")
    history = await world.store.achievement_history(aid)
    assert [(e.revision, e.achievement["name"]) for e in history] == [
        (1, "Applied Data Protection"),
        (2, "Applied Data Protection II"),
    ]
    assert len(world.published.events) == 2


async def test_retiring_is_a_revision_once_and_final(world: World) -> None:
    made, _ = await world.achievements.define("uni-a", body(), None)
    aid = made.achievement_id
    retired, _ = await world.achievements.retire("uni-a", aid, "r1")
    assert (retired.revision, retired.status) == (2, "retired")
    assert retired.achievement["revision"] == 2
    again, _ = await world.achievements.retire("uni-a", aid, None)
    assert again.revision == 2
    with pytest.raises(AchievementRetired):
        await world.achievements.revise("uni-a", aid, body(), None)
    assert len(world.published.events) == 2


async def test_another_tenant_can_neither_change_nor_list_it(world: World) -> None:
    made, _ = await world.achievements.define("uni-a", body(), None)
    with pytest.raises(AchievementNotFound):
        await world.achievements.revise("uni-b", made.achievement_id, body("did:key:zB"), None)
    with pytest.raises(AchievementNotFound):
        await world.achievements.retire("uni-b", made.achievement_id, None)
    assert await world.store.achievements_of("uni-b") == []
    everything = await world.store.achievements_of("uni-a")
    assert page(everything, "uni-b", ListQuery(), None)["items"] == []
    assert page(everything, "uni-a", ListQuery(), None)["total"] == 1


async def test_an_achievement_keeps_its_issuer(world: World) -> None:
    made, _ = await world.achievements.define("uni-a", body(), None)
    with pytest.raises(InvalidField):
        await world.achievements.revise("uni-a", made.achievement_id, body("did:key:zB"), None)


async def test_concurrent_revisions_get_distinct_numbers(world: World) -> None:
    made, _ = await world.achievements.define("uni-a", body(), None)
    aid = made.achievement_id
    changes = [
        world.achievements.revise("uni-a", aid, body(name=f"Revision {i}"), f"c{i}")
        for i in range(5)
    ]
    revised = await asyncio.gather(*changes)
    assert sorted(e.revision for e, _ in revised) == [2, 3, 4, 5, 6]
    assert [e.revision for e in await world.store.achievement_history(aid)] == list(range(1, 7))


async def test_the_replica_is_rebuilt_from_the_published_revisions(world: World) -> None:
    made, _ = await world.achievements.define("uni-a", body(), "k1")
    await world.achievements.revise("uni-a", made.achievement_id, body(name="Two"), "k2")
    await world.achievements.retire("uni-a", made.achievement_id, "k3")
    fresh = fakeredis.FakeAsyncRedis()
    store = CatalogStore(fresh, PREFIX)
    for event in reversed(world.published.events):  # any order: the newest wins
        assert isinstance(event, AchievementPublished)
        await store.save_achievement(event)
    current = await store.achievement(made.achievement_id)
    assert current is not None and (current.revision, current.status) == (3, "retired")
    assert len(await store.achievement_history(made.achievement_id)) == 3
    await replayed(fresh, PREFIX)
    rebuilt = Achievements(
        store=store,
        publisher=world.published,
        redis=fresh,
        topic="catalog.achievements",
        public_base_url="https://catalog.example",
        require_caught_up=lambda: None,
    )
    # Every key is remembered again: retries answer, nothing is published.
    count = len(world.published.events)
    assert (await rebuilt.revise("uni-a", made.achievement_id, body(name="Two"), "k2"))[
        0
    ].revision == 2
    assert (await rebuilt.retire("uni-a", made.achievement_id, "k3"))[0].revision == 3
    assert len(world.published.events) == count


async def test_the_providers_profile_gates_definitions(world: World) -> None:
    await world.store.save_provider(
        ProviderPublished(
            tenant="uni-a",
            provider_id="https://catalog.example/providers/p",
            revision=1,
            legal_name="Poly",
            country="NL",
            provider_type="college",
            issuer_dids=["did:key:zA"],
            policy_profile="ontario",
        )
    )
    with pytest.raises(ProfileRequirementsUnmet) as caught:
        await world.achievements.define("uni-a", body(), "k1")
    paths = {e["path"] for e in caught.value.extra["errors"]}  # type: ignore[attr-defined]
    assert paths == {
        "$.microCredential.durationWeeks",
        "$.alignment",
        "$.microCredential.assessmentPurpose",
        "$.microCredential.assessmentType",
    }
    assert world.published.events == []
    complete = body(
        alignment=[{"targetName": "GDPR", "targetUrl": "https://skills.example/gdpr"}],
        microCredential={
            "durationWeeks": 6,
            "assessmentPurpose": "summative",
            "assessmentType": "written exam",
        },
    )
    made, _ = await world.achievements.define("uni-a", complete, "k1")
    assert made.revision == 1


async def test_a_replica_from_before_revisions_is_indexed(world: World) -> None:
    """A replica stored by the code before issue 9 has the current
    achievement only (always revision 1): start-up gives it a history and
    a place in its tenant's listing, so retries and reads keep working."""
    made, _ = await world.achievements.define("uni-a", body(), "k1")
    aid = made.achievement_id
    await world.client.delete(f"{PREFIX}:achievement-revisions:{aid}")
    await world.client.delete(f"{PREFIX}:tenant-achievements:uni-a")
    assert await world.store.achievement_history(aid) == []
    assert await world.store.index_existing() == 1
    assert await world.store.index_existing() == 0
    assert [e.revision for e in await world.store.achievement_history(aid)] == [1]
    assert [e.achievement_id for e in await world.store.achievements_of("uni-a")] == [aid]
    again, created = await world.achievements.define("uni-a", body(), "k1")
    assert (again.achievement_id, created) == (aid, False)
