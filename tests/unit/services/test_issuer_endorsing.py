"""Employer endorsements in the issuer: one identity per endorser, one
endorsement per Idempotency-Key, carried by later awards, and all of it
rebuilt from the events after a Redis wipe."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from openbadgeslib.ob3 import verify_endorsement_jwt

from services.issuer.consumers import on_issuer_event
from services.issuer.domain.errors import AchievementNotFound
from services.issuer.endorsing import EndorsementIn, EndorsementNotFound, Endorsing
from shared.endorsement_index import MAX_EMBEDDED_ENDORSEMENTS, current_endorsements
from shared.events import EndorsementPublished, IssuerProfilePublished
from tests.unit.services.test_application import (  # noqa: F401 (the fixture)
    ACHIEVEMENT_ID,
    PREFIX,
    TENANT,
    IssuerWorld,
    award,
    issuer,
    replayed,
)
from tests.unit.services.test_issuer_accreditation import _provider

CLAIM = "Logistics employers need this skill."


def endorsing(world: IssuerWorld) -> Endorsing:
    issuance = world.issuance
    return Endorsing(
        store=issuance.store,
        signer=issuance.signer,
        publisher=world.published,
        profiles_topic="issuer.profiles",
        topic="issuer.endorsements",
        require_caught_up=world.gate.require_caught_up,
    )


def _endorsers(world: IssuerWorld) -> list[IssuerProfilePublished]:
    return [
        e
        for e in world.published.events
        if isinstance(e, IssuerProfilePublished) and e.role == "endorser"
    ]


async def test_endorse_once_per_key_and_one_identity(issuer: IssuerWorld) -> None:  # noqa: F811
    use_case = endorsing(issuer)
    body = EndorsementIn(achievementId=ACHIEVEMENT_ID, claim=CLAIM)
    first, made = await use_case.endorse("Acme Logistics", body, "k1")
    again, made_again = await use_case.endorse("Acme Logistics", body, "k1")
    assert (made, made_again, again.endorsement_id) == (True, False, first.endorsement_id)
    other, _ = await use_case.endorse("Acme Logistics", body, "k2")
    assert other.endorsement_id != first.endorsement_id
    (identity,) = _endorsers(issuer)  # created once, for both
    checked = verify_endorsement_jwt(first.credential_jwt)  # openbadgeslib, independent
    assert (checked["issuer"], checked["endorses"]) == (identity.did, ACHIEVEMENT_ID)
    assert identity.tenant == "@endorser:Acme Logistics"
    assert first.credential_ldp["issuer"]["id"] == identity.did  # type: ignore[index]
    subject: Any = first.credential_ldp["credentialSubject"]
    assert subject == {
        "id": ACHIEVEMENT_ID,
        "type": ["EndorsementSubject"],
        "endorsementComment": CLAIM,
    }

    # The endorser's newer endorsement supersedes its first: only it is carried.
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    carried = event.credential_ldp["credentialSubject"]["achievement"]["endorsement"]
    assert [e["id"] for e in carried] == [other.endorsement_id]


async def test_an_unknown_achievement_cannot_be_endorsed(issuer: IssuerWorld) -> None:  # noqa: F811
    body = EndorsementIn(achievementId="https://catalog.example/achievements/none", claim=CLAIM)
    with pytest.raises(AchievementNotFound):
        await endorsing(issuer).endorse("Acme", body, None)


async def test_identities_and_endorsements_rebuild_from_the_events(issuer: IssuerWorld) -> None:  # noqa: F811
    await _provider(issuer)
    accredited, _ = await issuer.issuance.award(TENANT, award(), None)
    endorsement, _ = await endorsing(issuer).endorse(
        "Acme", EndorsementIn(achievementId=ACHIEVEMENT_ID, claim=CLAIM), "k1"
    )
    provider = await issuer.issuance.store.provider_of(issuer.history[0].did)  # type: ignore[attr-defined]
    history = [*issuer.history, provider, *issuer.published.events]
    await issuer.redis.flushall()
    handle = on_issuer_event(issuer.issuance.store, issuer.issuance.allocator)
    record = ConsumerRecord("t", 0, 0, 0, 0, None, None, None, 0, 0, [])
    for event in history:
        await handle(event, record)  # type: ignore[arg-type]
    store = issuer.issuance.store
    operator = accredited.credential_ldp["issuer"]["endorsement"][0]["issuer"]["id"]
    assert await store.operator_did() == operator
    assert await store.endorser_did("@endorser:Acme") == endorsement.endorser_did
    assert [e.endorsement_id for e in await store.endorsements.of_achievement(ACHIEVEMENT_ID)] == [
        endorsement.endorsement_id
    ]
    assert isinstance(endorsement, EndorsementPublished)


async def test_only_its_endorser_withdraws_it_once_per_key(issuer: IssuerWorld) -> None:  # noqa: F811
    use_case = endorsing(issuer)
    body = EndorsementIn(achievementId=ACHIEVEMENT_ID, claim=CLAIM)
    made, _ = await use_case.endorse("Acme", body, "k1")
    with pytest.raises(EndorsementNotFound):
        await use_case.withdraw("Other Corp", made.endorsement_id, None)
    withdrawn, fresh = await use_case.withdraw("Acme", made.endorsement_id, "w1")
    again, fresh_again = await use_case.withdraw("Acme", made.endorsement_id, "w1")
    assert (withdrawn.status, fresh, fresh_again, again.status) == (
        "withdrawn",
        True,
        False,
        "withdrawn",
    )
    assert await issuer.issuance.store.endorsements.of_achievement(ACHIEVEMENT_ID) == []
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    assert "endorsement" not in event.credential_ldp["credentialSubject"]["achievement"]
    # the withdrawal's key survives a rebuild from the (compacted) record
    await issuer.redis.flushall()
    await issuer.issuance.store.save_endorsement(withdrawn)
    await replayed(issuer.redis, PREFIX)
    after, fresh = await use_case.withdraw("Acme", made.endorsement_id, "w1")
    assert (after.endorsement_id, fresh) == (made.endorsement_id, False)


def _endorsement(endorser: str, n: int) -> EndorsementPublished:
    return EndorsementPublished(
        endorser=endorser,
        endorser_did=f"did:key:{endorser}",
        endorsement_id=f"urn:uuid:{endorser}-{n:03d}",
        achievement_id=ACHIEVEMENT_ID,
        credential_ldp={},
        credential_jwt="",
        occurred_at=f"2025-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z",
    )


def test_one_endorsement_per_endorser_the_newest_at_most_the_limit() -> None:
    """The rule holds whatever order the endorsements are replayed in."""
    spam = [_endorsement("Spammer", n) for n in range(30)]  # one endorser, 30 times
    others = [_endorsement(f"Employer {n}", 100 + n) for n in range(25)]
    every = spam + others
    expected = [e.endorsement_id for e in reversed(others)][:MAX_EMBEDDED_ENDORSEMENTS]
    for _ in range(5):
        random.shuffle(every)
        assert [e.endorsement_id for e in current_endorsements(every)] == expected
    assert [e.endorsement_id for e in current_endorsements(spam, 5)] == [spam[-1].endorsement_id]
    assert current_endorsements(others, -1) == []


async def test_an_endorser_cannot_crowd_out_a_tenants_credentials(issuer: IssuerWorld) -> None:  # noqa: F811
    """21 endorsements by one endorser: the newest supersedes (withdraws) the
    others; even before those withdrawals are replayed, one is carried."""
    use_case = endorsing(issuer)
    body = EndorsementIn(achievementId=ACHIEVEMENT_ID, claim=CLAIM)
    made = [(await use_case.endorse("Spammer", body, None))[0] for _ in range(21)]
    store = issuer.issuance.store
    newest = made[-1].endorsement_id
    assert [e.endorsement_id for e in await store.endorsements.of_achievement(ACHIEVEMENT_ID)] == [
        newest
    ]
    for earlier in made[:-1]:
        found = await store.endorsements.get(earlier.endorsement_id)
        assert found is not None and found.status == "withdrawn"
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    carried = event.credential_ldp["credentialSubject"]["achievement"]["endorsement"]
    assert [e["id"] for e in carried] == [newest]

    # Replayed without the withdrawals (not yet read, or lost): still one.
    await issuer.redis.flushall()
    for event in made:
        await store.save_endorsement(event)
    assert [e.endorsement_id for e in await store.endorsements.of_achievement(ACHIEVEMENT_ID)] == [
        newest
    ]


async def test_a_credential_carries_no_more_endorsements_than_the_verifier_checks(
    issuer: IssuerWorld,  # noqa: F811
) -> None:
    """25 endorsers and the operator's accreditation: the newest endorsements
    that fit beside the accreditation, 20 in all."""
    await _provider(issuer)
    use_case = endorsing(issuer)
    body = EndorsementIn(achievementId=ACHIEVEMENT_ID, claim=CLAIM)
    made = [(await use_case.endorse(f"Employer {n}", body, None))[0] for n in range(25)]
    event, _ = await issuer.issuance.award(TENANT, award(), None)
    accredited = event.credential_ldp["issuer"]["endorsement"]
    carried = event.credential_ldp["credentialSubject"]["achievement"]["endorsement"]
    assert len(accredited) + len(carried) == MAX_EMBEDDED_ENDORSEMENTS
    newest = [e.endorsement_id for e in reversed(made)][: len(carried)]
    assert sorted(e["id"] for e in carried) == sorted(newest)
