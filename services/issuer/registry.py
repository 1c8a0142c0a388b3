"""Registrar search: a tenant's issued credentials, found again by learner,
achievement, revision, issue date and status; exported as CSV or JSON Lines.

The index is derived state (invariant 3): `credentials.issued` gives each
credential's summary (through the issuer's replica), `status.changes` its
revocation and suspension (through a feed of its own, `on_status`, which
does not gate the issuer's readiness: that history grows with every
status change, and replaying it must not hold awards back after a Redis
wipe; reads of the status column answer 503 until the feed caught up), so a
wipe rebuilds it by replay. Everything is kept per tenant: a tenant's
queries only ever read its own sorted sets. Learners are indexed by their
key (shared/learner_keys.py, the one stacking uses), never in clear.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import orjson
import redis.asyncio as redis
from aiohttp import web

from services.issuer.paging import Cursor, SortedIndex, ids_of
from shared.errors import InvalidField
from shared.events import CredentialIssued, Event, StatusChanged
from shared.kafka.consumer import ConsumerLoop, Handler
from shared.learner_keys import LearnerKeys
from shared.redis_keys import (
    REGISTRY,
    REGISTRY_ENTRY,
    REGISTRY_EXPIRY,
    REGISTRY_LEARNER,
    REGISTRY_RENEWED_BY,
    REGISTRY_STATUS,
    redis_key,
)
from shared.redis_writes import Writes
from shared.timestamps import Timestamp

Status = Literal["active", "revoked", "suspended", "expired"]


def _status(revoked: bool, suspended: bool, valid_until: str | None, now_ms: float) -> Status:
    """One word, the issuer's act first: revoked, suspended, expired, active."""
    if revoked:
        return "revoked"
    if suspended:
        return "suspended"
    if valid_until and stamp_ms(valid_until) <= now_ms:
        return "expired"
    return "active"


# The kinds a registrar searches by, and the identity type each stands for.
KINDS = {"id": "id", "email": "emailAddress", "studentId": "sisSourcedId"}
PAGE_MAX = 500


class LearnerQuery(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of the learner's DID (or other id), email or student number."""

    id: str | None = None
    email: str | None = None
    studentId: str | None = None


class SearchIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /registry/search` and `/registry/export` (docs/api.md)."""

    learner: LearnerQuery | None = None
    achievementId: str | None = None
    revision: int | None = None
    issuedFrom: Timestamp | None = None
    issuedTo: Timestamp | None = None
    status: Status | None = None
    limit: int = 100
    cursor: str | None = None
    format: Literal["csv", "jsonl"] = "jsonl"  # export only


def learner_key_of(keys: LearnerKeys, learner: LearnerQuery) -> str:
    """The learner key (shared.learner_keys) a registrar's query stands for."""
    given = [(k, v) for k, v in msgspec.structs.asdict(learner).items() if v]
    if len(given) != 1:
        raise InvalidField("$.learner", "give exactly one of id, email, studentId")
    kind, value = given[0]
    return keys.of(KINDS[kind], value)


def stamp_ms(stamp: str) -> int:
    """An RFC 3339 time as milliseconds since the epoch (the indexes' scores)."""
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def _subject_id(event: CredentialIssued) -> str | None:
    subject = (event.credential_ldp or {}).get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        return str(subject["id"])
    return None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _no_wait() -> None:
    """The status column is always complete (tests that feed it directly)."""


@dataclass(frozen=True)
class RegistryIndex:
    client: redis.Redis
    prefix: str
    learner_keys: LearnerKeys
    # Raises `Rebuilding` until the status feed caught up (the `status-feed` consumer).
    status_caught_up: Callable[[], None] = _no_wait

    def _key(self, entity: str, *parts: str) -> str:
        return redis_key(self.prefix, entity, *parts)

    # -- replay --------------------------------------------------------------

    async def issued(self, event: CredentialIssued) -> None:
        """Index a credential on its own (the issuer indexes each with the
        credential itself: `index_in`)."""
        writes = Writes()
        self.index_in(writes, event)
        await writes.apply(self.client)

    def index_in(self, writes: Writes, event: CredentialIssued) -> None:
        """Index a credential, in the caller's writes (IssuerStore.save_credentials;
        idempotent: a replay writes the same members)."""
        subject = _subject_id(event)
        learner = event.learner_key or (self.learner_keys.of("id", subject) if subject else None)
        at = stamp_ms(event.occurred_at)
        entry = {
            "credentialId": event.credential_id,
            "tenant": event.tenant,
            "issuerDid": event.issuer_did,
            "achievementId": event.achievement_id,
            "revision": event.achievement_revision,
            "issuedAt": event.occurred_at,
            "validUntil": event.valid_until,
            "learnerId": subject,
            "learnerKey": learner,
            "renews": event.renews,
        }
        writes.hset(self._key(REGISTRY_ENTRY), event.credential_id, orjson.dumps(entry))
        writes.zadd(self._key(REGISTRY, event.tenant), {event.credential_id: at})
        if learner:
            writes.zadd(
                self._key(REGISTRY_LEARNER, event.tenant, learner), {event.credential_id: at}
            )
        if event.valid_until:
            expiry = self._key(REGISTRY_EXPIRY, event.tenant)
            writes.zadd(expiry, {event.credential_id: stamp_ms(event.valid_until)})
        if event.renews:
            writes.hset(self._key(REGISTRY_RENEWED_BY), event.renews, event.credential_id)

    async def status_changed(self, event: StatusChanged) -> None:
        field = f"{event.credential_id}|{event.purpose}"
        await self.client.hset(self._key(REGISTRY_STATUS), field, str(event.value))

    # -- reads ---------------------------------------------------------------

    async def status(self, credential_id: str, valid_until: str | None) -> Status:
        """The credential's status now (`status.changes`, and its `validUntil`)."""
        self.status_caught_up()
        fields = [f"{credential_id}|revocation", f"{credential_id}|suspension"]
        revoked, suspended = await self.client.hmget(self._key(REGISTRY_STATUS), fields)
        return _status(revoked == b"1", suspended == b"1", valid_until, time.time() * 1000)

    async def renewed_by(self, credential_id: str) -> str | None:
        """The credential that renewed this one, if one did."""
        found = await self.client.hget(self._key(REGISTRY_RENEWED_BY), credential_id)
        return found.decode() if isinstance(found, bytes) else found

    async def revoked(self, credential_id: str) -> bool:
        return bool(await self.revoked_among([credential_id]))

    async def revoked_among(self, credential_ids: list[str]) -> set[str]:
        """Which of these credentials are revoked (`Rebuilding` until the
        status feed caught up)."""
        self.status_caught_up()
        if not credential_ids:
            return set()
        fields = [f"{credential_id}|revocation" for credential_id in credential_ids]
        bits = await self.client.hmget(self._key(REGISTRY_STATUS), fields)
        return {c for c, bit in zip(credential_ids, bits, strict=True) if bit == b"1"}

    async def entries(self, credential_ids: list[str]) -> list[dict[str, Any]]:
        """The summaries with their current status, in the order asked."""
        if not credential_ids:
            return []
        self.status_caught_up()
        raw = await self.client.hmget(self._key(REGISTRY_ENTRY), credential_ids)
        fields = [f"{c}|{p}" for c in credential_ids for p in ("revocation", "suspension")]
        bits = await self.client.hmget(self._key(REGISTRY_STATUS), fields)
        now = time.time() * 1000
        found = []
        for i, value in enumerate(raw):
            if value is None:
                continue
            entry = orjson.loads(value)
            revoked, suspended = (bits[2 * i] == b"1"), (bits[2 * i + 1] == b"1")
            entry["status"] = _status(revoked, suspended, entry.get("validUntil"), now)
            found.append(entry)
        return found

    async def search(self, tenant: str, query: SearchIn) -> Page:
        """One page of matches, oldest first; `next_cursor` continues it."""
        if not 1 <= query.limit <= PAGE_MAX:
            raise InvalidField("$.limit", f"must be between 1 and {PAGE_MAX}")
        items: list[dict[str, Any]] = []
        last: Cursor | None = None
        async for at, entry in self._matches(tenant, query):
            if last is not None and len(items) == query.limit:
                return Page(items, last.encode())
            items.append(entry)
            last = at
        return Page(items, None)

    async def export(self, tenant: str, query: SearchIn) -> AsyncIterator[dict[str, Any]]:
        """Every match, oldest first, read in rounds (flat memory)."""
        async for _, entry in self._matches(tenant, query):
            yield entry

    async def _matches(
        self, tenant: str, query: SearchIn
    ) -> AsyncIterator[tuple[Cursor, dict[str, Any]]]:
        key = (
            self._key(REGISTRY_LEARNER, tenant, learner_key_of(self.learner_keys, query.learner))
            if query.learner is not None
            else self._key(REGISTRY, tenant)
        )
        low = query.issuedFrom.timestamp() * 1000 if query.issuedFrom else None
        high = query.issuedTo.timestamp() * 1000 if query.issuedTo else None
        index = SortedIndex(self.client, key)
        async for found in index.rounds(Cursor.decode(query.cursor), low, high):
            entries = await self.entries([at.member for at in found])
            by_id = {entry["credentialId"]: entry for entry in entries}
            for at in found:
                entry = by_id.get(at.member)
                if entry is not None and entry["tenant"] == tenant and _wanted(entry, query):
                    yield at, entry

    async def expiring(self, tenant: str, days: int) -> dict[str, Any]:
        """Credentials of the tenant whose validUntil falls in the next `days`
        days, counted per achievement (revoked ones left out)."""
        now = int(time.time() * 1000)
        ids = await self.client.zrangebyscore(
            self._key(REGISTRY_EXPIRY, tenant), now, now + days * 86_400_000
        )
        per: dict[str, list[dict[str, Any]]] = {}
        for entry in await self.entries(ids_of(ids)):
            if entry["status"] != "revoked":
                per.setdefault(entry["achievementId"], []).append(entry)
        return {
            "days": days,
            "until": datetime.fromtimestamp(now / 1000 + days * 86400, UTC).isoformat(),
            "achievements": [
                {"achievementId": a, "count": len(es), "credentials": es}
                for a, es in sorted(per.items())
            ],
        }


def _wanted(entry: dict[str, Any], query: SearchIn) -> bool:
    return (
        (query.achievementId is None or entry["achievementId"] == query.achievementId)
        and (query.revision is None or entry["revision"] == query.revision)
        and (query.status is None or entry["status"] == query.status)
    )


CSV_COLUMNS = (
    "credentialId",
    "achievementId",
    "revision",
    "issuedAt",
    "validUntil",
    "status",
    "learnerId",
    "issuerDid",
    "renews",
)


# -- the status feed -------------------------------------------------------------

STATUS_FEED: web.AppKey[ConsumerLoop] = web.AppKey("issuer.status_feed", ConsumerLoop)


def on_status(registry: RegistryIndex) -> Handler:
    """`status.changes` into the registry's status column: a feed of its own
    (shared.service.consumer_context `feed`), so a Redis wipe replays it too
    without holding the issuer's readiness back."""

    async def handle(event: Event, record: object) -> None:
        if isinstance(event, StatusChanged):
            await registry.status_changed(event)

    return handle
