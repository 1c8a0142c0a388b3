"""Versioned events on the Kafka bus (orjson JSON, msgspec Structs).

Each event type and version is one frozen Struct. On the wire an event is a
JSON object with `type`, `version`, `id`, `occurred_at` and its fields.
Additive changes stay within a version (unknown fields are ignored when
decoding); anything else is a new version.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, ClassVar, Literal, TypeVar

import msgspec
import orjson

from shared.json_object import NotAJsonObject, parse_object

__all__ = [
    "DEFAULT_REGISTRY",
    "AccreditationScope",
    "AccreditationStatusAssigned",
    "AchievementPublished",
    "AssessmentPassed",
    "BulkJobChanged",
    "CredentialIssued",
    "CredentialShared",
    "Event",
    "EventRegistry",
    "IssuerProfilePublished",
    "KeyedWrite",
    "Lifecycle",
    "PathwayPublished",
    "PoisonMessage",
    "ProviderAccreditation",
    "ProviderPublished",
    "StatusChanged",
    "StatusEntryRef",
    "StatusJobRecorded",
    "StatusListPublished",
    "WebhookRegistered",
    "decode_event",
    "encode_event",
    "utc_now",
]


class PoisonMessage(Exception):
    """A record that can never be handled; it goes to the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utc_now() -> str:
    """The current UTC time in RFC 3339 form with a `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return str(uuid.uuid4())


NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event: a unique `id` and when it happened."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    id: str = msgspec.field(default_factory=_new_id)
    occurred_at: str = msgspec.field(default_factory=utc_now)


E = TypeVar("E", bound=Event)


def next_record(event: E, **changes: object) -> E:
    """The next record of an entity kept on a compacted topic: `event` with
    `changes`, as a new event (its own `id` and `occurred_at`)."""
    return msgspec.structs.replace(event, id=_new_id(), occurred_at=utc_now(), **changes)


class KeyedWrite(msgspec.Struct, frozen=True, kw_only=True):
    """One write under an Idempotency-Key (`shared.idempotency`), kept on a
    compacted entity's record (issuer profile, provider), so a replay of the
    topic rebuilds its idempotency records even after compaction."""

    scope: str  # the IdempotencyRecords scope (keys, compromise, providers, ...)
    idempotency_key: str
    request_hash: str
    answer: str = ""  # what the first request answered, when not the entity's id
    actor: str | None = None  # who wrote it, when not the entity's tenant (the operator)


class IssuerProfilePublished(Event, frozen=True, kw_only=True):
    """An issuer's OB 3.0 Profile and DID document (topic `issuer.profiles`)."""

    TYPE: ClassVar[str] = "IssuerProfilePublished"
    VERSION: ClassVar[int] = 1

    tenant: str
    did: str
    profile: dict[str, object]
    did_document: dict[str, object]
    # The key store's opaque id of the signing key (never key material), so
    # issuer and revocation find the key again after a Redis rebuild.
    signing_key_id: str | None = None
    # The request's Idempotency-Key and fingerprint (`shared.idempotency`).
    idempotency_key: str | None = None
    request_hash: str | None = None
    # Key rotation (additive): the verification method `signing_key_id` signs
    # as (None: the document's first assertion method), a revision raised by
    # each rotation or compromise, and every such request's idempotency record
    # (kept on each later revision, as the topic is compacted).
    signing_method_id: str | None = None
    revision: NonNegative = 0
    key_writes: list[KeyedWrite] = msgspec.field(default_factory=list)
    # Who the identity signs for (additive): an institution's issuer, the
    # platform operator (accreditation endorsements) or an endorser
    # (employer endorsements of achievements). Keys of all three stay in
    # the issuer's key store.
    role: Literal["issuer", "operator", "endorser"] = "issuer"
    # A did:web on the institution's own domain (additive): its document is
    # hosted there, not by us, so verifiers resolve it from that domain.
    self_hosted: bool = False


class AchievementPublished(Event, frozen=True, kw_only=True):
    """One revision of an OB 3.0 Achievement (topic `catalog.achievements`)."""

    TYPE: ClassVar[str] = "AchievementPublished"
    VERSION: ClassVar[int] = 1

    tenant: str
    issuer_did: str
    achievement_id: str
    revision: NonNegative
    achievement: dict[str, object]
    mastery_threshold: Fraction
    status: Literal["active", "retired"]
    # The request's Idempotency-Key and fingerprint (`shared.idempotency`).
    idempotency_key: str | None = None
    request_hash: str | None = None
    # A later revision's write (an update or the retirement) under its
    # Idempotency-Key (additive; the topic keeps every revision).
    writes: list[KeyedWrite] = msgspec.field(default_factory=list)


class PathwayPublished(Event, frozen=True, kw_only=True):
    """One revision of a pathway: which achievements stack into which
    credential (history topic `catalog.pathways`, keyed by pathway id).

    Completed when the learner holds every `core` achievement (earned in
    the listed order when `ordered`) and `electives_required` of the
    `electives`; it is then awarded as `achievement_id` (shared.pathways)."""

    TYPE: ClassVar[str] = "PathwayPublished"
    VERSION: ClassVar[int] = 1

    tenant: str
    pathway_id: str
    pathway: dict[str, object]  # the public document (GET /pathways/{id})
    issuer_did: str = ""
    achievement_id: str = ""  # the pathway's own Achievement (catalog.achievements)
    core: list[str] = []
    electives: list[str] = []
    electives_required: NonNegative = 0
    ordered: bool = False
    revision: NonNegative = 1
    status: Literal["active", "retired"] = "active"
    idempotency_key: str | None = None
    request_hash: str | None = None
    # A later revision's write (an update or the retirement) under its Idempotency-Key.
    writes: list[KeyedWrite] = msgspec.field(default_factory=list)


Lifecycle = Literal["active", "suspended", "withdrawn"]


class AccreditationScope(msgspec.Struct, frozen=True, kw_only=True):
    """What an accreditation covers; an empty list leaves that dimension open."""

    eqf_levels: list[Annotated[int, msgspec.Meta(ge=1, le=8)]] = []
    fields_of_study: list[str] = []
    achievement_types: list[str] = []


class ProviderAccreditation(msgspec.Struct, frozen=True, kw_only=True):
    """One accreditation of a provider by a quality-assurance body (operator-only)."""

    accreditation_id: str  # the QA body's own id for it
    quality_assurance_body: str
    quality_assurance_body_url: str | None = None
    scope: AccreditationScope
    valid_from: str
    valid_until: str | None = None
    status: Lifecycle = "active"
    recorded_by: str  # the operator


class ProviderPublished(Event, frozen=True, kw_only=True):
    """A provider's full current record (compacted topic `catalog.providers`,
    keyed by provider id); `revision` grows with every write."""

    TYPE: ClassVar[str] = "ProviderPublished"
    VERSION: ClassVar[int] = 1

    tenant: str
    provider_id: str
    revision: NonNegative
    legal_name: str
    country: str
    provider_type: str
    web_domain: str | None = None
    issuer_dids: list[str]
    status: Lifecycle = "active"
    status_reason: str | None = None
    accreditations: list[ProviderAccreditation] = []
    writes: list[KeyedWrite] = []
    # The rule set its achievements and awards must meet (shared.policy_profiles).
    policy_profile: str = "badge"
    # Set by the operator: the provider's issuers may issue credentials of any
    # type through the VC-API `POST /credentials/issue` (not only Open Badges
    # of their own achievements, which pass the mastery gate).
    generic_issuance: bool = False


class EndorsementPublished(Event, frozen=True, kw_only=True):
    """An endorser's signed OB 3.0 EndorsementCredential about an achievement
    (compacted topic `issuer.endorsements`, keyed by endorsement id)."""

    TYPE: ClassVar[str] = "EndorsementPublished"
    VERSION: ClassVar[int] = 1

    endorser: str  # the endorser's name (from its token)
    endorser_did: str
    endorsement_id: str
    achievement_id: str
    credential_ldp: dict[str, object]  # with its eddsa-rdfc-2022 proof
    credential_jwt: str
    status: Literal["active", "withdrawn"] = "active"
    idempotency_key: str | None = None
    request_hash: str | None = None
    # Later writes' idempotency records (the withdrawal), kept on the record
    # as the topic is compacted.
    writes: list[KeyedWrite] = []


class StatusEntryRef(msgspec.Struct, frozen=True, kw_only=True):
    """Where one credential's status lives: a list and an index in it."""

    purpose: str
    list_id: str
    list_url: str
    index: NonNegative


class AccreditationStatusAssigned(Event, frozen=True, kw_only=True):
    """The revocation entry of the operator's accreditation EndorsementCredential
    about one issuer DID (compacted topic `issuer.endorsements`, keyed by the
    endorsement id): claimed once in the operator's status lists, so every
    credential embeds the same endorsement; the revocation service sets it
    when the operator withdraws the accreditation (or the provider)."""

    TYPE: ClassVar[str] = "AccreditationStatusAssigned"
    VERSION: ClassVar[int] = 1

    endorsement_id: str
    operator_did: str
    provider_id: str
    accreditation_id: str
    issuer_did: str
    entry: StatusEntryRef


class CredentialIssued(Event, frozen=True, kw_only=True):
    """A signed credential and its status entries (topic `credentials.issued`)."""

    TYPE: ClassVar[str] = "CredentialIssued"
    VERSION: ClassVar[int] = 1

    tenant: str
    credential_id: str
    issuer_did: str
    achievement_id: str
    credential_jwt: str
    status_entries: list[StatusEntryRef]
    idempotency_key: str | None = None
    valid_until: str | None = None
    # The same credential with an embedded Data Integrity proof (eddsa-rdfc-2022).
    credential_ldp: dict[str, object] | None = None
    # Fingerprint of the request behind `idempotency_key`, to spot a reuse
    # of the key with a different request.
    request_hash: str | None = None
    # The catalog revision of the achievement it was issued under (additive).
    achievement_revision: int | None = None
    # The learner as stacking knows them across credentials (additive):
    # an HMAC of their identity (shared.learner_keys), never the identity.
    learner_key: str | None = None
    # The pathway a stacked credential completes (additive; shared.pathways).
    pathway_id: str | None = None
    # The credential this one renews (re-assessment), when it does.
    renews: str | None = None


class CredentialShared(Event, frozen=True, kw_only=True):
    """A learner published (or unpublished) a credential's share link
    (compacted topic `credentials.shares`, keyed by share id). An unpublished
    record drops the credential, so compaction leaves nothing of it behind."""

    TYPE: ClassVar[str] = "CredentialShared"
    VERSION: ClassVar[int] = 1

    share_id: str
    credential_id: str
    tenant: str
    status: Literal["published", "unpublished"]
    credential_jwt: str | None = None  # None once unpublished

    def moment_ms(self) -> int:
        """When it happened, in ms: a later publish or unpublish wins on replay."""
        return int(datetime.fromisoformat(self.occurred_at).timestamp() * 1000)


class StatusChanged(Event, frozen=True, kw_only=True):
    """One status list entry set to `value` (topic `status.changes`)."""

    TYPE: ClassVar[str] = "StatusChanged"
    VERSION: ClassVar[int] = 1

    tenant: str
    list_id: str
    list_url: str
    issuer_did: str
    purpose: str
    index: NonNegative
    value: NonNegative
    credential_id: str
    reason: str | None = None  # the reason's text (shared.status_reasons)
    idempotency_key: str | None = None
    # The audit trail (additive): the reason's code, whether verifiers may
    # show it, who asked (a fingerprint of the bearer token) and the request id.
    reason_code: str | None = None
    reason_public: bool = False
    actor: str | None = None
    request_id: str | None = None


class StatusJobRecorded(Event, frozen=True, kw_only=True):
    """A bulk revoke / suspend / reinstate job (compacted topic `status.jobs`,
    keyed by job id): first `submitted` with the credential ids it resolved
    to, then `finished` with every item's outcome."""

    TYPE: ClassVar[str] = "StatusJobRecorded"
    VERSION: ClassVar[int] = 1

    job_id: str
    tenant: str
    action: str  # revoke, suspend, reinstate
    credential_ids: list[str]
    state: str  # submitted, finished
    reason_code: str | None = None
    reason: str | None = None
    reason_public: bool = False
    actor: str | None = None
    request_id: str | None = None
    results: dict[str, str] | None = None  # credential id -> outcome, once finished
    # The fingerprint of the request, for a retry with its Idempotency-Key.
    request_hash: str | None = None


class WebhookRegistered(Event, frozen=True, kw_only=True):
    """A tenant's webhook subscription (compacted topic `issuer.webhooks`,
    keyed by webhook id). Its signing secret is never on the bus: it is
    derived from the key store's master key and the webhook id."""

    TYPE: ClassVar[str] = "WebhookRegistered"
    VERSION: ClassVar[int] = 1

    webhook_id: str
    tenant: str
    url: str
    events: list[str]
    status: str = "active"  # or deleted


class StatusListPublished(Event, frozen=True, kw_only=True):
    """A signed status list credential snapshot (topic `status.lists`)."""

    TYPE: ClassVar[str] = "StatusListPublished"
    VERSION: ClassVar[int] = 1

    list_id: str
    list_url: str
    issuer_did: str
    purpose: str
    sequence: NonNegative
    credential_jwt: str
    # The same list credential with an embedded eddsa-rdfc-2022 proof, for
    # Data Integrity verifiers (absent in snapshots made before it existed).
    credential_ldp: dict[str, object] | None = None


class AssessmentPassed(Event, frozen=True, kw_only=True):
    """An institution reports a passed assessment (inbound topic `issuer.assessments`)."""

    TYPE: ClassVar[str] = "AssessmentPassed"
    VERSION: ClassVar[int] = 1

    # An institution's record: what it must name is checked as it is read,
    # so a blank one is dead-lettered at once as malformed, not retried.
    tenant: Annotated[str, msgspec.Meta(min_length=1)]
    achievement_id: Annotated[str, msgspec.Meta(min_length=1)]
    learner: dict[str, str]
    score: float
    max_score: float = 100
    assessed_at: str | None = None
    # As an HTTP Idempotency-Key (docs/api.md): 1 to 255 characters.
    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    # Evidence passed with the result (additive): OB 3.0 Evidence members
    # as in `POST /awards` (`id`, `name`, `description`, `narrative`, `genre`).
    evidence: list[dict[str, str]] = msgspec.field(default_factory=list)
    # A formative assessment (additive): recorded as an attempt, never issued.
    formative: bool = False


class AttemptRecorded(Event, frozen=True, kw_only=True):
    """An assessment result that did not become a credential (topic
    `issuer.attempts`, issue 9): a formative attempt, recorded by design, or
    an award the issuer refused, with why. `id` is the attempt's id."""

    TYPE: ClassVar[str] = "AttemptRecorded"
    VERSION: ClassVar[int] = 1

    tenant: str
    kind: Literal["formative", "refused"]
    source: Literal["api", "bulk", "kafka", "vc-api"]
    achievement_id: str
    learner_key: str | None = None  # shared.learner_keys; None: no usable learner
    score: float | None = None
    max_score: float | None = None
    met_threshold: bool | None = None  # formative: whether it would have passed
    assessed_at: str | None = None
    evidence: list[dict[str, str]] = msgspec.field(default_factory=list)
    reason_title: str | None = None  # refused: the problem's title and detail
    reason_detail: str | None = None
    inbound_event_id: str | None = None  # the AssessmentPassed it came from
    idempotency_key: str | None = None
    request_hash: str | None = None


class WebhookDeliveryFinished(Event, frozen=True, kw_only=True):
    """A webhook delivery that got through or ran out of attempts (topic
    `issuer.webhook-deliveries`, keyed by delivery id): the tenant's delivery
    log and dead letters, and what a replay after a Redis wipe never sends
    again."""

    TYPE: ClassVar[str] = "WebhookDeliveryFinished"
    VERSION: ClassVar[int] = 1

    delivery_id: str
    webhook_id: str
    tenant: str
    kind: str  # the webhook event type
    outcome: Literal["delivered", "dead"]
    attempts: NonNegative
    last_status: int | None = None
    errors: list[str] = msgspec.field(default_factory=list)
    at_ms: NonNegative = 0
    body: str | None = None  # a dead delivery's request body, for the dead letters


class BulkJobChanged(Event, frozen=True, kw_only=True):
    """A bulk award job queued, cancelled or finished (topic `issuer.bulk-jobs`,
    keyed by job id). `queued` names where its rows are staged on
    `issuer.bulk-rows`: one partition, offsets `first_offset..last_offset`."""

    TYPE: ClassVar[str] = "BulkJobChanged"
    VERSION: ClassVar[int] = 1

    job_id: str
    tenant: str
    change: Literal["queued", "cancelled", "finished"]
    rows: NonNegative = 0
    format: str = "csv"
    partition: NonNegative = 0
    first_offset: NonNegative = 0
    last_offset: NonNegative = 0
    columns: list[str] = msgspec.field(default_factory=list)  # a CSV file's header
    idempotency_key: str | None = None
    request_hash: str | None = None


class EventRegistry:
    """Immutable map of (type, version) to the Struct that decodes it."""

    def __init__(self, types: Iterable[type[Event]]) -> None:
        table: dict[tuple[str, int], type[Event]] = {}
        for cls in types:
            key = (cls.TYPE, cls.VERSION)
            if key in table:
                raise ValueError(f"event {key} registered twice")
            table[key] = cls
        self._types: Mapping[tuple[str, int], type[Event]] = MappingProxyType(table)

    def get(self, type_: str, version: int) -> type[Event] | None:
        return self._types.get((type_, version))

    def __contains__(self, key: object) -> bool:
        return key in self._types


DEFAULT_REGISTRY = EventRegistry(
    [
        IssuerProfilePublished,
        AchievementPublished,
        PathwayPublished,
        ProviderPublished,
        EndorsementPublished,
        AccreditationStatusAssigned,
        CredentialIssued,
        CredentialShared,
        StatusChanged,
        StatusListPublished,
        AssessmentPassed,
        AttemptRecorded,
        BulkJobChanged,
        StatusJobRecorded,
        WebhookRegistered,
        WebhookDeliveryFinished,
    ]
)


def encode_event(event: Event) -> bytes:
    """The wire form: a JSON object with `type` and `version` first."""
    fields = msgspec.to_builtins(event)
    return orjson.dumps({"type": event.TYPE, "version": event.VERSION, **fields})


def _envelope(raw: bytes | bytearray | memoryview | str) -> tuple[str, int, dict[str, object]]:
    try:
        value = parse_object(raw)
    except NotAJsonObject as exc:
        raise PoisonMessage(str(exc)) from None
    type_ = value.pop("type", None)
    version = value.pop("version", None)
    if not isinstance(type_, str) or not type_:
        raise PoisonMessage("missing or non-string `type`")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PoisonMessage(f"missing or non-integer `version` for type {type_!r}")
    return type_, version, value


def decode_event(
    raw: bytes | bytearray | memoryview | str, registry: EventRegistry = DEFAULT_REGISTRY
) -> Event:
    """Parse and validate one event; raises PoisonMessage saying what is wrong."""
    type_, version, fields = _envelope(raw)
    cls = registry.get(type_, version)
    if cls is None:
        raise PoisonMessage(f"unknown event type {type_!r} version {version}")
    if "id" not in fields:
        # An event its producer (an institution's system) gave no id is named
        # by its bytes: read again, or sent again as it was, it is the same
        # event, not a new one under a new random id (so no second award).
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        fields["id"] = f"sha256:{hashlib.sha256(data).hexdigest()}"
    try:
        return msgspec.convert(fields, cls)
    except msgspec.ValidationError as exc:
        raise PoisonMessage(f"schema mismatch in {type_} v{version}: {exc}") from None
