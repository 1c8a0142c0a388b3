"""Outbound webhooks: each tenant's own events, signed, retried, logged.

The dispatcher is a filtered consumer: every issuer instance reads
`credentials.issued`, `status.changes`, `status.jobs` and `issuer.attempts`,
which carry every tenant's records, and queues a delivery (once: its id is
derived from the webhook and the event) only to the subscriptions of the
event's own tenant, so no tenant ever receives another's records.

Signature (docs/api.md "Webhooks"): `Microcred-Signature: t=<unix seconds>,
v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, a fresh `t` per attempt. The
secret is derived from the key store's master key and the webhook id (HKDF,
then HMAC), so it is never stored nor put on Kafka.

Retries: capped exponential backoff (`retry_base_ms` doubled per attempt,
at most `retry_cap_ms`), up to `max_attempts`, then the dead letters. Any
2xx is a success. Targets go through the SSRF guard (shared/web/safe_fetch:
https, public addresses, pinned resolution) on every attempt.

Nothing is lost to a Redis wipe: the dispatcher is a feed (offsets and a
generation of its own in Redis, shared.service.consumer_context), so a wipe
replays the source topics and queues again what was pending; each delivery
that got through or died is recorded on `issuer.webhook-deliveries` (the
tenant's log and dead letters, rebuilt by the issuer's replica), so none is
sent again. At least once: a delivery whose end was not yet recorded may be
sent again; receivers deduplicate on `Microcred-Delivery`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import orjson
import redis.asyncio as redis
from aiohttp import web
from aiokafka.structs import ConsumerRecord
from redis.commands.core import AsyncScript

from services.issuer.domain.webhook_events import (
    EVENT_TYPES,
    SIGNATURE_HEADER,
    WebhookIn,
    WebhookSecrets,
    backoff_ms,
    outbound,
    sign,
)
from services.issuer.registry import RegistryIndex
from services.issuer.settings import WebhookSettings
from shared.credentials.builders import format_datetime
from shared.errors import Conflict, InvalidField, NotFound, is_transient
from shared.events import (
    Event,
    WebhookDeliveryFinished,
    WebhookRegistered,
    decode_event,
    encode_event,
)
from shared.idempotency import lease
from shared.kafka.consumer import BatchHandler, ConsumerLoop, Handler
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.redis_keys import (
    WEBHOOK_DEAD,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DONE,
    WEBHOOK_EXPIRING_SENT,
    WEBHOOK_LOCK,
    WEBHOOK_LOG,
    WEBHOOK_QUEUE,
    WEBHOOKS,
    redis_key,
)
from shared.redis_scripts import CLAIM_DUE_DELIVERIES, FINISH_WEBHOOK_DELIVERY
from shared.web.safe_fetch import FetchError, SafeFetcher, url_parts

_log = get_logger("issuer.webhooks")
# The dispatcher's feed (its loop, shown in /readyz as `webhook-feed`).
WEBHOOK_FEED: web.AppKey[ConsumerLoop] = web.AppKey("issuer.webhook_feed", ConsumerLoop)
LOG_KEPT = 1000
MAX_WEBHOOKS = 25  # active webhooks per tenant
_NAMESPACE = uuid.UUID("0b7d7a7e-45a4-4d8e-9a3e-7f3c8d1f2a10")


class WebhookNotFound(NotFound):
    title = "Webhook not found"


class TooManyWebhooks(Conflict):
    title = "Too many webhooks"
    problem = "too-many-webhooks"

    def __init__(self) -> None:
        super().__init__(
            f"this tenant has {MAX_WEBHOOKS} active webhooks, the most it may have: "
            "delete one first"
        )
        self.extra = {"allowed": MAX_WEBHOOKS}


@dataclass(frozen=True)
class Webhooks:
    client: redis.Redis
    prefix: str
    secrets: WebhookSecrets
    settings: WebhookSettings
    fetcher: SafeFetcher
    publisher: Publisher | None = None
    topic: str = ""  # issuer.webhooks, with the deployment's prefix
    deliveries_topic: str = ""  # issuer.webhook-deliveries, likewise
    _finish: AsyncScript = field(init=False, repr=False)
    _claim: AsyncScript = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_finish", self.client.register_script(FINISH_WEBHOOK_DELIVERY))
        object.__setattr__(self, "_claim", self.client.register_script(CLAIM_DUE_DELIVERIES))

    def _key(self, entity: str, *parts: str) -> str:
        return redis_key(self.prefix, entity, *parts)

    # -- subscriptions (replayed from issuer.webhooks) -------------------------

    async def remember(self, event: WebhookRegistered) -> None:
        await self.client.hset(self._key(WEBHOOKS), event.webhook_id, encode_event(event))

    async def _subscription(self, webhook_id: str) -> WebhookRegistered | None:
        raw = await self.client.hget(self._key(WEBHOOKS), webhook_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, WebhookRegistered) else None

    async def _subscriptions(self) -> list[WebhookRegistered]:
        raw = await self.client.hvals(self._key(WEBHOOKS))
        found = [decode_event(value) for value in raw]
        return [w for w in found if isinstance(w, WebhookRegistered) and w.status == "active"]

    async def register(self, tenant: str, body: WebhookIn) -> dict[str, Any]:
        self._check_target(body.url)
        if body.events is not None and not body.events:
            raise InvalidField("$.events", "name at least one event")
        events = list(EVENT_TYPES) if body.events is None else list(body.events)
        assert self.publisher is not None
        event = WebhookRegistered(
            webhook_id=f"wh_{uuid.uuid4().hex}",
            tenant=tenant,
            url=body.url,
            events=sorted(set(events)),
        )
        # Counted and recorded under the tenant's lease: two at once never
        # both take the last place.
        async with lease(self.client, self._key(WEBHOOK_LOCK, tenant)):
            active = [w for w in await self._subscriptions() if w.tenant == tenant]
            if len(active) >= MAX_WEBHOOKS:
                raise TooManyWebhooks()
            await self.publisher.publish(self.topic, event, key=event.webhook_id)
            await self.remember(event)
        return {**self._view(event), "secret": self.secrets.of(event.webhook_id).hex()}

    async def delete(self, tenant: str, webhook_id: str) -> dict[str, Any]:
        current = await self._own(tenant, webhook_id)
        assert self.publisher is not None
        gone = msgspec.structs.replace(current, status="deleted", id=str(uuid.uuid4()))
        await self.publisher.publish(self.topic, gone, key=webhook_id)
        await self.remember(gone)
        return self._view(gone)

    async def of_tenant(self, tenant: str) -> list[dict[str, Any]]:
        return [self._view(w) for w in await self._subscriptions() if w.tenant == tenant]

    async def _own(self, tenant: str, webhook_id: str) -> WebhookRegistered:
        event = await self._subscription(webhook_id)
        if event is None or event.tenant != tenant:
            raise WebhookNotFound("no such webhook for this tenant")
        return event

    def _view(self, event: WebhookRegistered) -> dict[str, Any]:
        return {
            "id": event.webhook_id,
            "url": event.url,
            "events": event.events,
            "status": event.status,
            "createdAt": event.occurred_at,
        }

    def _check_target(self, url: str) -> None:
        try:
            parts, _ = url_parts(url)
        except FetchError as error:
            raise InvalidField("$.url", str(error)) from None
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin in self.settings.test_origins:
            return
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            raise InvalidField("$.url", "a webhook URL is https, with a host and no credentials")

    # -- the filtered consumer --------------------------------------------------

    def handler(self, ready: Callable[[], Awaitable[None]]) -> Handler:
        """The webhook feed's handler: after the issuer's replica caught up
        (the subscriptions and finished deliveries rebuilt after a wipe)."""
        batch = self.batch_handler(ready)

        async def handle(event: Event, record: ConsumerRecord) -> None:
            await batch([(event, record)])

        return handle

    def batch_handler(self, ready: Callable[[], Awaitable[None]]) -> BatchHandler:
        """`handler` for a batch of the feed (the subscriptions read once)."""

        async def batch(events: list[tuple[Event, ConsumerRecord]]) -> Sequence[ConsumerRecord]:
            await ready()
            hooks = await self._subscriptions()
            for event, _ in events:
                found = outbound(event)
                if found is not None:
                    tenant, kind, data = found
                    await self.notify(tenant, event, kind, data, hooks)
            return ()

        return batch

    async def notify(
        self,
        tenant: str,
        event: Event,
        kind: str,
        data: dict[str, Any],
        hooks: list[WebhookRegistered] | None = None,
    ) -> None:
        """Queue `kind` for the tenant's subscriptions to it (and no one
        else's); `hooks`: the active subscriptions, when just read."""
        for hook in await self._subscriptions() if hooks is None else hooks:
            if hook.tenant != tenant or kind not in hook.events:
                continue
            if hook.occurred_at > event.occurred_at:
                continue  # subscribed after it happened
            await self._enqueue(hook, event, kind, data)

    async def expiring(self, registry: RegistryIndex) -> int:
        """`credential.expiring`, once per credential and webhook, for the
        credentials of subscribed tenants expiring within `expiring_days`."""
        sent = 0
        hooks = [h for h in await self._subscriptions() if "credential.expiring" in h.events]
        for tenant in sorted({h.tenant for h in hooks}):
            report = await registry.expiring(tenant, self.settings.expiring_days)
            for group in report["achievements"]:
                for entry in group["credentials"]:
                    sent += await self._expiring_once(tenant, hooks, entry)
        return sent

    async def _expiring_once(
        self, tenant: str, hooks: list[WebhookRegistered], entry: dict[str, Any]
    ) -> int:
        sent = 0
        data = {
            "credentialId": entry["credentialId"],
            "achievementId": entry["achievementId"],
            "validUntil": entry["validUntil"],
        }
        for hook in hooks:
            if hook.tenant != tenant:
                continue
            marker = self._key(WEBHOOK_EXPIRING_SENT, hook.webhook_id)
            if await self.client.sadd(marker, entry["credentialId"]):
                notice = WebhookRegistered(  # only its id and time are used
                    id=str(uuid.uuid5(_NAMESPACE, f"expiring|{entry['credentialId']}")),
                    webhook_id=hook.webhook_id,
                    tenant=tenant,
                    url=hook.url,
                    events=[],
                )
                await self._enqueue(hook, notice, "credential.expiring", data)
                sent += 1
        return sent

    async def _enqueue(
        self, hook: WebhookRegistered, event: Event, kind: str, data: dict[str, Any]
    ) -> None:
        delivery_id = str(uuid.uuid5(_NAMESPACE, f"{hook.webhook_id}|{event.id}|{kind}"))
        if await self.client.sismember(self._key(WEBHOOK_DONE), delivery_id):
            return  # it got through or died before (a replay after a Redis wipe)
        body = {
            "id": delivery_id,
            "type": kind,
            "occurredAt": event.occurred_at,
            "tenant": hook.tenant,
            "data": data,
        }
        record = {
            "id": delivery_id,
            "webhookId": hook.webhook_id,
            "tenant": hook.tenant,
            "url": hook.url,
            "type": kind,
            "body": orjson.dumps(body).decode(),
            "attempts": 0,
            "errors": [],
        }
        # A redelivered record (consumer restart) queues nothing twice; both
        # writes in one transaction, so no crash between them leaves a pending
        # delivery out of the queue (NX: a queued one keeps its due time).
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(self._key(WEBHOOK_DELIVERIES), delivery_id, orjson.dumps(record))
            pipe.zadd(self._key(WEBHOOK_QUEUE), {delivery_id: _now_ms()}, nx=True)
            await pipe.execute()

    # -- delivery -----------------------------------------------------------------

    async def deliver_due(self, limit: int = 50, lease_ms: int = 60_000) -> int:
        """Attempt every due delivery this instance claims: each for
        `lease_ms` (CLAIM_DUE_DELIVERIES), after which one whose outcome
        was never recorded is due again (at least once)."""
        queue = self._key(WEBHOOK_QUEUE)
        now = _now_ms()
        due = await self.client.zrangebyscore(queue, "-inf", now, start=0, num=limit)
        if not due:
            return 0
        claimed = await self._claim(keys=[queue], args=[now, now + lease_ms, *due])
        await asyncio.gather(*(self._attempt(_text(d)) for d in claimed))
        return len(claimed)

    async def _attempt(self, delivery_id: str) -> None:
        raw = await self.client.hget(self._key(WEBHOOK_DELIVERIES), delivery_id)
        if raw is None or await self.client.sismember(self._key(WEBHOOK_DONE), delivery_id):
            # queued again by a replay, but it got through or died before
            await self.client.hdel(self._key(WEBHOOK_DELIVERIES), delivery_id)
            await self.client.zrem(self._key(WEBHOOK_QUEUE), delivery_id)
            return
        record = orjson.loads(raw)
        hook = await self._subscription(record["webhookId"])
        if hook is None or hook.status != "active":  # deleted since: no more attempts
            record["errors"].append("the webhook was deleted")
            await self._conclude(record, "dead", None, _now_ms())
            return
        body = record["body"].encode()
        secret = self.secrets.of(record["webhookId"])
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
            "Microcred-Delivery": delivery_id,
            "Microcred-Event": record["type"],
        }
        record["attempts"] += 1
        try:
            status = await self.fetcher.post(record["url"], body, headers)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except FetchError as failure:
            status, error = None, str(failure)[:300]
        at = _now_ms()
        if error is None:
            await self._conclude(record, "delivered", status, at)
        elif record["attempts"] >= self.settings.max_attempts:
            record["errors"].append(error)
            await self._conclude(record, "dead", status, at)
        else:
            record["errors"].append(error)
            wait = backoff_ms(self.settings, record["attempts"])
            await self.client.hset(self._key(WEBHOOK_DELIVERIES), delivery_id, orjson.dumps(record))
            await self.client.zadd(self._key(WEBHOOK_QUEUE), {delivery_id: at + wait})
            _log.info("webhook.retry_scheduled", delivery=delivery_id, wait_ms=wait, error=error)

    async def _conclude(
        self,
        record: dict[str, Any],
        outcome: Literal["delivered", "dead"],
        status: int | None,
        at: int,
    ) -> None:
        """Record on Kafka that the delivery ended, then apply it here."""
        event = WebhookDeliveryFinished(
            delivery_id=record["id"],
            webhook_id=record["webhookId"],
            tenant=record["tenant"],
            kind=record["type"],
            outcome=outcome,
            attempts=record["attempts"],
            last_status=status,
            errors=record["errors"],
            at_ms=at,
            body=record["body"] if outcome == "dead" else None,
        )
        assert self.publisher is not None
        try:
            await self.publisher.publish(self.deliveries_topic, event, key=event.delivery_id)
        except Exception:
            # Not recorded: the delivery goes again later (at least once;
            # receivers deduplicate on Microcred-Delivery).
            await self.client.zadd(self._key(WEBHOOK_QUEUE), {record["id"]: at + 1000})
            raise
        await self.finished(event)

    async def finished(self, event: WebhookDeliveryFinished) -> None:
        """A delivery's end into the tenant's log and dead letters, once
        (also when replayed from `issuer.webhook-deliveries`)."""
        entry = {
            "id": event.delivery_id,
            "webhookId": event.webhook_id,
            "type": event.kind,
            "outcome": event.outcome,
            "attempts": event.attempts,
            "lastStatus": event.last_status,
            "errors": event.errors,
            "at": format_datetime(datetime.fromtimestamp(event.at_ms / 1000, UTC)),
        }
        dead = orjson.dumps({**entry, "body": orjson.loads(event.body)}) if event.body else b""
        await self._finish(
            keys=[
                self._key(WEBHOOK_DONE),
                self._key(WEBHOOK_LOG, event.tenant),
                self._key(WEBHOOK_DEAD, event.tenant),
                self._key(WEBHOOK_DELIVERIES),
                self._key(WEBHOOK_QUEUE),
            ],
            args=[event.delivery_id, orjson.dumps(entry), dead, LOG_KEPT],
        )

    async def log(self, tenant: str, entity: str) -> list[dict[str, Any]]:
        """The tenant's delivery log (newest first) or dead letters."""
        raw = await self.client.lrange(self._key(entity, tenant), 0, LOG_KEPT - 1)
        return [orjson.loads(item) for item in raw]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def deliver_forever(
    webhooks: Webhooks,
    registry: RegistryIndex,
    ready: Callable[[], Awaitable[None]],
    every: float = 0.05,
) -> None:
    """The delivery worker of this instance (background task); also scans
    for expiring credentials every `expiring_scan_seconds`. Each round waits
    until the issuer's replica caught up: after a Redis wipe, which
    deliveries finished before is known again before any is sent."""
    next_scan = 0.0
    while True:
        await ready()
        if time.monotonic() >= next_scan:
            next_scan = time.monotonic() + webhooks.settings.expiring_scan_seconds
            try:
                await webhooks.expiring(registry)
            except Exception as error:
                _round_failed("webhook.expiring_scan_failed", error)
        try:
            if not await webhooks.deliver_due():
                await asyncio.sleep(every)
        except Exception as error:  # Redis away a moment: next round
            _round_failed("webhook.round_failed", error)
            await asyncio.sleep(1.0)


def _round_failed(event: str, error: Exception) -> None:
    """One line for an infrastructure error (retried next round), a traceback
    for anything else (a bug to see)."""
    if is_transient(error):
        _log.warning(event, error=repr(error)[:300])
    else:
        _log.exception(event)
