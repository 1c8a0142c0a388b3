"""Registrar search over the index replayed from Kafka events (fakeredis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import fakeredis
import msgspec
import pytest

from services.issuer.registry import LearnerQuery, RegistryIndex, SearchIn
from shared.errors import InvalidField
from shared.events import CredentialIssued, StatusChanged, StatusEntryRef
from shared.learner_keys import LearnerKeys

KEYS = LearnerKeys.from_master_key(b"k" * 32)


@pytest.fixture
async def index() -> AsyncIterator[RegistryIndex]:
    client = fakeredis.FakeAsyncRedis()
    yield RegistryIndex(client, "issuer", KEYS)
    await client.aclose()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def issued(
    n: int,
    *,
    tenant: str = "uni",
    achievement: str = "a1",
    revision: int = 1,
    learner: tuple[str, str] | None = None,
    subject: str | None = None,
    at: datetime,
    valid_until: datetime | None = None,
) -> CredentialIssued:
    return CredentialIssued(
        occurred_at=_stamp(at),
        tenant=tenant,
        credential_id=f"urn:uuid:c{n}",
        issuer_did="did:web:uni.example",
        achievement_id=achievement,
        achievement_revision=revision,
        credential_jwt="x.y.z",
        status_entries=[StatusEntryRef(purpose="revocation", list_id="l", list_url="u", index=n)],
        credential_ldp={"credentialSubject": {"id": subject}} if subject else {},
        learner_key=KEYS.of(*learner) if learner else None,
        valid_until=_stamp(valid_until) if valid_until else None,
    )


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["credentialId"] for item in items]


async def test_search_by_learner_achievement_revision_dates_and_status(
    index: RegistryIndex,
) -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    jane = ("emailAddress", "jane@uni.example")
    await index.issued(issued(1, learner=jane, at=day))
    await index.issued(issued(2, learner=jane, achievement="a2", at=day + timedelta(days=1)))
    await index.issued(issued(3, subject="did:example:bob", revision=2, at=day + timedelta(days=2)))
    await index.issued(issued(4, tenant="other", learner=jane, at=day))
    await index.issued(issued(1, learner=jane, at=day))  # a replay: no second entry
    await index.status_changed(
        StatusChanged(
            tenant="uni",
            list_id="l",
            list_url="u",
            issuer_did="d",
            purpose="revocation",
            index=2,
            value=1,
            credential_id="urn:uuid:c2",
        )
    )

    def query(**fields: object) -> SearchIn:
        return msgspec.convert(fields, SearchIn)

    # Emails match case-insensitively, through the keyed fingerprint only.
    page = await index.search("uni", query(learner={"email": " Jane@Uni.Example"}))
    assert ids(page.items) == ["urn:uuid:c1", "urn:uuid:c2"] and page.next_cursor is None
    assert [i["status"] for i in page.items] == ["active", "revoked"]
    page = await index.search("uni", query(learner={"id": "did:example:bob"}))
    assert ids(page.items) == ["urn:uuid:c3"]
    assert ids((await index.search("uni", query(revision=2))).items) == ["urn:uuid:c3"]
    assert ids((await index.search("uni", query(achievementId="a2"))).items) == ["urn:uuid:c2"]
    assert ids((await index.search("uni", query(status="revoked"))).items) == ["urn:uuid:c2"]
    window = query(issuedFrom="2026-01-01T12:00:00Z", issuedTo="2026-01-02T12:00:00Z")
    assert ids((await index.search("uni", window)).items) == ["urn:uuid:c2"]
    # Tenant isolation: the other tenant's award of the same learner is not found.
    assert ids((await index.search("other", query())).items) == ["urn:uuid:c4"]
    assert (await index.search("nobody", query(learner={"email": "jane@uni.example"}))).items == []
    # No plain email anywhere in Redis.
    for key in await index.client.keys("*"):
        assert b"jane" not in key.lower()
        dump = await index.client.dump(key)
        assert dump is None or b"jane" not in dump.lower()

    first = await index.search("uni", query(limit=2))
    assert ids(first.items) == ["urn:uuid:c1", "urn:uuid:c2"] and first.next_cursor
    rest = await index.search("uni", query(limit=2, cursor=first.next_cursor))
    assert ids(rest.items) == ["urn:uuid:c3"] and rest.next_cursor is None
    exported = [e async for e in index.export("uni", query())]
    assert ids(exported) == ["urn:uuid:c1", "urn:uuid:c2", "urn:uuid:c3"]


async def test_bad_queries_name_the_field(index: RegistryIndex) -> None:
    for bad, path in (
        (SearchIn(limit=0), "$.limit"),
        (SearchIn(cursor="x"), "$.cursor"),
        (SearchIn(learner=LearnerQuery(email="a@b", studentId="1")), "$.learner"),
    ):
        with pytest.raises(InvalidField) as raised:
            await index.search("uni", bad)
        assert raised.value.extra["errors"][0]["path"] == path


async def test_expiring_per_achievement(index: RegistryIndex) -> None:
    now = datetime.now(UTC)
    await index.issued(issued(1, at=now, valid_until=now + timedelta(days=5)))
    await index.issued(issued(2, at=now, achievement="a2", valid_until=now + timedelta(days=20)))
    await index.issued(issued(3, at=now, valid_until=now + timedelta(days=90)))
    await index.issued(issued(4, at=now))  # never expires
    report = await index.expiring("uni", 30)
    counts = {a["achievementId"]: a["count"] for a in report["achievements"]}
    assert counts == {"a1": 1, "a2": 1}
    report = await index.expiring("uni", 7)
    assert [a["achievementId"] for a in report["achievements"]] == ["a1"]


async def test_which_credential_renewed_another_is_rebuilt_from_the_events(
    index: RegistryIndex,
) -> None:
    """`renewed_by` (a credential is renewed once) is derived state: after a
    Redis wipe, replaying `credentials.issued` gives the same answer."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    old, renewal = (
        issued(1, at=now),
        msgspec.structs.replace(issued(2, at=now), renews="urn:uuid:c1"),
    )
    for event in (old, renewal):
        await index.issued(event)
    assert await index.renewed_by("urn:uuid:c1") == "urn:uuid:c2"
    assert await index.renewed_by("urn:uuid:c2") is None
    await index.client.flushall()
    assert await index.renewed_by("urn:uuid:c1") is None
    for event in (old, renewal):
        await index.issued(event)
    assert await index.renewed_by("urn:uuid:c1") == "urn:uuid:c2"
