"""The fault suite's checks catch what they look for (no Kafka or Redis here):
a pass in the fault table must mean the checks ran and found nothing."""

from __future__ import annotations

import time
from typing import Any

from shared.events import CredentialIssued, StatusChanged, StatusEntryRef
from tests.faults.checks import (
    FaultResult,
    check_collisions,
    check_idempotency,
    check_requests,
    check_status_changes,
)
from tests.faults.load import Award, Load, LoadPlan, Outcome, Revocation
from tests.faults.report import table


def issued(credential_id: str, key: str | None, *entries: tuple[str, int]) -> CredentialIssued:
    return CredentialIssued(
        tenant="t",
        credential_id=credential_id,
        issuer_did="did:key:z",
        achievement_id="a",
        credential_jwt="jwt",
        status_entries=[
            StatusEntryRef(purpose="revocation", list_id=list_id, list_url=f"u/{list_id}", index=i)
            for list_id, i in entries
        ],
        idempotency_key=key,
    )


def award(number: int, credential_id: str | None, status: int | None = 201) -> Award:
    body: Any = {"credentialId": credential_id, "jwt": "jwt"} if credential_id else None
    return Award(number, Outcome(f"k{number}", status=status, body=body, attempts=1))


def test_a_second_credential_for_a_key_is_caught() -> None:
    result = FaultResult("synthetic")
    events = [issued("c1", "k1", ("l", 1)), issued("c2", "k1", ("l", 2)), issued("c3", "k2")]
    by_key = check_idempotency(events, [award(1, "c1"), award(2, "c3")], result)
    assert result.second_credentials == 1
    assert by_key["k1"] == {"c1", "c2"}
    assert len(result.problems) == 1 and "k1" in result.problems[0]


def test_a_client_answer_not_on_the_topic_is_caught() -> None:
    result = FaultResult("synthetic")
    check_idempotency([issued("c1", "k1")], [award(1, "c9")], result)
    assert result.second_credentials == 0
    assert len(result.problems) == 1 and "c9" in result.problems[0]


def test_a_shared_status_entry_is_caught_once_per_entry() -> None:
    result = FaultResult("synthetic")
    events = [
        issued("c1", "k1", ("l", 7), ("s", 1)),
        issued("c2", "k2", ("l", 7), ("s", 2)),
        issued("c1", "k1", ("l", 7), ("s", 1)),  # the same event delivered twice: no collision
    ]
    check_collisions(events, result)
    assert result.index_collisions == 1
    assert "l#7 x2" in result.problems[0]


def test_a_second_status_change_for_a_key_is_caught() -> None:
    change = StatusChanged(
        tenant="t",
        list_id="l",
        list_url="u/l",
        issuer_did="did:key:z",
        purpose="revocation",
        index=1,
        value=1,
        credential_id="c1",
        idempotency_key="r1",
    )
    result = FaultResult("synthetic")
    check_status_changes([change, change], result)
    assert len(result.problems) == 1 and "r1 x2" in result.problems[0]


def test_requests_without_a_2xx_are_caught() -> None:
    no_stack: Any = None  # check_requests reads only the outcomes
    load = Load(no_stack, "a", LoadPlan(awards=3), "x", deadline=time.monotonic)
    load.awards = [award(1, "c1"), award(2, None, status=404), award(3, None, status=None)]
    load.revocations = [Revocation("c1", Outcome("r1", status=200, attempts=3, seconds=2.5))]
    result = FaultResult("synthetic")
    check_requests(load, result)
    assert result.unanswered == 2
    assert result.slowest_ack == 2.5
    assert "2 of 4 valid requests" in result.problems[0]


def test_the_table_shows_a_failure() -> None:
    failed = FaultResult("redis-flushall", acked=3, problems=["recovery: never"])
    rendered = table([FaultResult("issuer-kill9", acked=3, present=3, recovery=2.5), failed])
    rows = rendered.splitlines()
    assert rows[2].startswith("| issuer-kill9") and rows[2].rstrip().endswith("| pass   |")
    assert "| never " in rows[3] and rows[3].rstrip().endswith("| FAIL   |")
