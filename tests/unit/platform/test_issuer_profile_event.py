"""IssuerProfilePublished v1 with the additive key-rotation fields."""

from __future__ import annotations

import orjson

from shared.events import IssuerProfilePublished, KeyedWrite, decode_event, encode_event


def test_old_records_decode_with_defaults() -> None:
    raw = orjson.dumps(
        {
            "type": "IssuerProfilePublished",
            "version": 1,
            "id": "e1",
            "occurred_at": "2026-01-01T00:00:00.000Z",
            "tenant": "demo",
            "did": "did:key:z6Mk",
            "profile": {},
            "did_document": {},
            "signing_key_id": "k1",
        }
    )
    event = decode_event(raw)
    assert isinstance(event, IssuerProfilePublished)
    assert (event.signing_method_id, event.revision, event.key_writes) == (None, 0, [])


def test_rotation_fields_round_trip() -> None:
    event = IssuerProfilePublished(
        tenant="demo",
        did="did:web:x:issuers:a",
        profile={},
        did_document={},
        signing_key_id="k2",
        signing_method_id="did:web:x:issuers:a#key-2",
        revision=2,
        key_writes=[
            KeyedWrite(scope="keys", idempotency_key="r1", request_hash="h", answer="#key-2")
        ],
    )
    assert decode_event(encode_event(event)) == event
