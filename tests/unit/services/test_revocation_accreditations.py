"""A withdrawn accreditation revokes the operator's endorsements of it, in
whichever order the two topics' records arrive (a replay after a Redis wipe
reads them in any order), and touches no other endorsement."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fakeredis
import msgspec

from services.revocation.accreditations import AccreditationRevocations
from services.revocation.issuers import IssuerKeys
from services.revocation.lists import StatusListStore
from services.revocation.publishing import ListPublisher
from services.revocation.signed import SignedLists
from shared.events import (
    AccreditationScope,
    AccreditationStatusAssigned,
    ProviderAccreditation,
    ProviderPublished,
    StatusEntryRef,
)
from shared.keystore import FileKeyStore
from tests.unit.services.fakes import Recorded, replayed

OPERATOR = "did:key:zOperator"
PROVIDER = "https://catalog.example/providers/1"
LIST = "operator-revocation-0"


def assigned(accreditation_id: str, index: int) -> AccreditationStatusAssigned:
    return AccreditationStatusAssigned(
        endorsement_id=f"urn:uuid:{accreditation_id}-{index}",
        operator_did=OPERATOR,
        provider_id=PROVIDER,
        accreditation_id=accreditation_id,
        issuer_did="did:key:zIssuer",
        entry=StatusEntryRef(
            purpose="revocation",
            list_id=LIST,
            list_url=f"https://status.example/lists/{LIST}",
            index=index,
        ),
    )


def provider(revision: int, **statuses: str) -> ProviderPublished:
    return ProviderPublished(
        tenant="uni",
        provider_id=PROVIDER,
        revision=revision,
        legal_name="Example Polytechnic",
        country="IE",
        provider_type="college",
        issuer_dids=["did:key:zIssuer"],
        accreditations=[
            ProviderAccreditation(
                accreditation_id=name,
                quality_assurance_body="QA",
                scope=AccreditationScope(),
                valid_from="2026-01-01T00:00:00Z",
                recorded_by="operator",
                status=status,  # type: ignore[arg-type]
            )
            for name, status in statuses.items()
        ],
    )


async def world(tmp_path: Path) -> tuple[AccreditationRevocations, StatusListStore, Any]:
    client = fakeredis.FakeAsyncRedis()
    await replayed(client, "rev")
    lists = StatusListStore(client, "rev")
    publishing = ListPublisher(
        lists=lists,
        signed=SignedLists(client, "rev"),
        issuer_keys=IssuerKeys(client, "rev", FileKeyStore(tmp_path, os.urandom(32))),
        publisher=Recorded(),
        topic="status.lists",
        status_base_url="https://status.example/lists",
        ttl_ms=60_000,
    )
    return AccreditationRevocations(client, "rev", publishing), lists, publishing


async def test_a_withdrawal_revokes_its_endorsements_only(tmp_path: Path) -> None:
    revocations, lists, publishing = await world(tmp_path)
    await revocations.assigned(assigned("QA-1", 7))
    await revocations.assigned(assigned("QA-2", 9))
    await revocations.provider(provider(1, **{"QA-1": "active", "QA-2": "active"}))
    assert (await lists.get_bit(LIST, 7), await lists.get_bit(LIST, 9)) == (0, 0)
    await lists.clear_dirty(LIST)
    publishing.changed.clear()

    await revocations.provider(provider(2, **{"QA-1": "withdrawn", "QA-2": "suspended"}))
    assert (await lists.get_bit(LIST, 7), await lists.get_bit(LIST, 9)) == (1, 0)
    assert await lists.is_dirty(LIST) and publishing.changed.is_set()
    # Revocation is permanent: a later record (the catalog refuses to lift a
    # withdrawal, but a replay may bring older revisions) never clears it.
    await revocations.provider(provider(1, **{"QA-1": "active", "QA-2": "active"}))
    assert await lists.get_bit(LIST, 7) == 1


async def test_the_order_of_the_records_does_not_matter(tmp_path: Path) -> None:
    revocations, lists, _ = await world(tmp_path)
    await revocations.provider(provider(2, **{"QA-1": "withdrawn"}))
    await revocations.assigned(assigned("QA-1", 3))  # replayed after the withdrawal
    assert await lists.get_bit(LIST, 3) == 1


async def test_a_provider_status_or_a_suspension_sets_nothing(tmp_path: Path) -> None:
    """The operator may lift those again: our trust check reports them."""
    revocations, lists, _ = await world(tmp_path)
    await revocations.assigned(assigned("QA-1", 4))
    withdrawn = provider(2, **{"QA-1": "suspended"})
    await revocations.provider(msgspec.structs.replace(withdrawn, status="withdrawn"))
    assert await lists.get_bit(LIST, 4) == 0
