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

from shared.kafka.consumer import BatchHandler, ConsumerLoop, Handler
from shared.kafka.offsets import MemoryOffsetStore, OffsetStore, RedisOffsetStore
from shared.kafka.producer import EventProducer
from shared.kafka.topics import all_topic_specs, ensure_topics, is_compacted, topic_name
from shared.logging import configure_logging, get_logger
from shared.settings import CommonSettings, SettingsError
from shared.web.app import add_ready_check, run_app, tune_process
from shared.web.consumers import serve_consumer

_log = get_logger("shared.service")

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
RedisFactory = Callable[[str], redis.Redis]

REDIS: web.AppKey[redis.Redis] = web.AppKey("shared.redis", redis.Redis)
PRODUCER: web.AppKey[EventProducer] = web.AppKey("shared.producer", EventProducer)
# The replica consumer whose state the service's writes depend on: its
# caught-up signal is the one gate for them (`require_caught_up`).
STATE_REPLICA: web.AppKey[ConsumerLoop] = web.AppKey("shared.state_replica", ConsumerLoop)


REDIS_CONNECTIONS = 100  # per process, as redis-py's default pool
REDIS_POOL_WAIT_SECONDS = 5.0


def connect_redis(url: str) -> redis.Redis:
    """The Redis client of a service process. When all its connections are
    busy (a burst of requests), a call waits up to 5 s for one instead of
    failing at once, as redis-py's default pool does (MaxConnectionsError:
    a 503 for a request, a restart for a consumer sharing the pool)."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_POOL_WAIT_SECONDS
    )
    return redis.Redis.from_pool(pool)


def redis_context(settings: CommonSettings, factory: RedisFactory) -> CleanupContext:
    """The Redis client. It connects on first use: a service starts while
    Redis is down, and its consumers and requests wait or answer 503."""

    async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
        app[REDIS] = client = factory(settings.redis_url)
        yield
        await client.aclose()

    return redis_ctx


def kafka_context(settings: CommonSettings) -> CleanupContext:
    """The acks=all producer, connected in the background (after creating the
    platform topics) with backoff: the service starts before Kafka does."""

    async def kafka_ctx(app: web.Application) -> AsyncIterator[None]:
        specs = all_topic_specs(settings.topic_prefix, settings.kafka_replication_factor)
        app[PRODUCER] = producer = EventProducer(
            settings.kafka_bootstrap, client_id=settings.service
        )
        add_ready_check(app, "kafka", lambda: producer.connected)

        async def prepare() -> None:
            await ensure_topics(settings.kafka_bootstrap, specs)

        connecting = asyncio.create_task(producer.connect(prepare))
        yield
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
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
    gates_state: bool = False,
    feed: web.AppKey[ConsumerLoop] | None = None,
    batch: Callable[[web.Application], BatchHandler] | None = None,
) -> CleanupContext:
    """Consume `topics` (base names) into this service.

    Replica mode (no `group_id`): every instance reads every partition into
    its state. `durable` keeps the offsets in Redis next to the state they
    produced, so a wiped Redis replays from the beginning; otherwise the
    offsets live in memory and every start replays (the verifier's replica).
    `gates_state` makes it the service's `STATE_REPLICA`.
    Group mode (`group_id`): instances share the partitions of a work queue,
    offsets committed to Kafka after handling; its backlog does not gate
    readiness.
    A feed (`feed`, the app key its loop is kept under): a replica with
    offsets and a generation of its own in Redis (`<prefix>:<name>`), so a
    wipe replays it too, shown in `/readyz` without ever gating readiness:
    the state it feeds is optional, and its readers check the loop.
    `batch`: the loop's batch handler (shared/kafka/consumer.py), if any."""

    async def consumer_ctx(app: web.Application) -> AsyncIterator[None]:
        offsets: OffsetStore | None = None
        if feed is not None:
            offsets = RedisOffsetStore(app[REDIS], f"{settings.redis_prefix}:{name}")
        elif group_id is None:
            offsets = (
                RedisOffsetStore(app[REDIS], settings.redis_prefix)
                if durable
                else MemoryOffsetStore()
            )
        names = [topic_name(settings, base) for base in topics]
        loop = ConsumerLoop(
            settings.kafka_bootstrap,
            names,
            handler(app),
            dlq=app[PRODUCER],
            batch_handler=None if batch is None else batch(app),
            offsets=offsets,
            group_id=None if group_id is None else topic_name(settings, group_id),
            compacted=[name for name in names if is_compacted(settings, name)],
            client_id=f"{settings.service}-{name}",
        )
        if gates_state:
            app[STATE_REPLICA] = loop
        if feed is not None:
            app[feed] = loop
        async with serve_consumer(
            app,
            name,
            loop,
            backlog_gates_readiness=group_id is None,
            gates_readiness=feed is None,
        ):
            yield

    return consumer_ctx


CANCEL_AGAIN_SECONDS = 1.0


def _report_end(task: asyncio.Task[None]) -> None:
    """A background task is meant to run for the app's lifetime: one that
    ends by an error is logged at once, not found silent at shutdown."""
    if not task.cancelled() and task.exception() is not None:
        _log.error("background_task.died", task=task.get_name(), exc_info=task.exception())


def background_task(work: Callable[[web.Application], Coroutine[Any, Any, None]]) -> CleanupContext:
    """Run `work(app)` as a task for the app's lifetime; cancelled at shutdown,
    again each second until it ends: a cancellation that reaches a Redis call
    can be lost there (seen under load, shared/idempotency.py), and the loops
    run here retry on errors, so one lost cancellation would hold the
    shutdown until the process is killed."""

    async def task_ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app))
        task.add_done_callback(_report_end)
        yield
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=CANCEL_AGAIN_SECONDS)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return task_ctx


def replicated_state(
    settings: CommonSettings,
    *,
    redis_factory: RedisFactory,
    stores: Callable[[web.Application, redis.Redis, EventProducer], None],
    replica: str,
    topics: Sequence[str],
    handler: Callable[[web.Application], Handler],
    batch: Callable[[web.Application], BatchHandler] | None = None,
) -> list[CleanupContext]:
    """A service whose Redis state is rebuilt from Kafka, in start order:
    Redis, the producer (and topics), the service's `stores` on them, and the
    replica consumer of `topics`, which gates the writes (`STATE_REPLICA`).
    Its offsets are kept by generation: after a Redis wipe it replays by
    itself (`shared.kafka.offsets`)."""

    async def stores_ctx(app: web.Application) -> AsyncIterator[None]:
        stores(app, app[REDIS], app[PRODUCER])
        yield

    return [
        redis_context(settings, redis_factory),
        kafka_context(settings),
        stores_ctx,
        consumer_context(settings, replica, topics, handler, gates_state=True, batch=batch),
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
    tune_process()
    run_app(build(settings), settings.common)
