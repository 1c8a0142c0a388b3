"""Employer endorsements in the issuer: one identity per endorser, one
endorsement per Idempotency-Key, carried by later awards, and all of it
rebuilt from the events after a Redis wipe."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from openbadgeslib.ob3 import verify_endorsement_jwt

from services.issuer.consumers import on_issuer_event
from services.issuer.domain.errors import AchievementNotFound
from services.issuer.endorsing import EndorsementIn, EndorsementNotFound, Endorsing
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

    event, _ = await issuer.issuance.award(TENANT, award(), None)
    carried = event.credential_ldp["credentialSubject"]["achievement"]["endorsement"]
    assert sorted(e["id"] for e in carried) == sorted([first.endorsement_id, other.endorsement_id])


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
