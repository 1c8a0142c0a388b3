"""Pathways in the catalog on fakeredis with an in-memory publisher: refusals
named (unknown, retired, unaccredited, cycles), idempotent creation, and
concurrent writes that could close a cycle between them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import fakeredis
import msgspec
import pytest

import services.catalog.store
from services.catalog.achievements import Achievements
from services.catalog.domain import AchievementIn
from services.catalog.pathways import InvalidPathway, PathwayIn, Pathways
from services.catalog.store import CatalogStore
from shared.events import PathwayPublished
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
    published: Recorded
    achievements: Achievements
    pathways: Pathways

    async def unit(self, name: str, did: str = "did:key:zA", tenant: str = "uni-a") -> str:
        made, _ = await self.achievements.define(tenant, definition(name, did), None)
        return made.achievement_id


def definition(name: str, did: str = "did:key:zA") -> AchievementIn:
    raw = {
        "issuerDid": did,
        "name": name,
        "description": f"{name}.",
        "criteria": {"narrative": "Pass."},
        "masteryThreshold": 0.6,
    }
    return msgspec.convert(raw, AchievementIn)


def request(**members: Any) -> PathwayIn:
    raw = {"name": "Certificate", **members}
    if "achievementId" not in raw and "achievement" not in raw:
        raw["achievement"] = msgspec.to_builtins(definition("Certificate"))
    return msgspec.convert(raw, PathwayIn)


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
    pathways = Pathways(
        store=store,
        index=store.pathways,
        achievements=achievements,
        publisher=published,
        redis=client,
        topic="catalog.pathways",
        public_base_url="https://catalog.example",
        require_caught_up=lambda: None,
    )
    return World(published, achievements, pathways)


def named(error: InvalidPathway) -> dict[str, str]:
    errors = error.extra["errors"]
    assert isinstance(errors, list)
    return {e["path"]: e["message"] for e in errors}


async def test_unknown_retired_and_unaccredited_components_are_named(world: World) -> None:
    held, retired = await world.unit("Held"), await world.unit("Old")
    await world.achievements.retire("uni-a", retired, None)
    theirs = await world.unit("Theirs", "did:key:zB", "uni-b")  # no accredited provider
    with pytest.raises(InvalidPathway) as refused:
        await world.pathways.define(
            "uni-a", request(core=[held, "https://x.example/a", retired, theirs]), None
        )
    assert set(named(refused.value)) == {"$.core[1]", "$.core[2]", "$.core[3]"}
    assert world.published.of(PathwayPublished) == []


async def test_rules_that_cannot_be_met(world: World) -> None:
    held = await world.unit("Held")
    with pytest.raises(InvalidPathway) as refused:
        await world.pathways.define(
            "uni-a", request(core=[held, held], electives=[held], electivesRequired=2), None
        )
    assert set(named(refused.value)) == {"$.core[1]", "$.electives[0]", "$.electivesRequired"}


async def test_cycles_direct_and_through_nested_pathways(world: World) -> None:
    a = await world.unit("A")
    with pytest.raises(InvalidPathway) as refused:
        await world.pathways.define("uni-a", request(achievementId=a, core=[a]), None)
    assert named(refused.value) == {"$.core[0]": f"cycle: {a} -> {a}"}
    inner, _ = await world.pathways.define("uni-a", request(core=[a]), "inner")
    again, created = await world.pathways.define("uni-a", request(core=[a]), "inner")
    assert (again.pathway_id, created) == (inner.pathway_id, False)
    with pytest.raises(InvalidPathway) as refused:  # a -> inner's achievement -> a
        await world.pathways.define(
            "uni-a", request(achievementId=a, core=[inner.achievement_id]), None
        )
    assert named(refused.value) == {"$.core[0]": f"cycle: {a} -> {inner.achievement_id} -> {a}"}


async def test_concurrent_writes_cannot_close_a_cycle(world: World) -> None:
    """Two pathways linking each other's achievement, written at once: the
    registry lease makes the second see the first, so one is refused."""
    a, b = await world.unit("A"), await world.unit("B")
    results = await asyncio.gather(
        world.pathways.define("uni-a", request(achievementId=a, core=[b]), None),
        world.pathways.define("uni-a", request(achievementId=b, core=[a]), None),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["InvalidPathway", "tuple"]
