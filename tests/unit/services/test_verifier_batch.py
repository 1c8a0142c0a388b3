"""Batch lines in, answer lines out (`services/verifier/batch.py`), with a
verifier on an in-memory replica; and the replica's revocation dates."""

from __future__ import annotations

import json

import pytest

from services.verifier.batch import (
    BatchLimits,
    BatchTooLarge,
    BatchVerification,
    EmptyBatch,
    split_lines,
)
from services.verifier.intake import Intake
from services.verifier.replica import Replica
from services.verifier.verification import Verifier
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.events import StatusChanged
from shared.web.safe_fetch import FetchPolicy, SafeFetcher
from tests.unit.credentials.vc_samples import ob3_credential


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
