"""Batch lines in, answer lines out (`services/verifier/batch.py`), with a
verifier on an in-memory replica; and the replica's revocation dates."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from services.verifier.batch import (
    BatchLimits,
    BatchTooLarge,
    BatchVerification,
    EmptyBatch,
    split_lines,
)
from services.verifier.endorsements import EndorsementMemo, endorsements_check
from services.verifier.intake import Intake
from services.verifier.replica import Replica
from services.verifier.verification import Verifier
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import DidResolver, did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.events import StatusChanged
from shared.web.safe_fetch import FetchPolicy, SafeFetcher
from tests.unit.credentials.vc_samples import ob3_credential
from tests.unit.services.test_verifier_endorsements import NoLists, _signed_by


def test_lines_are_counted_without_blanks_and_bounded() -> None:
    limits = BatchLimits(max_items=3)
    assert split_lines(b'"a"\n\n  \n"b"\r\n', limits) == [b'"a"', b'"b"\r']
    with pytest.raises(EmptyBatch):
        split_lines(b"\n \n", limits)
    with pytest.raises(BatchTooLarge) as caught:
        split_lines(b"1\n2\n3\n4", limits)
    assert caught.value.status == 413


async def test_every_line_gets_one_answer() -> None:
    key = generate_ed25519()
    jwt = sign_vc_jwt(ob3_credential(did_key_for(key.public_key)), key)
    fetcher = SafeFetcher(FetchPolicy(timeout_seconds=1))
    verdicts: list[str] = []
    batch = BatchVerification(
        Intake(fetcher),
        Verifier(Replica(), fetcher),
        BatchLimits(concurrency=3),
        verdicts.append,
    )
    lines = [
        json.dumps(jwt).encode(),
        b"{not json",
        json.dumps({"id": ["cv", 1], "jwt": jwt}).encode(),
        json.dumps({"id": "bad", "url": "https://127.0.0.1/x"}).encode(),
    ] * 5
    answers = [a async for a in batch.results(lines)]
    by_index = {a["index"]: a for a in answers}
    assert sorted(by_index) == list(range(20))
    for index, answer in by_index.items():
        kind = index % 4
        if kind in (0, 2):
            # A did:key issuer we do not know: genuine but not vouched for.
            assert answer["report"]["state"] == "untrusted", answer
            assert answer["report"]["credential"]["provider"]["name"] == "Example University"
        if kind == 1:
            assert answer["error"]["status"] == 422 and "id" not in answer
        if kind == 2:
            assert answer["id"] == ["cv", 1]
        if kind == 3:
            assert answer["id"] == "bad" and answer["error"]["status"] == 422
            assert answer["error"]["type"].endswith("url-not-fetched")
    assert verdicts == ["untrusted"] * 10


def test_the_replica_remembers_when_an_entry_was_set() -> None:
    replica = Replica()

    def change(value: int, at: str) -> StatusChanged:
        return StatusChanged(
            tenant="t",
            list_id="l",
            list_url="https://s.example/l",
            issuer_did="did:example:i",
            purpose="suspension",
            index=7,
            value=value,
            credential_id="c",
            occurred_at=at,
        )

    replica.apply(change(1, "2026-12-01T10:00:00Z"))
    assert replica.status_since("https://s.example/l", 7) == "2026-12-01T10:00:00Z"
    assert replica.status_since("https://s.example/l", 8) is None
    replica.apply(change(0, "2026-12-01T11:00:00Z"))  # suspension lifted
    assert replica.status_since("https://s.example/l", 7) is None
    replica.apply(change(1, "2026-12-01T12:00:00Z"))
    assert replica.status_since("https://s.example/l", 7) == "2026-12-01T12:00:00Z"


async def test_a_batch_memo_verifies_each_endorsement_once_and_still_catches_tampering() -> None:
    operator = generate_ed25519()
    issuer = "did:example:college"
    endorsement = _signed_by(operator, issuer, "Ministry of Skills")
    memo, replica, resolver = EndorsementMemo(), Replica(), CountingResolver()
    results = []
    for _ in range(5):
        credential = ob3_credential(issuer)
        credential["issuer"]["endorsement"] = [copy.deepcopy(endorsement)]
        results.append(await endorsements_check(credential, resolver, NoLists(), replica, memo))
    assert {r.outcome for r in results if r is not None} == {"ok"}
    assert resolver.lookups == 1  # verified once for the five credentials

    forged = copy.deepcopy(endorsement)
    forged["credentialSubject"]["endorsementComment"] = "Accredited for everything."
    credential = ob3_credential(issuer)
    credential["issuer"]["endorsement"] = [forged]
    result = await endorsements_check(credential, resolver, NoLists(), replica, memo)
    assert result is not None and result.code == "endorsement_invalid"
    # The same endorsement attached elsewhere is still refused (checked outside the memo).
    moved = ob3_credential("did:example:another")
    moved["issuer"]["endorsement"] = [copy.deepcopy(endorsement)]
    result = await endorsements_check(moved, resolver, NoLists(), replica, memo)
    assert result is not None and "not this issuer" in (result.reason or "")


class CountingResolver(DidResolver):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    async def verification_key(self, vm_id: str, purpose: str = "assertionMethod") -> Any:
        self.lookups += 1
        return await super().verification_key(vm_id, purpose)
