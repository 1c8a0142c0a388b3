import re

import orjson
import pytest

from shared.events import (
    AchievementPublished,
    AssessmentPassed,
    CredentialIssued,
    Event,
    EventRegistry,
    IssuerProfilePublished,
    PathwayPublished,
    PoisonMessage,
    StatusChanged,
    StatusEntryRef,
    StatusListPublished,
    decode_event,
    encode_event,
)

SAMPLES: list[Event] = [
    IssuerProfilePublished(
        tenant="uni",
        did="did:web:uni.example",
        profile={"id": "did:web:uni.example", "type": ["Profile"], "name": "Uni"},
        did_document={"id": "did:web:uni.example"},
    ),
    AchievementPublished(
        tenant="uni",
        issuer_did="did:web:uni.example",
        achievement_id="urn:uuid:1",
        revision=2,
        achievement={"type": ["Achievement"], "name": "Python 1"},
        mastery_threshold=0.7,
        status="active",
    ),
    PathwayPublished(tenant="uni", pathway_id="p1", pathway={"steps": ["a", "b"]}),
    CredentialIssued(
        tenant="uni",
        credential_id="urn:uuid:2",
        issuer_did="did:web:uni.example",
        achievement_id="urn:uuid:1",
        credential_jwt="a.b.c",
        status_entries=[
            StatusEntryRef(purpose="revocation", list_id="l1", list_url="https://x/l1", index=5)
        ],
        idempotency_key="k1",
    ),
    StatusChanged(
        tenant="uni",
        list_id="l1",
        list_url="https://x/l1",
        issuer_did="did:web:uni.example",
        purpose="revocation",
        index=5,
        value=1,
        credential_id="urn:uuid:2",
        reason="fraud",
    ),
    StatusListPublished(
        list_id="l1",
        list_url="https://x/l1",
        issuer_did="did:web:uni.example",
        purpose="revocation",
        sequence=3,
        credential_jwt="a.b.c",
    ),
    AssessmentPassed(
        tenant="uni", achievement_id="urn:uuid:1", learner={"email": "a@b.c"}, score=81.5
    ),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip(event: Event) -> None:
    raw = encode_event(event)
    wire = orjson.loads(raw)
    assert wire["type"] == event.TYPE
    assert wire["version"] == 1
    assert wire["id"] == event.id
    assert list(wire)[:2] == ["type", "version"]
    decoded = decode_event(raw)
    assert type(decoded) is type(event)
    assert decoded == event


def test_defaults() -> None:
    a, b = SAMPLES[2], PathwayPublished(tenant="u", pathway_id="p", pathway={})
    assert a.id != b.id
    assert re.fullmatch(r"[0-9a-f-]{36}", b.id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", b.occurred_at)
    assessed = SAMPLES[-1]
    assert isinstance(assessed, AssessmentPassed)
    assert assessed.max_score == 100


def test_events_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SAMPLES[2].tenant = "other"  # type: ignore[attr-defined, misc]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    wire = orjson.loads(encode_event(SAMPLES[2]))
    wire["added_later"] = {"x": 1}
    assert decode_event(orjson.dumps(wire)) == SAMPLES[2]


def _wire(event: Event, **changes: object) -> bytes:
    doc = orjson.loads(encode_event(event))
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return orjson.dumps(doc)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"version": 1}', "`type`"),
        (b'{"type": "StatusChanged"}', "`version`"),
        (b'{"type": "StatusChanged", "version": "1"}', "`version`"),
        (b'{"type": "StatusChanged", "version": true}', "`version`"),
        (b'{"type": "Nope", "version": 1}', "unknown event type 'Nope' version 1"),
        (_wire(SAMPLES[4], version=2), "unknown event type 'StatusChanged' version 2"),
        (_wire(SAMPLES[4], index="5"), "`$.index`"),
        (_wire(SAMPLES[4], index=-1), "`$.index`"),
        (_wire(SAMPLES[4], credential_id=None), "credential_id"),
        (_wire(SAMPLES[1], mastery_threshold=70), "`$.mastery_threshold`"),
        (_wire(SAMPLES[1], status="deleted"), "`$.status`"),
        (
            _wire(SAMPLES[3], status_entries=[{"purpose": "revocation"}]),
            "`$.status_entries[0]`",
        ),
    ],
)
def test_poison_reasons(raw: bytes, reason: str) -> None:
    with pytest.raises(PoisonMessage) as info:
        decode_event(raw)
    assert reason in info.value.reason
    assert str(info.value) == info.value.reason


def test_schema_mismatch_reason_names_type() -> None:
    with pytest.raises(PoisonMessage, match=r"schema mismatch in StatusChanged v1"):
        decode_event(_wire(SAMPLES[4], value="x"))


def test_custom_registry() -> None:
    registry = EventRegistry([PathwayPublished])
    assert isinstance(decode_event(encode_event(SAMPLES[2]), registry), PathwayPublished)
    with pytest.raises(PoisonMessage, match="unknown event type"):
        decode_event(encode_event(SAMPLES[4]), registry)
    with pytest.raises(ValueError):
        EventRegistry([PathwayPublished, PathwayPublished])


@pytest.mark.parametrize(
    "blank", [{"tenant": ""}, {"achievement_id": ""}, {"idempotency_key": "k" * 256}]
)
def test_an_inbound_assessment_without_what_it_must_name_is_poison(blank: dict[str, str]) -> None:
    """Dead-lettered at once as malformed (a blank tenant was retried four
    times, the partition stalled, then dead-lettered as a handler failure)."""
    fields = {"tenant": "uni", "achievement_id": "urn:uuid:1", "learner": {"email": "a@b.c"}}
    raw = encode_event(AssessmentPassed(**{**fields, "score": 80}))  # type: ignore[arg-type]
    wire = {**orjson.loads(raw), **blank}
    with pytest.raises(PoisonMessage):
        decode_event(orjson.dumps(wire))


def test_an_event_sent_without_an_id_is_named_by_its_bytes() -> None:
    """An institution's system may leave `id` out: the same bytes read again
    (a redelivery, or the same event sent again) are the same event, so the
    award keyed by it is not made twice; other bytes, another event."""
    wire = orjson.loads(encode_event(SAMPLES[-1]))
    del wire["id"]
    raw = orjson.dumps(wire)
    first, again = decode_event(raw), decode_event(raw)
    assert first.id == again.id and first.id.startswith("sha256:")
    other = orjson.dumps({**wire, "score": 90})
    assert decode_event(other).id != first.id
    assert decode_event(encode_event(SAMPLES[-1])).id == SAMPLES[-1].id  # given: kept
