"""The resources every service runs with, as aiohttp cleanup contexts.

A service's `create_app` lists the contexts it needs; aiohttp enters them in
order at start-up and leaves them in reverse at shutdown, and only those that
started (aiohttp `cleanup_ctx`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

import redis.asyncio as redis
from aiohttp import web

from shared.kafka.consumer import ConsumerLoop, Handler
from shared.kafka.offsets import MemoryOffsetStore, OffsetStore, RedisOffsetStore
from shared.kafka.producer import EventProducer
from shared.kafka.topics import all_topic_specs, ensure_topics, topic_name
from shared.logging import configure_logging, get_logger
from shared.redis_keys import replayed_key
from shared.settings import CommonSettings, SettingsError
from shared.web.app import READY_CHECKS, add_ready_check, run_app
from shared.web.consumers import serve_consumer

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
RedisFactory = Callable[[str], redis.Redis]

_log = get_logger("shared.service")

REDIS: web.AppKey[redis.Redis] = web.AppKey("shared.redis", redis.Redis)
PRODUCER: web.AppKey[EventProducer] = web.AppKey("shared.producer", EventProducer)


def redis_context(settings: CommonSettings, factory: RedisFactory) -> CleanupContext:
    async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
        app[REDIS] = client = factory(settings.redis_url)
        await client.ping()  # fail fast, not half-started
        yield
        await client.aclose()

    return redis_ctx


def kafka_context(settings: CommonSettings) -> CleanupContext:
    """Create the platform topics if missing, then run the acks=all producer."""

    async def kafka_ctx(app: web.Application) -> AsyncIterator[None]:
        specs = all_topic_specs(settings.topic_prefix, settings.kafka_replication_factor)
        await ensure_topics(settings.kafka_bootstrap, specs)
        producer = EventProducer(settings.kafka_bootstrap, client_id=settings.service)
        await producer.start()
        app[PRODUCER] = producer
        yield
        await producer.stop()

    return kafka_ctx


def consumer_context(
    settings: CommonSettings,
    name: str,
    topics: Sequence[str],
    handler: Callable[[web.Application], Handler],
    *,
    durable: bool = True,
    group_id: str | None = None,
) -> CleanupContext:
    """Consume `topics` (base names) into this service.

    Replica mode (no `group_id`): every instance reads every partition into
    its state. `durable` keeps the offsets in Redis next to the state they
    produced, so a wiped Redis replays from the beginning; otherwise the
    offsets live in memory and every start replays (the verifier's replica).
    Group mode (`group_id`): instances share the partitions of a work queue,
    offsets committed to Kafka after handling; its backlog does not gate
    readiness."""

    async def consumer_ctx(app: web.Application) -> AsyncIterator[None]:
        offsets: OffsetStore | None = None
        if group_id is None:
            offsets = (
                RedisOffsetStore(app[REDIS], settings.redis_prefix)
                if durable
                else MemoryOffsetStore()
            )
        loop = ConsumerLoop(
            settings.kafka_bootstrap,
            [topic_name(settings, base) for base in topics],
            handler(app),
            dlq=app[PRODUCER],
            offsets=offsets,
            group_id=None if group_id is None else topic_name(settings, group_id),
            client_id=f"{settings.service}-{name}",
        )
        async with serve_consumer(app, name, loop, backlog_gates_readiness=group_id is None):
            yield

    return consumer_ctx


def background_task(work: Callable[[web.Application], Coroutine[Any, Any, None]]) -> CleanupContext:
    """Run `work(app)` as a task for the app's lifetime; cancelled at shutdown."""

    async def task_ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return task_ctx


def replay_guard(settings: CommonSettings, replica: str) -> CleanupContext:
    """Mark the Redis state as rebuilt once the `replica` consumer caught up,
    and report not ready if that mark disappears: Redis was wiped under the
    running service, which must restart to replay (invariant 3)."""

    async def guard(app: web.Application) -> None:
        state = {"ok": False}
        add_ready_check(app, "replayed-state", lambda: state["ok"])
        client, marker, marked = app[REDIS], replayed_key(settings.redis_prefix), False
        while True:
            if not marked and app[READY_CHECKS].checks[replica].check():
                await client.set(marker, "1")
                marked = True
            intact = marked and bool(await client.exists(marker))
            if state["ok"] and not intact:
                _log.error("redis.state_lost", action="restart the service to replay Kafka")
            state["ok"] = intact
            await asyncio.sleep(0.5)

    return background_task(guard)


def replicated_state(
    settings: CommonSettings,
    *,
    redis_factory: RedisFactory,
    stores: Callable[[web.Application, redis.Redis], None],
    replica: str,
    topics: Sequence[str],
    handler: Callable[[web.Application], Handler],
) -> list[CleanupContext]:
    """A service whose Redis state is rebuilt from Kafka, in start order:
    Redis, the service's `stores` on it, the producer (and topics), the
    replica consumer of `topics`, and the replay guard."""

    async def stores_ctx(app: web.Application) -> AsyncIterator[None]:
        stores(app, app[REDIS])
        yield

    return [
        redis_context(settings, redis_factory),
        stores_ctx,
        kafka_context(settings),
        consumer_context(settings, replica, topics, handler),
        replay_guard(settings, replica),
    ]


class ServiceSettings(Protocol):
    @property
    def common(self) -> CommonSettings: ...


S = TypeVar("S", bound=ServiceSettings)


def run_service(name: str, load: Callable[[], S], build: Callable[[S], web.Application]) -> None:
    """A service's `main`: settings from the environment (a bad value is one
    clear line and exit status 2, not a traceback), logging, then serve."""
    try:
        settings = load()
    except SettingsError as error:
        sys.stderr.write(f"{name}: configuration error: {error}\n")
        raise SystemExit(2) from None
    configure_logging(name, settings.common.log_level)
    run_app(build(settings), settings.common)
