"""Webhook signatures, backoff and the per-tenant filter (fakeredis)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from typing import Any

import fakeredis
import orjson
import pytest
import redis

from services.issuer.domain.webhook_events import (
    WebhookIn,
    WebhookSecrets,
    backoff_ms,
    outbound,
    sign,
)
from services.issuer.settings import WebhookSettings
from services.issuer.webhooks import MAX_WEBHOOKS, TooManyWebhooks, Webhooks
from shared.errors import InvalidField, Unavailable
from shared.events import (
    CredentialIssued,
    Event,
    StatusChanged,
    StatusEntryRef,
    WebhookDeliveryFinished,
    WebhookRegistered,
)
from shared.kafka.producer import Publisher
from shared.redis_keys import WEBHOOK_DEAD, WEBHOOK_LOG, WEBHOOK_QUEUE, redis_key
from shared.web.safe_fetch import FetchError, SafeFetcher


def test_signature_recipe() -> None:
    secret, body = b"s" * 32, b'{"a":1}'
    header = sign(secret, 1_700_000_000, body)
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert t == "1700000000"
    assert v1 == hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(secret, 1_700_000_001, body) != header  # the time is signed too


def test_backoff_doubles_and_is_capped() -> None:
    settings = WebhookSettings(retry_base_ms=100, retry_cap_ms=500)
    assert [backoff_ms(settings, n) for n in range(1, 6)] == [100, 200, 400, 500, 500]


def test_only_the_events_we_notify() -> None:
    change = StatusChanged(
        tenant="uni",
        list_id="l",
        list_url="u",
        issuer_did="d",
        purpose="suspension",
        index=1,
        value=0,
        credential_id="c",
    )
    assert outbound(change) == (
        "uni",
        "credential.reinstated",
        {"credentialId": "c", "reason": None},
    )


class Recorder(Publisher):
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, topic: str, event: Event, *, key: str | None = None) -> None:
        self.events.append(event)


async def caught_up() -> None:
    """The issuer's replica, always caught up here."""


class FailingFetcher(SafeFetcher):
    def __init__(self, answers: list[int | None]) -> None:
        super().__init__()
        self.answers = answers
        self.calls: list[Mapping[str, str]] = []
        self.urls: list[str] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.calls.append(headers)
        self.urls.append(url)
        answer = self.answers.pop(0)
        if answer is None:
            raise FetchError("refused")
        return answer


@pytest.fixture
async def client() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    redis = fakeredis.FakeAsyncRedis()
    yield redis
    await redis.aclose()


def hooks(client: fakeredis.FakeAsyncRedis, fetcher: SafeFetcher) -> Webhooks:
    return Webhooks(
        client,
        "issuer",
        WebhookSecrets.from_master_key(b"m" * 32),
        WebhookSettings(retry_base_ms=1, retry_cap_ms=1, max_attempts=3),
        fetcher,
        Recorder(),  # type: ignore[abstract]
        "issuer.webhooks",
    )


def issued(tenant: str) -> CredentialIssued:
    return CredentialIssued(
        tenant=tenant,
        credential_id=f"urn:uuid:{tenant}",
        issuer_did="did:web:x",
        achievement_id="a",
        credential_jwt="x.y.z",
        status_entries=[StatusEntryRef(purpose="revocation", list_id="l", list_url="u", index=1)],
    )


async def drain(webhooks: Webhooks) -> None:
    for _ in range(50):
        await webhooks.deliver_due()
        await asyncio.sleep(0.005)


async def test_a_tenant_has_at_most_max_webhooks_active(
    client: fakeredis.FakeAsyncRedis,
) -> None:
    """The cap counts active webhooks of the tenant alone, also for
    registrations at the same moment; a deleted one frees its place."""
    webhooks = hooks(client, FailingFetcher([]))
    tries = [
        webhooks.register("uni", WebhookIn(url=f"https://hooks.uni.example/{n}"))
        for n in range(MAX_WEBHOOKS + 5)
    ]
    answers = await asyncio.gather(*tries, return_exceptions=True)
    made = [a for a in answers if isinstance(a, dict)]
    refused = [a for a in answers if isinstance(a, TooManyWebhooks)]
    assert (len(made), len(refused)) == (MAX_WEBHOOKS, 5)
    assert refused[0].status == 409 and refused[0].extra == {"allowed": MAX_WEBHOOKS}
    assert len(await webhooks.of_tenant("uni")) == MAX_WEBHOOKS
    await webhooks.register("other", WebhookIn(url="https://hooks.other.example/b"))  # its own cap
    await webhooks.delete("uni", made[0]["id"])
    await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/again"))
    with pytest.raises(TooManyWebhooks):
        await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/over"))


async def test_each_tenant_gets_its_own_and_retries_end_in_the_log(
    client: fakeredis.FakeAsyncRedis,
) -> None:
    fetcher = FailingFetcher([500, None, 204, 204, 500, 500, 500])
    webhooks = hooks(client, fetcher)
    ours = await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    await webhooks.register("other", WebhookIn(url="https://hooks.other.example/b"))
    for bad in (
        "http://hooks.uni.example/a",
        "https://[::1",
        "https://a:99999/",
        "https://a:x/",
        "https://hooks.uni.example:0/",
        "https://a b/",
        "https://xn--/",
    ):
        with pytest.raises(InvalidField):
            await webhooks.register("uni", WebhookIn(url=bad))
    handle = webhooks.handler(caught_up)
    event = issued("uni")
    later = issued("uni")
    await handle(event, None)  # type: ignore[arg-type]
    await handle(event, None)  # type: ignore[arg-type]  # redelivered: queued once
    await drain(webhooks)
    assert len(fetcher.calls) == 3  # 500, refused, then 204
    secret = bytes.fromhex(ours["secret"])
    log = await webhooks.log("uni", WEBHOOK_LOG)
    assert [(e["outcome"], e["attempts"]) for e in log] == [("delivered", 3)]
    assert await webhooks.log("other", WEBHOOK_LOG) == []
    assert fetcher.calls[-1]["Microcred-Signature"].startswith("t=")
    assert secret != WebhookSecrets.from_master_key(b"m" * 32).of("another")
    await handle(issued("other"), None)  # type: ignore[arg-type]
    await drain(webhooks)
    assert fetcher.urls[3:] == ["https://hooks.other.example/b"]  # only its own webhook

    await handle(later, None)  # type: ignore[arg-type]
    await drain(webhooks)
    dead = await webhooks.log("uni", WEBHOOK_DEAD)
    assert len(dead) == 1 and dead[0]["attempts"] == 3 and dead[0]["errors"] == ["HTTP 500"] * 3
    assert orjson.loads(orjson.dumps(dead[0]["body"]))["tenant"] == "uni"


async def test_a_delivery_recorded_but_never_queued_is_queued_when_read_again(
    client: fakeredis.FakeAsyncRedis,
) -> None:
    """A crash between recording a delivery and queueing it: the feed reads
    the event again after the restart, and the delivery is queued (it was
    recorded already, so before it stayed out of the queue, never sent)."""
    fetcher = FailingFetcher([204])
    webhooks = hooks(client, fetcher)
    await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    handle, event = webhooks.handler(caught_up), issued("uni")
    await handle(event, None)  # type: ignore[arg-type]
    await client.delete(redis_key("issuer", WEBHOOK_QUEUE))  # as if it died in between
    await handle(event, None)  # type: ignore[arg-type]
    await drain(webhooks)
    assert len(fetcher.calls) == 1


async def test_a_deleted_webhook_gets_no_more_attempts(client: fakeredis.FakeAsyncRedis) -> None:
    fetcher = FailingFetcher([503, 503, 503])
    webhooks = hooks(client, fetcher)
    hook = await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    await webhooks.handler(caught_up)(issued("uni"), None)  # type: ignore[arg-type]
    await webhooks.deliver_due()  # 503: to be retried
    await webhooks.delete("uni", hook["id"])
    await drain(webhooks)
    assert len(fetcher.calls) == 1  # none after the delete
    [dead] = await webhooks.log("uni", WEBHOOK_DEAD)
    assert dead["errors"] == ["HTTP 503", "the webhook was deleted"], dead


async def test_a_redis_wipe_loses_no_pending_delivery_and_sends_none_twice(
    client: fakeredis.FakeAsyncRedis,
) -> None:
    """What the replay after a wipe does (the issuer's replica, then the
    webhook feed from the beginning): the delivery that got through is not
    sent again, the one still pending is sent, the log is rebuilt."""
    fetcher = FailingFetcher([204, 500])
    webhooks = hooks(client, fetcher)
    await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    handle = webhooks.handler(caught_up)
    sent, pending = issued("uni"), issued("uni")
    await handle(sent, None)  # type: ignore[arg-type]
    await webhooks.deliver_due()
    await handle(pending, None)  # type: ignore[arg-type]
    await webhooks.deliver_due()  # 500: to be retried
    assert len(fetcher.calls) == 2

    await client.flushall()
    recorded = webhooks.publisher.events  # type: ignore[union-attr]
    for event in recorded:  # the replica: subscriptions and finished deliveries
        if isinstance(event, WebhookRegistered):
            await webhooks.remember(event)
        elif isinstance(event, WebhookDeliveryFinished):
            await webhooks.finished(event)
    for event in (sent, pending):  # the feed, replayed from the beginning
        await handle(event, None)  # type: ignore[arg-type]
    fetcher.answers.append(204)
    await drain(webhooks)
    deliveries = [c["Microcred-Delivery"] for c in fetcher.calls]
    assert len(deliveries) == 3 and deliveries[2] == deliveries[1] != deliveries[0]
    log = await webhooks.log("uni", WEBHOOK_LOG)
    assert [e["outcome"] for e in log] == ["delivered", "delivered"]
    for event in webhooks.publisher.events:  # type: ignore[union-attr]
        if isinstance(event, WebhookDeliveryFinished):
            await webhooks.finished(event)  # replayed again: logged once
    assert len(await webhooks.log("uni", WEBHOOK_LOG)) == 2


class KafkaDown(Recorder):
    async def publish(self, topic: str, event: Event, *, key: str | None = None) -> None:
        raise Unavailable("Kafka is unreachable")


async def test_a_delivery_whose_end_cannot_be_recorded_stays_queued(
    client: fakeredis.FakeAsyncRedis,
) -> None:
    """Kafka away when a delivery got through: its end is not recorded, so it
    is not logged as done and goes again (at least once), then is logged once."""
    fetcher = FailingFetcher([204, 204])
    webhooks = hooks(client, fetcher)
    await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    await webhooks.handler(caught_up)(issued("uni"), None)  # type: ignore[arg-type]
    down = dataclasses.replace(webhooks, publisher=KafkaDown())  # type: ignore[abstract]
    with pytest.raises(Unavailable):
        await down.deliver_due()
    assert await webhooks.log("uni", WEBHOOK_LOG) == []
    await asyncio.sleep(1.1)  # due again a second later
    await drain(webhooks)
    deliveries = [c["Microcred-Delivery"] for c in fetcher.calls]
    assert len(deliveries) == 2 and deliveries[0] == deliveries[1]
    log = await webhooks.log("uni", WEBHOOK_LOG)
    assert [(e["id"], e["outcome"]) for e in log] == [(deliveries[0], "delivered")]


async def test_a_delivery_whose_attempt_broke_off_is_due_again_after_its_lease(
    client: fakeredis.FakeAsyncRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis away a moment after the receiver answered (or the process
    killed): the attempt records nothing, but its claim was a lease, so the
    delivery is attempted again once the lease ends, never lost."""
    fetcher = FailingFetcher([500, 204])
    webhooks = hooks(client, fetcher)
    await webhooks.register("uni", WebhookIn(url="https://hooks.uni.example/a"))
    await webhooks.handler(caught_up)(issued("uni"), None)  # type: ignore[arg-type]
    hset = client.hset

    async def redis_away(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(client, "hset", hset)  # back for the next call
        raise redis.exceptions.ConnectionError("Redis away a moment")

    monkeypatch.setattr(client, "hset", redis_away)
    with pytest.raises(redis.exceptions.ConnectionError):
        await webhooks.deliver_due(lease_ms=100)
    assert await webhooks.deliver_due() == 0  # leased: no other instance takes it meanwhile
    await asyncio.sleep(0.15)
    await drain(webhooks)
    assert len(fetcher.calls) == 2
    log = await webhooks.log("uni", WEBHOOK_LOG)
    assert [e["outcome"] for e in log] == ["delivered"]
    assert await client.zcard(redis_key("issuer", WEBHOOK_QUEUE)) == 0
