"""The application services without Kafka or a Redis server (issue 6, item 7).

`Issuance` and `StatusChanges` run on their real stores over fakeredis (an
in-process Redis that runs our Lua scripts) and publish to an in-memory
publisher, so the invariants they carry are checked in isolation: the
rebuild gate, unique status indexes across a wipe, idempotency with short
leases, and permanent revocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fakeredis
import msgspec
import pytest
from prometheus_client import CollectorRegistry

import services.issuer.allocation
import shared.idempotency
from services.catalog.domain import AchievementIn, CriteriaIn, achievement_document
from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.award_queue import AwardQueue
from services.issuer.awards import Issuance
from services.issuer.consumers import on_credentials_issued, on_issuer_event
from services.issuer.domain.awarding import AwardIn, RecipientIn
from services.issuer.domain.errors import BelowThreshold, SigningKeyChanged, Unsignable
from services.issuer.inbound import RefusedInBatch, on_assessment, on_assessments
from services.issuer.signing import Signed, Signer
from services.issuer.store import IssuerStore
from services.revocation.changes import (
    CredentialNotFound,
    Requester,
    RevocationIsPermanent,
    StatusChanges,
)
from services.revocation.history import StatusHistory
from services.revocation.issuers import IssuerKeys
from services.revocation.jobs import JobStore, StatusJobIn, StatusJobs, item_key
from services.revocation.lists import CredentialRecord, ListInfo, StatusListStore
from services.revocation.publishing import ListPublisher
from services.revocation.signed import SignedLists
from shared.credentials.builders import build_profile
from shared.credentials.crypto_keys import SigningKey
from shared.credentials.errors import ContextError
from shared.errors import Conflict, IdempotencyKeyReused, NotFound, Rebuilding, Unavailable
from shared.events import (
    AchievementPublished,
    AssessmentPassed,
    CredentialIssued,
    Event,
    IssuerProfilePublished,
    StatusChanged,
    StatusEntryRef,
    StatusJobRecorded,
)
from shared.idempotency import IdempotencyRecords
from shared.kafka.offsets import RedisOffsetStore
from shared.kafka.producer import Published
from shared.keystore import FileKeyStore
from shared.learner_keys import LearnerKeys
from shared.redis_keys import CREDENTIALS, IDEMPOTENCY_LOCK, STATUS_ALLOC, redis_key
from shared.status_reasons import StatusReason
from shared.web.metrics import Outcomes
from tests.unit.services.fakes import Recorded, replayed

TENANT = "uni"
PREFIX = "issuer"
ACHIEVEMENT_ID = "https://catalog.example/achievements/1"


class Gate:
    """The replica consumer's caught-up signal, set by hand."""

    def __init__(self) -> None:
        self.open = True

    def require_caught_up(self) -> None:
        if not self.open:
            raise Rebuilding()


@dataclass
class IssuerWorld:
    redis: fakeredis.FakeAsyncRedis
    issuance: Issuance
    published: Recorded
    gate: Gate
    history: list[Event]  # the profile and achievement, as on their topics


@pytest.fixture
async def issuer(tmp_path: Path) -> AsyncIterator[IssuerWorld]:
    client = fakeredis.FakeAsyncRedis()
    store, published, gate = IssuerStore(client, PREFIX), Recorded(), Gate()
    signer = Signer(FileKeyStore(tmp_path, bytes(range(32))))
    key_id, did, document = await signer.create_identity(TENANT)
    profile = IssuerProfilePublished(
        tenant=TENANT,
        did=did,
        profile=build_profile(did, "Example Polytechnic"),
        did_document=document,
        signing_key_id=key_id,
    )
    await store.save_issuer(profile)
    body = AchievementIn(
        issuerDid=did,
        name="Applied Data Protection",
        description="Apply GDPR in an SME.",
        criteria=CriteriaIn(narrative="Pass with 90%."),
        masteryThreshold=0.9,
    )
    achievement = AchievementPublished(
        tenant=TENANT,
        issuer_did=did,
        achievement_id=ACHIEVEMENT_ID,
        revision=1,
        achievement=achievement_document(body, ACHIEVEMENT_ID),
        mastery_threshold=0.9,
        status="active",
    )
    await store.save_achievement(achievement)
    await replayed(client, PREFIX)
    issuance = Issuance(
        store=store,
        allocator=StatusAllocator(client, PREFIX, "https://status.example/lists"),
        signer=signer,
        publisher=published,
        topic="credentials.issued",
        outcomes=Outcomes.create(CollectorRegistry()),
        require_caught_up=gate.require_caught_up,
        accreditations=Accreditations(
            store=store,
            signer=signer,
            publisher=published,
            topic="issuer.profiles",
            operator_name="Ministry of Skills",
            operator_url="https://platform.example",
            allocator=StatusAllocator(client, PREFIX, "https://status.example/lists"),
            endorsements_topic="issuer.endorsements",
        ),
        learner_keys=LearnerKeys(bytes(32)),
    )
    yield IssuerWorld(client, issuance, published, gate, [profile, achievement])
    await client.aclose()


def award(
    score: float = 95, learner: str = "did:example:learner", achievement: str = ACHIEVEMENT_ID
) -> AwardIn:
    return AwardIn(achievementId=achievement, recipient=RecipientIn(id=learner), score=score)


async def test_no_award_while_the_state_is_rebuilding(issuer: IssuerWorld) -> None:
    issuer.gate.open = False
    with pytest.raises(Rebuilding):
        await issuer.issuance.award(TENANT, award(), "k1")
    assert issuer.published.events == []


async def test_a_key_changed_while_signing_hands_out_no_credential(issuer: IssuerWorld) -> None:
    """The issuer's key is rotated out (or marked compromised) while an award
    is signed with it: the award is refused for now (503, retried), never
    answered with a credential that would not verify; the retry signs anew."""
    store, signer = issuer.issuance.store, issuer.issuance.signer
    profile = next(e for e in issuer.history if isinstance(e, IssuerProfilePublished))
    sign_many = signer.sign_many

    async def rotated_meanwhile(credentials: Any, key: Any) -> Any:
        signed = await sign_many(credentials, key)
        new_key, _, _ = await signer.create_identity(TENANT)
        await store.save_issuer(msgspec.structs.replace(profile, signing_key_id=new_key))
        return signed

    signer.sign_many = rotated_meanwhile  # type: ignore[method-assign]
    with pytest.raises(SigningKeyChanged):
        await issuer.issuance.award(TENANT, award(), "k1")
    assert issuer.published.of(CredentialIssued) == []
    signer.sign_many = sign_many  # type: ignore[method-assign]
    event, made = await issuer.issuance.award(TENANT, award(), "k1")
    assert made and issuer.published.of(CredentialIssued) == [event]


async def test_below_the_threshold_takes_no_status_entry(issuer: IssuerWorld) -> None:
    with pytest.raises(BelowThreshold):
        await issuer.issuance.award(TENANT, award(score=89.99), None)
    assert issuer.published.events == []
    assert [key async for key in issuer.redis.scan_iter(match="issuer:status-alloc:*")] == []


async def test_a_wiped_redis_hands_out_no_index_until_replayed(issuer: IssuerWorld) -> None:
    """Invariant 1 across a wipe: refuse (503) until the history is replayed
    by the real handler, then never reuse an index the history holds."""
    first = [await issuer.issuance.award(TENANT, award(), None) for _ in range(20)]
    await issuer.redis.flushall()
    with pytest.raises(Rebuilding):
        await issuer.issuance.award(TENANT, award(), None)
    offsets = RedisOffsetStore(issuer.redis, PREFIX)
    assert await offsets.open([]) is True  # a new generation
    handle = on_issuer_event(issuer.issuance.store, issuer.issuance.allocator)
    for event in [*issuer.history, *issuer.published.events]:
        await handle(event, None)  # type: ignore[arg-type]
    with pytest.raises(Rebuilding):  # applied, but not yet marked caught up
        await issuer.issuance.award(TENANT, award(), None)
    await offsets.replayed()
    later = [await issuer.issuance.award(TENANT, award(), None) for _ in range(200)]
    taken = {(e.list_id, e.index) for event, _ in first for e in event.status_entries}
    fresh = {(e.list_id, e.index) for event, _ in later for e in event.status_entries}
    assert len(fresh) == 400 and not taken & fresh


async def test_claims_made_before_a_wipe_are_never_published(issuer: IssuerWorld) -> None:
    allocator = issuer.issuance.allocator
    _, generation = await allocator.entries("did:key:zX")
    await allocator.still_current(generation)
    await issuer.redis.flushall()
    await replayed(issuer.redis, PREFIX)  # even once a new generation caught up
    with pytest.raises(Rebuilding):
        await allocator.still_current(generation)


async def test_every_index_is_unique(issuer: IssuerWorld) -> None:
    events = await asyncio.gather(
        *(issuer.issuance.award(TENANT, award(learner=f"did:example:{n}"), None) for n in range(60))
    )
    entries = {
        (entry.list_id, entry.index) for event, _ in events for entry in event.status_entries
    }
    assert len(entries) == 120


async def test_a_retry_gets_the_first_credential(issuer: IssuerWorld) -> None:
    first, created = await issuer.issuance.award(TENANT, award(), "key-1")
    again, created_again = await issuer.issuance.award(TENANT, award(), "key-1")
    assert (created, created_again) == (True, False)
    assert again.credential_id == first.credential_id
    assert len(issuer.published.of(CredentialIssued)) == 1
    with pytest.raises(IdempotencyKeyReused):
        await issuer.issuance.award(TENANT, award(score=99), "key-1")
    assert len(issuer.published.of(CredentialIssued)) == 1


async def test_a_retry_meeting_a_wipe_between_its_reads_answers_503(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key's first use read, then Redis wiped before its credential is:
    a 503 to retry, not a broken invariant (500)."""
    await issuer.issuance.award(TENANT, award(), "key-1")
    store = issuer.issuance.store
    read = store.credentials

    async def wiped_first(ids: list[str]) -> dict[str, CredentialIssued]:
        await issuer.redis.flushall()
        return await read(ids)

    monkeypatch.setattr(store, "credentials", wiped_first)
    with pytest.raises(Rebuilding):
        await issuer.issuance.award(TENANT, award(), "key-1")


async def test_a_key_naming_a_record_wiped_since_answers_503() -> None:
    """`IdempotencyRecords.once` for every write with a key (catalog,
    endorsements, identities, VC-API, bulk jobs, stacking): a retry whose
    record vanished with a wipe after its key was read is a 503; while the
    state is complete, a missing record is a broken invariant, not a 503."""
    client = fakeredis.FakeAsyncRedis()
    records = IdempotencyRecords(client, PREFIX, "things")
    await replayed(client, PREFIX)

    async def create(key: str | None, request: str | None) -> str:
        await records.remember(TENANT, str(key), str(request), "thing-1")
        return "thing-1"

    async def wiped(answer: str) -> str | None:
        await client.flushall()
        return None

    async def lost(answer: str) -> str | None:
        return None

    assert await records.once(TENANT, "k", "req", create, wiped) == ("thing-1", True)
    with pytest.raises(RuntimeError):
        await records.once(TENANT, "k", "req", create, lost)
    with pytest.raises(Rebuilding):
        await records.once(TENANT, "k", "req", create, wiped)
    await client.aclose()


async def test_concurrent_retries_make_one_credential(issuer: IssuerWorld) -> None:
    results = await asyncio.gather(*(issuer.issuance.award(TENANT, award(), "k") for _ in range(8)))
    assert len({event.credential_id for event, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(issuer.published.of(CredentialIssued)) == 1


async def test_a_crashed_holder_blocks_a_retry_only_for_its_lease(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 4: the lease of a request that died runs out in LEASE_SECONDS."""
    monkeypatch.setattr(shared.idempotency, "LEASE_SECONDS", 0.5)
    name = redis_key(PREFIX, IDEMPOTENCY_LOCK, "awards", TENANT, "k-crash")
    crashed = issuer.redis.lock(name, timeout=0.5)
    assert await crashed.acquire()  # and never released: the process died
    started = time.monotonic()
    _event, created = await issuer.issuance.award(TENANT, award(), "k-crash")
    waited = time.monotonic() - started
    assert created and 0.2 < waited < 3.0


async def test_a_long_award_keeps_its_lease(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is renewed while the work runs: a concurrent retry waits for
    the first answer instead of making a second credential."""
    monkeypatch.setattr(shared.idempotency, "LEASE_SECONDS", 0.3)
    records = issuer.issuance.store.award_idempotency
    async with records.claim(TENANT, "slow", "fp") as earlier:
        assert earlier is None
        retry = asyncio.create_task(issuer.issuance.award(TENANT, award(), "slow"))
        await asyncio.sleep(1.0)  # three leases long
        assert not retry.done()
        await records.remember(TENANT, "slow", "fp", "urn:uuid:first")
    with pytest.raises(IdempotencyKeyReused):  # it saw the first use, not a free key
        await retry


async def test_a_batch_of_awards_gives_each_item_its_own_outcome(issuer: IssuerWorld) -> None:
    """`award_many`: a fresh award, a replay, a key reused for another body,
    a refusal and an award without a key, in one batch: each gets what it
    would get alone."""
    first, _ = await issuer.issuance.award(TENANT, award(learner="did:example:a"), "k-a")
    second, _ = await issuer.issuance.award(TENANT, award(learner="did:example:r"), "k-r")
    outcomes = await issuer.issuance.award_many(
        TENANT,
        [
            (award(learner="did:example:b"), "k-b"),
            (award(learner="did:example:a"), "k-a"),  # a retry
            (award(learner="did:example:other"), "k-r"),  # the key, another body
            (award(score=50), "k-low"),
            (award(learner="did:example:d"), None),
        ],
    )
    fresh, replay, reused, low, keyless = outcomes
    assert not isinstance(fresh, Exception) and fresh[1] is True
    assert not isinstance(replay, Exception) and replay == (first, False)
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(low, BelowThreshold)
    assert not isinstance(keyless, Exception) and keyless[1] is True
    issued = issuer.published.of(CredentialIssued)
    assert len(issued) == 4  # two before, two in the batch
    entries = [(e.list_id, e.index) for event in issued for e in event.status_entries]  # type: ignore[attr-defined]
    assert len(set(entries)) == len(entries) == 8
    ids = [event.credential_id for event in issued]  # type: ignore[attr-defined]
    assert set(await issuer.issuance.store.credentials(ids)) == set(ids)
    again, created = await issuer.issuance.award(TENANT, award(learner="did:example:b"), "k-b")
    assert not created and again == fresh[0]
    assert second.credential_id != fresh[0].credential_id


async def test_a_batch_award_kafka_refused_is_not_recorded(issuer: IssuerWorld) -> None:
    """One credential of a batch that Kafka does not acknowledge gets the
    error; the others are issued; its key stays free, so a retry issues it."""
    published = RefusingKafka(refuse=lambda event: event.idempotency_key == "k-2")
    issuance = dataclasses.replace(issuer.issuance, publisher=published)
    items = [(award(learner=f"did:example:{n}"), f"k-{n}") for n in range(4)]
    outcomes = await issuance.award_many(TENANT, items)
    assert isinstance(outcomes[2], Unavailable)
    assert all(not isinstance(o, Exception) and o[1] for i, o in enumerate(outcomes) if i != 2)
    assert len(published.of(CredentialIssued)) == 3
    again, created = await issuer.issuance.award(TENANT, items[2][0], "k-2")
    assert created and again.idempotency_key == "k-2"


class RefusesOneLearner(Signer):
    """A signer whose JSON-LD safe mode refuses the credentials of `learner`
    (as it refuses a relative IRI) and signs the others."""

    def __init__(self, keystore: FileKeyStore, learner: str) -> None:
        super().__init__(keystore)
        self.learner = learner
        self.batches: list[int] = []

    async def sign_many(self, credentials: list[dict[str, Any]], key: SigningKey) -> list[Signed]:
        self.batches.append(len(credentials))
        if any(c["credentialSubject"].get("id") == self.learner for c in credentials):
            raise ContextError("relative_iri", "refused", "credentialSubject.id")
        return await super().sign_many(credentials, key)


async def test_one_unsignable_award_fails_only_itself(issuer: IssuerWorld, tmp_path: Path) -> None:
    """A credential the signer refuses (what the checks before should have
    caught) is a 422 for its own award; the others of its batch are issued."""
    signer = RefusesOneLearner(FileKeyStore(tmp_path, bytes(range(32))), "did:example:bad")
    issuance = dataclasses.replace(issuer.issuance, signer=signer)
    items = [(award(learner=f"did:example:{n}"), f"k-{n}") for n in ("a", "bad", "c")]
    first, bad, third = await issuance.award_many(TENANT, items)
    assert isinstance(bad, Unsignable) and "relative_iri" in bad.detail
    assert not isinstance(first, Exception) and not isinstance(third, Exception)
    assert signer.batches == [3, 1, 1, 1]  # together, then one by one
    assert len(issuer.published.of(CredentialIssued)) == 2
    again, created = await issuer.issuance.award(TENANT, award(learner="did:example:c"), "k-c")
    assert not created and again == third[0]


async def test_leases_are_taken_all_at_once_or_not_at_all(issuer: IssuerWorld) -> None:
    async with shared.idempotency.lease(issuer.redis, "held"):
        with pytest.raises(Conflict):
            async with shared.idempotency.leases(issuer.redis, ["free", "held"], wait=0.3):
                pass
        assert not await issuer.redis.exists("free")  # not sat on while waiting
        async with shared.idempotency.leases(issuer.redis, ["free", "other"], wait=0.3):
            assert await issuer.redis.exists("free") and await issuer.redis.exists("other")
    assert not await issuer.redis.exists("held", "free", "other")  # all given back


class LosesCancellations:
    """A Redis client whose lease renewals swallow a cancellation that
    arrives during the call, as redis-py was seen to do under load."""

    def __init__(self, client: fakeredis.FakeAsyncRedis) -> None:
        self._client = client
        self.renewals = 0

    def register_script(self, script: str) -> Callable[..., Any]:
        if script != shared.idempotency.RENEW_LEASES:
            return self._client.register_script(script)

        async def renew(**_: Any) -> None:
            self.renewals += 1
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.2)  # the call under way when the holder ends

        return renew


async def test_leases_end_even_when_a_renewal_loses_its_cancellation(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renewal under way when the work ends may never see its cancellation;
    giving the leases back must not wait for it, and it renews no more."""
    monkeypatch.setattr(shared.idempotency, "LEASE_SECONDS", 0.3)
    client = LosesCancellations(issuer.redis)
    async with asyncio.timeout(2):
        async with shared.idempotency.leases(client, ["a", "b"]):  # type: ignore[arg-type]
            await asyncio.sleep(0.15)  # the first renewal is under way
        assert client.renewals == 1
    assert not await issuer.redis.exists("a", "b")
    await asyncio.sleep(0.5)  # several renewal periods
    assert client.renewals == 1


async def test_the_replica_skips_credentials_saved_whole_by_their_award(
    issuer: IssuerWorld,
) -> None:
    """A credential its award saved is not written again by the replica, but
    its status entries are still marked taken; one never saved here (another
    instance's) is saved whole."""
    store, allocator = issuer.issuance.store, issuer.issuance.allocator
    mine, _ = await issuer.issuance.award(TENANT, award(learner="did:example:m"), "k-m")
    theirs, _ = await issuer.issuance.award(TENANT, award(learner="did:example:t"), "k-t")
    credentials = redis_key(PREFIX, CREDENTIALS)
    await issuer.redis.hdel(credentials, theirs.credential_id)
    await issuer.redis.hset(credentials, mine.credential_id, b"left as it is")
    for entry in mine.status_entries:  # as if lost with a wipe between claim and save
        await issuer.redis.setbit(redis_key(PREFIX, STATUS_ALLOC, entry.list_id), entry.index, 0)
    apply = on_credentials_issued(store, allocator)
    await apply([mine, theirs])
    assert await issuer.redis.hget(credentials, mine.credential_id) == b"left as it is"
    assert await store.credential(theirs.credential_id) == theirs
    for entry in mine.status_entries:
        bitmap = redis_key(PREFIX, STATUS_ALLOC, entry.list_id)
        assert await issuer.redis.getbit(bitmap, entry.index) == 1


async def test_status_entries_for_a_batch_are_distinct_across_full_lists(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.issuer.allocation, "FILL_LIMIT", 10)
    allocator = issuer.issuance.allocator
    batch, generation = await allocator.entries_for_many("did:key:zB", 25)
    await allocator.still_current(generation)
    assert all([e.purpose for e in each] == ["revocation", "suspension"] for each in batch)
    taken = [(e.list_id, e.index) for each in batch for e in each]
    assert len(set(taken)) == 50
    lists = Counter(list_id for list_id, _ in taken)
    assert max(lists.values()) <= 10 and len(lists) >= 6  # full lists were left for new ones


async def test_concurrent_single_awards_are_taken_together(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The award queue: awards waiting meanwhile go through `award_many`
    together, one tenant and distinct keys per batch; a repeated key waits
    for a later batch and gets the first answer."""
    sizes: list[int] = []
    award_many = Issuance.award_many

    async def counted(self: Issuance, tenant: str, items: Any, **kw: Any) -> Any:
        sizes.append(len(items))
        return await award_many(self, tenant, items, **kw)

    monkeypatch.setattr(Issuance, "award_many", counted)
    queue = AwardQueue(issuer.issuance, lanes=1, most=16)
    lanes = asyncio.create_task(queue.run_forever())
    try:
        await queue.award(TENANT, award(learner="did:example:first"), None)  # seen from now on
        sizes.clear()
        asks = [(TENANT, award(learner=f"did:example:{n}"), f"q-{n}") for n in range(10)]
        asks += [(TENANT, award(learner="did:example:0"), "q-0"), ("other", award(), "q-x")]
        outcomes = await asyncio.gather(
            *(queue.award(*ask) for ask in asks), return_exceptions=True
        )
    finally:
        lanes.cancel()
    made = [o for o in outcomes[:10] if not isinstance(o, BaseException)]
    assert len(made) == 10 and all(created for _, created in made)
    assert outcomes[10] == (made[0][0], False)  # the repeated key: the first answer
    assert isinstance(outcomes[11], NotFound)  # the other tenant's batch, refused alone
    assert len(issuer.published.of(CredentialIssued)) == 11
    assert sizes == [10, 1, 1]  # together; then the repeated key; then the other tenant


@pytest.mark.parametrize(
    ("tenant", "waiting"),
    [
        ("other", lambda n: award(achievement=f"urn:x:{n}")),  # another tenant's, unknown
        (TENANT, lambda n: msgspec.structs.replace(award(), renews=f"urn:x:{n}")),
    ],
    ids=["unknown-achievement", "renewal-of-an-unknown-credential"],
)
async def test_what_an_award_waits_for_holds_up_no_lane(
    issuer: IssuerWorld, tenant: str, waiting: Callable[[int], AwardIn]
) -> None:
    """Each request waits in its own task for what may be on its way (an
    achievement just defined, the credential a renewal names): a burst of
    awards naming ones that never come leaves the one lane free."""
    queue = AwardQueue(issuer.issuance, lanes=1, most=16)
    lanes = asyncio.create_task(queue.run_forever())
    try:
        await queue.award(TENANT, award(learner="did:example:first"), None)  # the achievement seen
        stuck = [asyncio.create_task(queue.award(tenant, waiting(n), None)) for n in range(16)]
        await asyncio.sleep(0.1)
        _, created = await asyncio.wait_for(queue.award(TENANT, award(), None), timeout=2)
        assert created and not any(task.done() for task in stuck)
        refused = await asyncio.gather(*stuck, return_exceptions=True)
    finally:
        lanes.cancel()
    assert all(isinstance(error, NotFound) for error in refused), refused


async def test_a_batch_of_inbound_assessments_is_awarded_together(issuer: IssuerWorld) -> None:
    """`on_assessments`: the plain awards of a fetched batch go through
    `award_many`; a refusal, a formative assessment, a malformed learner and
    a key repeated in the batch are left to the one-by-one handler."""

    events = [passed(n) for n in range(6)]
    events += [
        passed(6, score=10),  # below the threshold
        passed(7, formative=True),
        passed(8, learner={"id": 42}),  # malformed
        passed(9, key="lms-0"),  # the key of the first, again
    ]
    records = [SimpleNamespace(offset=n) for n in range(len(events))]
    handle = on_assessments(issuer.issuance, _caught_up)
    left = await handle(list(zip(events, records, strict=True)))  # type: ignore[arg-type]
    assert [record.offset for record in left] == [6, 7, 8, 9]
    issued = issuer.published.of(CredentialIssued)
    assert sorted(e.idempotency_key for e in issued) == [f"lms-{n}" for n in range(6)]  # type: ignore[attr-defined]
    again = await handle(list(zip(events[:6], records[:6], strict=True)))  # type: ignore[arg-type]
    assert list(again) == [] and len(issuer.published.of(CredentialIssued)) == 6  # replays


async def test_a_batch_of_inbound_assessments_with_kafka_down_loses_nothing(
    issuer: IssuerWorld,
) -> None:
    """Kafka refusing the batch's credentials: every record is left to the
    one-by-one handler (which retries it until Kafka is back), none stored."""
    issuance = dataclasses.replace(issuer.issuance, publisher=RefusingKafka())
    events = [passed(n) for n in range(4)]
    records = [SimpleNamespace(offset=n) for n in range(len(events))]
    left = await on_assessments(issuance, _caught_up)(list(zip(events, records, strict=True)))  # type: ignore[arg-type]
    assert [record.offset for record in left] == [0, 1, 2, 3]
    assert await issuer.redis.hlen(redis_key(PREFIX, CREDENTIALS)) == 0
    back = await on_assessments(issuer.issuance, _caught_up)(
        list(zip(events, records, strict=True))
    )  # type: ignore[arg-type]
    assert list(back) == [] and len(issuer.published.of(CredentialIssued)) == 4


async def test_a_record_the_batch_refused_is_dead_lettered_without_a_second_try(
    issuer: IssuerWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-by-one pass raises the batch's refusal for the consumer to
    dead-letter: awarded again, an unknown achievement was waited for again
    (3 s per record, one after another, for every tenant's inbound awards)."""
    refused = RefusedInBatch()
    events = [passed(0), passed(1, score=10), passed(2, score=20)]
    records = [SimpleNamespace(topic="t", partition=0, offset=n) for n in range(3)]
    batch = on_assessments(issuer.issuance, _caught_up, refused)
    left = await batch(list(zip(events, records, strict=True)))  # type: ignore[arg-type]
    assert [record.offset for record in left] == [1, 2]

    async def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("awarded a second time")

    monkeypatch.setattr(Issuance, "award", never)
    one = on_assessment(issuer.issuance, _caught_up, None, refused)
    for event, record in zip(events[1:], left, strict=True):
        with pytest.raises(BelowThreshold):
            await one(event, record)  # type: ignore[arg-type]
    assert refused.errors == {}


def passed(n: int, *, key: str | None = None, **kw: Any) -> AssessmentPassed:
    """An assessment of the test achievement on Kafka (learner n, key `lms-n`)."""
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "achievement_id": ACHIEVEMENT_ID,
        "learner": {"id": f"did:example:{n}"},
        "score": 95,
        "max_score": 100,
        "idempotency_key": key or f"lms-{n}",
        **kw,
    }
    return AssessmentPassed(**fields)


@dataclass
class RefusingKafka(Recorded):
    """Kafka not acknowledging the credentials `refuse` picks (all by default)."""

    refuse: Callable[[CredentialIssued], bool] = lambda event: True

    async def publish(self, topic: str, event: Event, *, key: str) -> Published:
        if isinstance(event, CredentialIssued) and self.refuse(event):
            raise Unavailable("Kafka is not connected yet")
        return await super().publish(topic, event, key=key)


async def _caught_up() -> None:
    return None


# -- status changes ------------------------------------------------------------


@dataclass
class RevocationWorld:
    redis: fakeredis.FakeAsyncRedis
    changes: StatusChanges
    published: Recorded
    gate: Gate


@pytest.fixture
async def revocation(tmp_path: Path) -> AsyncIterator[RevocationWorld]:
    client = fakeredis.FakeAsyncRedis()
    prefix, published, gate = "revocation", Recorded(), Gate()
    keystore = FileKeyStore(tmp_path, bytes(range(32)))
    signer = Signer(keystore)
    key_id, did, document = await signer.create_identity(TENANT)
    issuer_keys = IssuerKeys(client, prefix, keystore)
    await issuer_keys.remember(
        IssuerProfilePublished(
            tenant=TENANT,
            did=did,
            profile=build_profile(did, "Example Polytechnic"),
            did_document=document,
            signing_key_id=key_id,
        )
    )
    lists = StatusListStore(client, prefix)
    publishing = ListPublisher(
        lists=lists,
        signed=SignedLists(client, prefix),
        issuer_keys=issuer_keys,
        publisher=published,
        topic="status.lists",
        status_base_url="https://status.example/lists",
        ttl_ms=60_000,
    )
    for purpose in ("revocation", "suspension"):
        info = ListInfo(f"l-{purpose}", f"https://status.example/lists/l-{purpose}", did, purpose)
        await publishing.track(info)
    await lists.remember_credential(
        CredentialRecord(
            "urn:uuid:c1",
            TENANT,
            did,
            tuple(
                _entry(purpose, index) for purpose, index in (("revocation", 7), ("suspension", 9))
            ),
        )
    )
    await replayed(client, prefix)
    changes = StatusChanges(
        lists=lists,
        keys=IdempotencyRecords(client, prefix, "status"),
        publishing=publishing,
        publisher=published,
        topic="status.changes",
        outcomes=Outcomes.create(CollectorRegistry()),
        require_caught_up=gate.require_caught_up,
        history=StatusHistory(client, prefix),
    )
    yield RevocationWorld(client, changes, published, gate)
    await client.aclose()


def _entry(purpose: str, index: int) -> StatusEntryRef:
    return StatusEntryRef(
        purpose=purpose,
        list_id=f"l-{purpose}",
        list_url=f"https://status.example/lists/l-{purpose}",
        index=index,
    )


async def test_revocation_is_permanent(revocation: RevocationWorld) -> None:
    assert await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", True, None)
    assert not await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", True, None)
    with pytest.raises(RevocationIsPermanent):
        await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", False, None)
    assert len(revocation.published.of(StatusChanged)) == 1


async def test_lifting_the_suspension_of_a_revoked_credential_reinstates_nothing(
    revocation: RevocationWorld,
) -> None:
    """Suspended, then revoked: lifting the suspension is refused (no
    `reinstated` in its history, nor a webhook saying so)."""
    changes = revocation.changes
    assert await changes.change(TENANT, "urn:uuid:c1", "suspension", True, None)
    assert await changes.change(TENANT, "urn:uuid:c1", "revocation", True, None)
    with pytest.raises(RevocationIsPermanent):
        await changes.change(TENANT, "urn:uuid:c1", "suspension", False, None)
    assert await changes.lists.get_bit("l-suspension", 9) == 1

    assert len(revocation.published.of(StatusChanged)) == 2


@dataclass
class SlowKafka(Recorded):
    """Kafka holding back its acknowledgement of what `hold` picks until released."""

    hold: Callable[[Event], bool] = lambda event: False
    arrived: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    released: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def publish(self, topic: str, event: Event, *, key: str) -> Published:
        if self.hold(event):
            self.arrived.set()
            await self.released.wait()
        return await super().publish(topic, event, key=key)


async def test_a_lift_racing_a_revocation_reinstates_nothing(revocation: RevocationWorld) -> None:
    """A lift that starts while the revocation is on its way to Kafka waits for
    it, then is refused: it never reads 'not revoked' a moment too early."""
    assert await revocation.changes.change(TENANT, "urn:uuid:c1", "suspension", True, None)
    kafka = SlowKafka(hold=lambda event: getattr(event, "purpose", None) == "revocation")
    changes = dataclasses.replace(revocation.changes, publisher=kafka)
    revoking = asyncio.create_task(changes.change(TENANT, "urn:uuid:c1", "revocation", True, None))
    await kafka.arrived.wait()
    lifting = asyncio.create_task(changes.change(TENANT, "urn:uuid:c1", "suspension", False, None))
    await asyncio.sleep(0.2)  # time enough for a lift that does not wait to finish
    kafka.released.set()
    assert await revoking
    with pytest.raises(RevocationIsPermanent):
        await lifting
    assert await changes.lists.get_bit("l-suspension", 9) == 1
    assert [event.purpose for event in kafka.of(StatusChanged)] == ["revocation"]


async def test_a_retried_suspension_does_not_undo_a_later_lift(revocation: RevocationWorld) -> None:
    changes = revocation.changes
    assert await changes.change(TENANT, "urn:uuid:c1", "suspension", True, "s1")
    assert await changes.change(TENANT, "urn:uuid:c1", "suspension", False, "s2")
    assert await changes.change(TENANT, "urn:uuid:c1", "suspension", True, "s1")  # the first answer
    assert await revocation.changes.lists.get_bit("l-suspension", 9) == 0  # still lifted
    assert len(revocation.published.of(StatusChanged)) == 2


async def test_a_change_with_a_reason_is_audited(revocation: RevocationWorld) -> None:
    who = Requester(TENANT, "token:sha256:abc", "req-1")
    reason = StatusReason(code="academic_misconduct", text="copied the project", public=False)
    assert await revocation.changes.change(who, "urn:uuid:c1", "suspension", True, "k1", reason)
    assert await revocation.changes.change(who, "urn:uuid:c1", "suspension", False, None)
    (event, _) = revocation.published.of(StatusChanged)
    assert (event.reason_code, event.reason, event.reason_public) == (
        "academic_misconduct",
        "copied the project",
        False,
    )
    assert (event.actor, event.request_id) == ("token:sha256:abc", "req-1")
    trail = await revocation.changes.audit_trail(TENANT, "urn:uuid:c1")
    assert [e["action"] for e in trail] == ["suspended", "reinstated"]
    assert trail[0]["reason"] == {
        "code": "academic_misconduct",
        "text": "copied the project",
        "public": False,
    }
    assert trail[0]["requestId"] == "req-1" and trail[1]["reason"] is None
    with pytest.raises(CredentialNotFound):  # another tenant's credential
        await revocation.changes.audit_trail("other-tenant", "urn:uuid:c1")


async def test_no_status_change_while_rebuilding(revocation: RevocationWorld) -> None:
    revocation.gate.open = False
    with pytest.raises(Rebuilding):
        await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", True, "r1")
    revocation.gate.open = True
    await revocation.redis.delete("revocation:replayed")  # a wipe the gate has not seen yet
    with pytest.raises(Rebuilding):  # the bit read refuses atomically
        await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", True, "r1")
    assert revocation.published.of(StatusChanged) == []


async def test_a_change_meeting_a_wipe_between_its_reads_answers_503(
    revocation: RevocationWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The credential read, then Redis wiped before its list is: a 503."""
    lists = revocation.changes.lists
    read = lists.list_info

    async def wiped_first(list_id: str) -> ListInfo | None:
        await revocation.redis.flushall()
        return await read(list_id)

    monkeypatch.setattr(lists, "list_info", wiped_first)
    with pytest.raises(Rebuilding):
        await revocation.changes.change(TENANT, "urn:uuid:c1", "revocation", True, "r1")
    assert revocation.published.of(StatusChanged) == []


async def test_a_credential_of_no_achievement_is_left_out_of_selections(
    revocation: RevocationWorld,
) -> None:
    """A VC-API credential that is no award (`achievement_id` empty) was a
    ValueError at its selection key, so the consumer dead-lettered it."""
    store = JobStore(revocation.redis, "revocation")
    generic = CredentialIssued(
        tenant=TENANT,
        credential_id="urn:uuid:generic-1",
        issuer_did="did:web:uni.example",
        achievement_id="",
        credential_jwt="x.y.z",
        status_entries=[],
    )
    await store.issued(generic)
    assert await revocation.redis.keys("revocation:credentials-by-achievement:*") == []


async def test_a_resumed_status_job_never_applies_an_item_twice(
    revocation: RevocationWorld,
) -> None:
    store = JobStore(revocation.redis, "revocation")
    jobs = StatusJobs(store, revocation.changes, revocation.published, "status.jobs")
    who = Requester(TENANT, "token:sha256:abc", "req-9")
    body = StatusJobIn(action="suspend", credentialIds=["urn:uuid:c1", "urn:uuid:nope"])
    view, created = await jobs.submit(who, body, "bulk-1")
    assert created and view["state"] == "queued" and view["progress"]["total"] == 2
    again, created = await jobs.submit(who, body, "bulk-1")
    assert not created and again["id"] == view["id"]

    item = "urn:uuid:c1"
    assert await revocation.changes.change(
        who, item, "suspension", True, item_key(view["id"], item)
    )
    # ...as if the instance died after the change, before writing the outcome:
    # the resumed job answers from the idempotency record, changing nothing.
    assert await jobs.run_pending() == 1
    done = await jobs.get(TENANT, view["id"])
    assert done["state"] == "finished"
    outcomes = {i["credentialId"]: i["outcome"] for i in done["items"]}
    assert outcomes[item] == "changed" and outcomes["urn:uuid:nope"].startswith("refused")
    assert len(revocation.published.of(StatusChanged)) == 1
    assert await jobs.run_pending() == 0  # finished: not run again
    with pytest.raises(NotFound):
        await jobs.get("other-tenant", view["id"])


async def test_a_status_jobs_unknown_ids_wait_out_one_deadline_together(
    revocation: RevocationWorld,
) -> None:
    """Ten ids no record was seen for cost one look-up deadline, not ten;
    another tenant's credential waits (and is refused) like a missing one."""
    deadline = 0.5
    changes = dataclasses.replace(revocation.changes, record_wait_seconds=deadline)
    jobs = StatusJobs(
        JobStore(revocation.redis, "revocation"), changes, revocation.published, "status.jobs"
    )
    unknown = [f"urn:uuid:unknown-{n}" for n in range(10)]
    for tenant, known in ((TENANT, "changed"), ("other-tenant", "refused")):
        body = StatusJobIn(action="suspend", credentialIds=[*unknown, "urn:uuid:c1"])
        view, _ = await jobs.submit(Requester(tenant), body, None)
        started = time.monotonic()
        assert await jobs.run_pending() == 1
        elapsed = time.monotonic() - started
        assert deadline <= elapsed < 3 * deadline, elapsed  # ten in turn: 10 deadlines
        outcomes = {
            i["credentialId"]: i["outcome"] for i in (await jobs.get(tenant, view["id"]))["items"]
        }
        assert outcomes.pop("urn:uuid:c1").startswith(known)
        assert all(o.startswith("refused: Credential not found") for o in outcomes.values())


async def test_a_status_job_key_answers_only_its_own_request(
    revocation: RevocationWorld,
) -> None:
    """The same Idempotency-Key with another body is a 422, also when both
    come at once: one job is recorded and the other request learns of it."""
    jobs = StatusJobs(
        JobStore(revocation.redis, "revocation"),
        revocation.changes,
        revocation.published,
        "status.jobs",
    )
    who = Requester(TENANT, "token:sha256:abc", "req-1")
    suspend = StatusJobIn(action="suspend", credentialIds=["urn:uuid:c1"])
    revoke = StatusJobIn(action="revoke", credentialIds=["urn:uuid:c2"])
    answers = await asyncio.gather(
        jobs.submit(who, suspend, "sj-race"),
        jobs.submit(who, revoke, "sj-race"),
        return_exceptions=True,
    )
    made = [a for a in answers if not isinstance(a, BaseException)]
    assert len(made) == 1 and made[0][1] is True
    assert sum(isinstance(a, IdempotencyKeyReused) for a in answers) == 1
    assert len(revocation.published.of(StatusJobRecorded)) == 1
    first = suspend if made[0][0]["action"] == "suspend" else revoke
    second = revoke if first is suspend else suspend
    again, created = await jobs.submit(who, first, "sj-race")
    assert not created and again["id"] == made[0][0]["id"]
    with pytest.raises(IdempotencyKeyReused):
        await jobs.submit(who, second, "sj-race")
