"""Stacking over fakeredis (issue 9): a completed pathway is awarded once,
with its components as evidence, also when two instances decide at the same
moment and after a Redis wipe replayed by the real handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import fakeredis
import msgspec
import pytest
from prometheus_client import CollectorRegistry

from services.catalog.domain import AchievementIn, CriteriaIn, achievement_document
from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.awards import Issuance
from services.issuer.consumers import on_issuer_event
from services.issuer.domain.awarding import AwardIn, RecipientIn
from services.issuer.registry import RegistryIndex
from services.issuer.signing import Signer
from services.issuer.stacking import Stacking
from services.issuer.store import IssuerStore
from shared.credentials.builders import build_profile
from shared.errors import Rebuilding
from shared.events import (
    AchievementPublished,
    CredentialIssued,
    Event,
    IssuerProfilePublished,
    PathwayPublished,
    StatusChanged,
)
from shared.kafka.offsets import RedisOffsetStore
from shared.keystore import FileKeyStore
from shared.learner_keys import LearnerKeys
from shared.web.metrics import Outcomes
from tests.unit.services.fakes import Recorded, replayed

TENANT = "uni"
PREFIX = "issuer"
BASE = "https://catalog.example/achievements"


@dataclass
class World:
    redis: fakeredis.FakeAsyncRedis
    issuance: Issuance
    stacking: list[Stacking]  # two instances on one Redis
    published: Recorded
    history: list[Event]


def _achievement(did: str, key: str, kind: str = "MicroCredential") -> AchievementPublished:
    achievement_id = f"{BASE}/{key}"
    body = AchievementIn(
        issuerDid=did,
        name=f"Unit {key}",
        description="A unit.",
        criteria=CriteriaIn(narrative="Pass."),
        masteryThreshold=0.5,
        achievementType=kind,
    )
    return AchievementPublished(
        tenant=TENANT,
        issuer_did=did,
        achievement_id=achievement_id,
        revision=1,
        achievement=achievement_document(body, achievement_id),
        mastery_threshold=0.5,
        status="active",
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    client = fakeredis.FakeAsyncRedis()
    store, published = IssuerStore(client, PREFIX), Recorded()
    signer = Signer(FileKeyStore(tmp_path, bytes(range(32))))
    key_id, did, document = await signer.create_identity(TENANT)
    profile = IssuerProfilePublished(
        tenant=TENANT,
        did=did,
        profile=build_profile(did, "Example Polytechnic"),
        did_document=document,
        signing_key_id=key_id,
    )
    achievements = [_achievement(did, k) for k in ("a", "b", "c")]
    certificate = _achievement(did, "cert", "Certificate")
    pathway = PathwayPublished(
        tenant=TENANT,
        pathway_id="https://catalog.example/pathways/1",
        pathway={"name": "Certificate"},
        issuer_did=did,
        achievement_id=certificate.achievement_id,
        core=[f"{BASE}/a"],
        electives=[f"{BASE}/b", f"{BASE}/c"],
        electives_required=1,
    )
    history: list[Event] = [profile, *achievements, certificate, pathway]
    handle = on_issuer_event(store, StatusAllocator(client, PREFIX, "https://s.example/l"))
    for event in history:
        await handle(event, None)  # type: ignore[arg-type]
    await replayed(client, PREFIX)
    allocator = StatusAllocator(client, PREFIX, "https://status.example/lists")
    accreditations = Accreditations(
        store=store,
        signer=signer,
        publisher=published,
        topic="issuer.profiles",
        operator_name="Ministry of Skills",
        operator_url="https://platform.example",
        allocator=allocator,
        endorsements_topic="issuer.endorsements",
    )
    outcomes = Outcomes.create(CollectorRegistry())
    issuance = Issuance(
        store=store,
        allocator=allocator,
        signer=signer,
        publisher=published,
        topic="credentials.issued",
        outcomes=outcomes,
        require_caught_up=lambda: None,
        accreditations=accreditations,
        learner_keys=LearnerKeys(bytes(32)),
    )
    stacking = [
        Stacking(
            store=IssuerStore(client, PREFIX),
            allocator=StatusAllocator(client, PREFIX, "https://status.example/lists"),
            signer=signer,
            publisher=published,
            topic="credentials.issued",
            accreditations=accreditations,
            outcomes=outcomes,
            registry=RegistryIndex(client, PREFIX, LearnerKeys(bytes(32))),
        )
        for _ in range(2)
    ]
    yield World(client, issuance, stacking, published, history)
    await client.aclose()


async def award(world: World, key: str, email: str = "Ada@Example.org") -> CredentialIssued:
    body = AwardIn(achievementId=f"{BASE}/{key}", recipient=RecipientIn(email=email), score=90)
    event, _ = await world.issuance.award(TENANT, body, None)
    return event


def stacked(world: World) -> list[CredentialIssued]:
    return [
        e
        for e in world.published.of(CredentialIssued)
        if isinstance(e, CredentialIssued) and e.pathway_id
    ]


async def test_core_and_one_elective_award_once_with_evidence(world: World) -> None:
    core = await award(world, "a")
    assert await world.stacking[0].consider(core) == []  # no elective yet
    elective = await award(world, "c", email=" ada@example.org")  # the same learner
    [made] = await world.stacking[0].consider(elective)
    assert [e.credential_id for e in stacked(world)] == [made.credential_id]
    assert made.learner_key == core.learner_key == elective.learner_key
    document = made.credential_ldp or {}
    assert [e["id"] for e in document["evidence"]] == [core.credential_id, elective.credential_id]
    assert document["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    # The identity stays hashed: the learner key is no hash of the e-mail alone.
    assert "ada@example.org" not in str(document)
    # A later component (or a redelivery) answers the same credential.
    [again] = await world.stacking[1].consider(await award(world, "b"))
    assert again.credential_id == made.credential_id and len(stacked(world)) == 1


async def test_a_revoked_component_counts_towards_no_pathway(world: World) -> None:
    core = await award(world, "a")
    entry = next(e for e in core.status_entries if e.purpose == "revocation")
    revoked = StatusChanged(
        tenant=TENANT,
        list_id=entry.list_id,
        list_url=entry.list_url,
        issuer_did=core.issuer_did,
        purpose="revocation",
        index=entry.index,
        value=1,
        credential_id=core.credential_id,
    )
    await world.stacking[0].registry.status_changed(revoked)
    elective = await award(world, "c")
    assert await world.stacking[0].consider(elective) == []  # the core is revoked
    again = await award(world, "a")  # the core earned anew
    [made] = await world.stacking[1].consider(again)
    evidence = [e["id"] for e in (made.credential_ldp or {})["evidence"]]
    assert core.credential_id not in evidence
    assert sorted(evidence) == sorted([again.credential_id, elective.credential_id])


async def test_two_instances_deciding_at_once_award_once(world: World) -> None:
    for n in range(5):
        learner = f"learner-{n}@example.org"
        a, c = await award(world, "a", learner), await award(world, "c", learner)
        results = await asyncio.gather(world.stacking[0].consider(a), world.stacking[1].consider(c))
        assert {r[0].credential_id for r in results} == {results[0][0].credential_id}
    assert len(stacked(world)) == 5


async def test_after_a_wipe_and_replay_the_same_decision(world: World) -> None:
    a, b = await award(world, "a"), await award(world, "b")
    [first] = await world.stacking[0].consider(b)
    await world.redis.flushall()
    offsets = RedisOffsetStore(world.redis, PREFIX)
    assert await offsets.open([]) is True  # a new generation
    handle = on_issuer_event(world.issuance.store, world.issuance.allocator)
    for event in [*world.history, *world.published.events]:
        await handle(event, None)  # type: ignore[arg-type]
    with pytest.raises(Rebuilding):  # replayed, not yet marked caught up: no decision
        await world.stacking[1].consider(a)
    await offsets.replayed()
    for event in (a, b):
        [again] = await world.stacking[1].consider(event)
        assert again.credential_id == first.credential_id
    assert len(stacked(world)) == 1


async def test_a_pathway_defined_after_its_components_are_earned(world: World) -> None:
    c = await award(world, "c", "grace@example.org")
    await award(world, "b", "linus@example.org")
    later = PathwayPublished(
        tenant=TENANT,
        pathway_id="https://catalog.example/pathways/2",
        pathway={"name": "Later"},
        issuer_did=c.issuer_did,
        achievement_id=f"{BASE}/cert",
        core=[f"{BASE}/c"],
    )
    [made] = await world.stacking[0].consider_pathway(later)
    assert made.learner_key == c.learner_key and made.pathway_id == later.pathway_id
    # Considered again (a redelivery, another instance): the same credential.
    [again] = await world.stacking[1].consider_pathway(later)
    assert again.credential_id == made.credential_id
    retired = msgspec.structs.replace(later, revision=2, status="retired")
    assert await world.stacking[0].consider_pathway(retired) == []
