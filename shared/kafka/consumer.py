"""The consume loop every service runs: decode, handle, dead-letter, advance.

Replica mode (`group_id=None`) reads every partition of its topics, from the
offsets in an `OffsetStore` or from the beginning: each service instance
keeps a full local replica. Group mode shares partitions between instances
and commits to Kafka after each handled batch.

A record never stalls the loop (architecture invariant 8): undecodable
records and handler `PoisonMessage`s go to `<topic>.dlq` at once, other
handler errors after a few retries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError

from shared.events import DEFAULT_REGISTRY, Event, EventRegistry, PoisonMessage, decode_event
from shared.kafka.offsets import OffsetStore
from shared.kafka.producer import Publisher
from shared.kafka.progress import Progress, Snapshot
from shared.kafka.topics import dlq_topic, topic_partitions
from shared.logging import get_logger

__all__ = ["ConsumerLoop", "Handler", "PoisonMessage"]

Handler = Callable[[Event, ConsumerRecord], Awaitable[None]]
_log = get_logger("shared.kafka.consumer")
MAX_REASON = 1000


class ConsumerLoop:
    """Consume `topics`, hand each decoded event to `handler`, never stall."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        dlq: Publisher,
        offsets: OffsetStore | None = None,
        group_id: str | None = None,
        registry: EventRegistry = DEFAULT_REGISTRY,
        client_id: str = "microcred",
        max_attempts: int = 4,
        retry_backoff: float = 0.2,
        poll_timeout_ms: int = 100,
        max_records: int = 500,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._handler = handler
        self._dlq = dlq
        self._offsets = offsets
        self._group_id = group_id
        self._registry = registry
        self._client_id = client_id
        self._max_attempts = max(1, max_attempts)
        self._retry_backoff = retry_backoff
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._consumer: AIOKafkaConsumer | None = None
        self._progress = Progress()
        self._stopping = False
        self._running = False
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ConsumerLoop(topics={self._topics!r}, group_id={self._group_id!r})"

    # -- state -------------------------------------------------------------

    @property
    def topics(self) -> tuple[str, ...]:
        return self._topics

    @property
    def caught_up(self) -> bool:
        """True once every assigned partition reached the end offset seen at start."""
        return self._progress.caught_up

    @property
    def alive(self) -> bool:
        """True while `run()` is looping (False before, after stop, or if it died)."""
        return self._running and self._failure is None

    def ready(self) -> bool:
        """A ready check: alive and caught up."""
        return self.alive and self.caught_up

    def snapshot(self) -> Snapshot:
        """Typed progress: counters and lag per partition."""
        highwater = self._consumer.highwater if self._consumer is not None else None
        return self._progress.snapshot(highwater)

    def progress(self) -> dict[str, object]:
        """Counts, lag per partition and flags, for /readyz details."""
        report = self.snapshot().as_dict()
        report["alive"] = self.alive
        return report

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Connect and assign (replica mode) or subscribe (group mode)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        try:
            if self._group_id is None:
                await self._assign_all(consumer)
            else:
                consumer.subscribe(self._topics, listener=_Rebalance(self, consumer))
        except BaseException:
            await consumer.stop()
            self._consumer = None
            raise
        _log.info("consumer.started", topics=list(self._topics), group_id=self._group_id)

    async def run(self) -> None:
        """Poll and handle until `stop()`; records a crash so `alive` turns False."""
        consumer = self._require_consumer()
        self._task = asyncio.current_task()
        self._running = True
        try:
            while not self._stopping:
                batches = await consumer.getmany(
                    timeout_ms=self._poll_timeout_ms, max_records=self._max_records
                )
                for tp, records in batches.items():
                    await self._handle_batch(consumer, tp, records)
                await self._refresh_positions(consumer)
        except Exception as exc:
            self._failure = exc
            _log.exception("consumer.crashed", topics=list(self._topics))
            raise
        finally:
            self._running = False

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Finish the current batch (or cancel after `timeout`), then disconnect."""
        self._stopping = True
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
            _log.info("consumer.stopped", topics=list(self._topics))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ConsumerLoop]:
        """start(), run() as a task, and stop() on exit (for cleanup contexts)."""
        await self.start()
        task = asyncio.create_task(self.run(), name=f"consumer:{','.join(self._topics)}")
        try:
            yield self
        finally:
            await self.stop()
            if not task.done():  # stop() waits for it; belt and braces
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("ConsumerLoop.start() must be awaited first")
        return self._consumer

    # -- assignment ----------------------------------------------------------

    async def _assign_all(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await topic_partitions(self._bootstrap, self._topics)
        tps = [TopicPartition(t, p) for t in self._topics for p in partitions[t]]
        consumer.assign(tps)
        stored: dict[str, dict[int, int]] = {}
        if self._offsets is not None:
            stored = {topic: await self._offsets.load(topic) for topic in self._topics}
        begin = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        for tp in tps:
            start = stored.get(tp.topic, {}).get(tp.partition, begin[tp])
            if not begin[tp] <= start <= end[tp]:
                _log.warning(
                    "consumer.offset_out_of_range", topic=tp.topic, partition=tp.partition,
                    stored=start, begin=begin[tp], end=end[tp],
                )  # fmt: skip
                start = begin[tp]
            consumer.seek(tp, start)
            self._progress.track(tp, start, end[tp])
        self._progress.assigned()

    async def on_assigned(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Group mode: remember the end offsets of newly assigned partitions."""
        end = await consumer.end_offsets(tps) if tps else {}
        for tp in tps:  # the position is known only after the first fetch
            self._progress.track(tp, None, end[tp])
        self._progress.assigned()

    def on_revoked(self, tps: list[TopicPartition]) -> None:
        for tp in tps:
            self._progress.untrack(tp)

    # -- handling ------------------------------------------------------------

    async def _handle_batch(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord]
    ) -> None:
        for record in records:
            with structlog.contextvars.bound_contextvars(
                topic=record.topic, partition=record.partition, offset=record.offset
            ):
                await self._handle_record(record)
            self._progress.handled(tp, record.offset + 1)
        if not records:
            return
        next_offset = records[-1].offset + 1
        if self._offsets is not None:
            await self._offsets.save(tp.topic, {tp.partition: next_offset})
        if self._group_id is not None:
            try:
                await consumer.commit({tp: next_offset})
            except CommitFailedError:
                _log.warning("consumer.commit_failed", topic=tp.topic, partition=tp.partition)

    async def _handle_record(self, record: ConsumerRecord) -> None:
        if record.value is None:  # a tombstone: nothing to decode or apply
            _log.debug("message.tombstone_skipped")
            return
        try:
            event = decode_event(record.value, self._registry)
        except PoisonMessage as poison:
            await self._dead_letter(record, poison.reason)
            return
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._handler(event, record)
                return
            except PoisonMessage as poison:
                await self._dead_letter(record, poison.reason)
                return
            except Exception as exc:
                reason = f"handler failed {attempt} times: {type(exc).__name__}: {exc}"
                if attempt == self._max_attempts:
                    _log.exception("message.handler_gave_up", event_type=event.TYPE)
                    await self._dead_letter(record, reason)
                    return
                _log.warning("message.handler_failed", attempt=attempt, error=repr(exc))
                await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        reason = reason[:MAX_REASON]
        headers = [
            *(record.headers or ()),
            ("dlq.reason", reason.encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
        ]
        target = dlq_topic(record.topic)
        delay = 0.5
        while True:
            try:
                await self._dlq.publish_raw(target, record.value, key=record.key, headers=headers)
                break
            except Exception:
                if self._stopping:
                    raise
                _log.exception("message.dead_letter_failed", dlq_topic=target)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        self._progress.dead_lettered()
        _log.warning("message.dead_lettered", dlq_topic=target, reason=reason)

    async def _refresh_positions(self, consumer: AIOKafkaConsumer) -> None:
        """Partitions not yet caught up: take the fetch position (skips gaps)."""
        for tp in self._progress.lagging():
            with contextlib.suppress(Exception):  # e.g. revoked meanwhile
                self._progress.position_at(tp, await consumer.position(tp))


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumerLoop, consumer: AIOKafkaConsumer) -> None:
        self._loop = loop
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._loop.on_revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._loop.on_assigned(self._consumer, list(assigned))
