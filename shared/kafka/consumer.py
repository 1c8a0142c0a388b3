"""The consume loop every service runs: decode, handle, dead-letter, advance.

Replica mode (`group_id=None`) reads every partition of its topics, from the
offsets in an `OffsetStore` or from the beginning: each service instance
keeps a full local replica. Group mode shares partitions between instances
and commits to Kafka after each handled batch.

A record never stalls the loop (architecture invariant 8): undecodable
records, `PoisonMessage`s and non-transient domain errors go to
`<topic>.dlq` at once, unexpected handler errors after a few retries. An
infrastructure error is not poison: the handler is retried with capped
backoff, and a loop that fails (Kafka or Redis gone) is restarted by its
supervisor (`run`), not ready meanwhile. A loop whose state was wiped
(`StateLost`) restarts at once and replays from the beginning; one whose
history is gone from Kafka (`HistoryLost`) stays not ready, saying so.

A loop may also have a `BatchHandler`: what a poll fetched, from every
partition, is then handed over whole (one Redis call for many records,
say); it returns the records it leaves to the handler, which then takes
them one by one with the mapping of errors above (a refusal dead-lettered
with its reason, say). Handlers are idempotent (a replay applies records
again), so when the batch handler fails, or a record of the batch does not
decode, the whole batch is applied again record by record.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, OffsetOutOfRangeError

from shared.errors import DomainError, Rebuilding, is_transient
from shared.events import DEFAULT_REGISTRY, Event, EventRegistry, PoisonMessage, decode_event
from shared.kafka.offsets import OffsetStore, StateLost
from shared.kafka.producer import Publisher
from shared.kafka.progress import Progress, Snapshot
from shared.kafka.topics import dlq_topic, topic_partitions
from shared.logging import get_logger

__all__ = ["BatchHandler", "ConsumerLoop", "Handler", "HistoryLost", "PoisonMessage", "in_runs"]

Handler = Callable[[Event, ConsumerRecord], Awaitable[None]]
# Returns the records it leaves to the handler, one by one.
BatchHandler = Callable[[list[tuple[Event, ConsumerRecord]]], Awaitable[Sequence[ConsumerRecord]]]
E = TypeVar("E", bound=Event)
_log = get_logger("shared.kafka.consumer")
MAX_REASON = 1000
RESTART_MIN_SECONDS = 0.5
RESTART_MAX_SECONDS = 10.0
HISTORY_LOST_RETRY_SECONDS = 30.0
STATE_CHECK_SECONDS = 0.5


def in_runs(
    handler: Handler, kind: type[E], many: Callable[[list[E]], Awaitable[None]]
) -> BatchHandler:
    """A batch handler, in the batch's order: each run of consecutive events
    of `kind` to `many` at once, every other event to `handler`."""

    async def handle(batch: list[tuple[Event, ConsumerRecord]]) -> Sequence[ConsumerRecord]:
        run: list[E] = []
        for event, record in batch:
            if isinstance(event, kind):
                run.append(event)
                continue
            if run:
                await many(run)
                run = []
            await handler(event, record)
        if run:
            await many(run)
        return ()

    return handle


class HistoryLost(Exception):
    """Records a replica needs are gone from a history topic (retention,
    deletion): rebuilding from what is left would be silently wrong."""


class ConsumerLoop:
    """Consume `topics`, hand each decoded event to `handler`, never stall."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        dlq: Publisher,
        batch_handler: BatchHandler | None = None,
        offsets: OffsetStore | None = None,
        group_id: str | None = None,
        compacted: Collection[str] = (),
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
        self._batch_handler = batch_handler
        self._dlq = dlq
        self._offsets = offsets
        self._group_id = group_id
        # Compacted topics may legitimately start past offset 0; history may not.
        self._compacted = frozenset(compacted)
        self._registry = registry
        self._client_id = client_id
        self._max_attempts = max(1, max_attempts)
        self._retry_backoff = retry_backoff
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._consumer: AIOKafkaConsumer | None = None
        self._progress = Progress()
        self._caught_up = asyncio.Event()
        self._stop = asyncio.Event()
        self._polling = False
        self._stalled = False  # a handler is retrying an infrastructure error
        self._restarts = 0
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ConsumerLoop(topics={self._topics!r}, group_id={self._group_id!r})"

    # -- state -------------------------------------------------------------

    @property
    def topics(self) -> tuple[str, ...]:
        return self._topics

    @property
    def caught_up(self) -> bool:
        """True once every assigned partition reached the end offset seen at
        (re)start; False again while the loop restarts or rebuilds."""
        return self._caught_up.is_set()

    async def wait_caught_up(self) -> None:
        """Return once the loop has caught up (the one "caught up" signal)."""
        await self._caught_up.wait()

    def require_caught_up(self) -> None:
        """Raise `Rebuilding` unless the state behind this loop is complete."""
        if not self.ready():
            raise Rebuilding()

    @property
    def alive(self) -> bool:
        """True while connected and polling, with no handler stuck on a fault."""
        return self._polling and not self._stalled

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
        report["caught_up"] = self.caught_up
        report["alive"] = self.alive
        report["restarts"] = self._restarts
        return report

    # -- lifecycle ---------------------------------------------------------

    async def run(self) -> None:
        """Connect and consume until `stop()`; on a failure, reconnect with
        capped exponential backoff (one log line per attempt)."""
        self._task = asyncio.current_task()
        delay = RESTART_MIN_SECONDS
        while not self._stop.is_set():
            try:
                await self._connect()
                await self._poll()
            except StateLost as lost:
                _log.warning("consumer.state_lost", reason=str(lost), action="replaying Kafka")
                delay = 0.0
            except HistoryLost as lost:
                _log.error("consumer.history_lost", reason=str(lost), action="not ready")
                delay = HISTORY_LOST_RETRY_SECONDS
            except Exception as error:
                if not is_transient(error):
                    _log.exception("consumer.crashed", topics=list(self._topics))
                _log.warning(
                    "consumer.restarting", error=repr(error)[:300], retry_in=round(delay, 2)
                )
            finally:
                if self._caught_up.is_set():  # it ran well before failing: retry soon
                    delay = min(delay, RESTART_MIN_SECONDS)
                await self._disconnect()
            if self._stop.is_set():
                break
            self._restarts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(max(delay * 2, RESTART_MIN_SECONDS), RESTART_MAX_SECONDS)

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Finish the current batch (or cancel after `timeout`), then disconnect."""
        self._stop.set()
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._disconnect()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ConsumerLoop]:
        """run() as a task, and stop() on exit (for cleanup contexts). Kafka
        need not be up: the loop connects when it can."""
        task = asyncio.create_task(self.run(), name=f"consumer:{','.join(self._topics)}")
        try:
            yield self
        finally:
            await self.stop()
            if not task.done():  # stop() waits for it; belt and braces
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _connect(self) -> None:
        """A new Kafka consumer, assigned (replica mode) or subscribed (group mode)."""
        self._progress.restart()
        self._caught_up.clear()
        replica = self._group_id is None
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=self._client_id,
            enable_auto_commit=False,
            # A replica never skips records silently: an offset that fell out
            # of the log raises OffsetOutOfRangeError (aiokafka
            # examples/local_state_consumer.py resets its state on it).
            auto_offset_reset="none" if replica else "earliest",
        )
        self._consumer = consumer
        await consumer.start()
        if replica:
            await self._assign_all(consumer)
        else:
            # The topics may still be being created (services start before
            # Kafka is ready): a subscription to a missing topic would wait
            # for the next metadata refresh (minutes), so wait for them here.
            await topic_partitions(self._bootstrap, self._topics)
            consumer.subscribe(self._topics, listener=_Rebalance(self, consumer))
        _log.info("consumer.started", topics=list(self._topics), group_id=self._group_id)

    async def _disconnect(self) -> None:
        self._polling = False
        self._caught_up.clear()
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()
            _log.info("consumer.stopped", topics=list(self._topics))

    # -- assignment ----------------------------------------------------------

    async def _assign_all(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await topic_partitions(self._bootstrap, self._topics)
        tps = [TopicPartition(t, p) for t in self._topics for p in partitions[t]]
        consumer.assign(tps)
        stored: dict[str, dict[int, int]] = {}
        if self._offsets is not None:
            if await self._offsets.open(self._topics):
                _log.info("consumer.replaying", topics=list(self._topics))
            stored = {topic: await self._offsets.load(topic) for topic in self._topics}
        begin = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        for tp in tps:
            start = self._start_offset(tp, stored.get(tp.topic, {}).get(tp.partition), begin, end)
            consumer.seek(tp, start)
            self._progress.track(tp, start, end[tp])
        self._progress.assigned()

    def _start_offset(
        self,
        tp: TopicPartition,
        stored: int | None,
        begin: dict[TopicPartition, int],
        end: dict[TopicPartition, int],
    ) -> int:
        """Where to resume `tp`: the stored offset, else the beginning. A
        history topic must still hold every record the state needs."""
        start = begin[tp] if stored is None else stored
        if begin[tp] <= start <= end[tp]:
            if stored is None and begin[tp] > 0 and tp.topic not in self._compacted:
                raise HistoryLost(f"{tp.topic}/{tp.partition} starts at {begin[tp]}, not 0")
            return start
        if tp.topic in self._compacted and start < begin[tp]:
            return begin[tp]  # compaction keeps the newest record of every key
        raise HistoryLost(
            f"{tp.topic}/{tp.partition}: state is at offset {start}, "
            f"the log holds {begin[tp]}..{end[tp]}"
        )

    async def on_assigned(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Group mode: remember the end offsets of newly assigned partitions."""
        end = await consumer.end_offsets(tps) if tps else {}
        for tp in tps:  # the position is known only after the first fetch
            self._progress.track(tp, None, end[tp])
        self._progress.assigned()

    def on_revoked(self, tps: list[TopicPartition]) -> None:
        for tp in tps:
            self._progress.untrack(tp)

    # -- polling -------------------------------------------------------------

    async def _poll(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        self._polling = True
        next_check = time.monotonic() + STATE_CHECK_SECONDS
        while not self._stop.is_set():
            try:
                batches = await consumer.getmany(
                    timeout_ms=self._poll_timeout_ms, max_records=self._max_records
                )
            except OffsetOutOfRangeError as error:
                raise HistoryLost(f"offset out of range: {error}") from None
            await self._handle_fetched(consumer, batches)
            await self._refresh_positions(consumer)
            if not self._caught_up.is_set() and self._progress.caught_up:
                await self._announce_caught_up()
            if self._offsets is not None and time.monotonic() >= next_check:
                await self._offsets.check()  # a wiped Redis: StateLost, replay
                next_check = time.monotonic() + STATE_CHECK_SECONDS

    async def _announce_caught_up(self) -> None:
        if self._offsets is not None and self._group_id is None:
            await self._offsets.replayed()
        self._caught_up.set()
        snap = self._progress.snapshot()
        _log.info("consumer.caught_up", topics=list(self._topics), handled=snap.handled)

    # -- handling ------------------------------------------------------------

    async def _handle_fetched(
        self, consumer: AIOKafkaConsumer, fetched: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        """What one poll fetched, every partition's records together (each
        partition's in its order): the batch handler's work per batch (a
        Redis call, say) is done once, not once per partition; then the
        partitions' next offsets are saved (one call per topic) and
        committed (one request)."""
        records = [record for each in fetched.values() for record in each]
        if not records:
            return
        left = await self._left_by_batch(records)
        for tp, each in fetched.items():
            for record in each:
                if _identity(record) in left:
                    with structlog.contextvars.bound_contextvars(
                        topic=record.topic, partition=record.partition, offset=record.offset
                    ):
                        await self._handle_record(record)
                self._progress.handled(tp, record.offset + 1)
        following = {tp: each[-1].offset + 1 for tp, each in fetched.items() if each}
        if self._offsets is not None:
            by_topic: dict[str, dict[int, int]] = {}
            for tp, offset in following.items():
                by_topic.setdefault(tp.topic, {})[tp.partition] = offset
            for topic, offsets in by_topic.items():
                await self._offsets.save(topic, offsets)
        if self._group_id is not None:
            try:
                await consumer.commit(following)
            except CommitFailedError:
                _log.warning("consumer.commit_failed", partitions=len(following))

    async def _left_by_batch(self, records: list[ConsumerRecord]) -> set[tuple[str, int, int]]:
        """The batch handed to the batch handler at once: the records left to
        handle one by one (all of them without a batch handler, when a
        record does not decode or the batch handler failed)."""
        every = {_identity(record) for record in records}
        if self._batch_handler is None or len(records) < 2:
            return every
        batch: list[tuple[Event, ConsumerRecord]] = []
        for record in records:
            if record.value is None:
                continue  # a tombstone: nothing to apply
            try:
                batch.append((decode_event(record.value, self._registry), record))
            except PoisonMessage:
                return every  # dead-lettered on the way record by record
        try:
            left = await self._batch_handler(batch)
        except StateLost:
            raise
        except Exception as error:
            _log.warning("batch.handled_by_record", records=len(records), error=repr(error)[:300])
            return every
        return {_identity(record) for record in left}

    async def _handle_record(self, record: ConsumerRecord) -> None:
        if record.value is None:  # a tombstone: nothing to decode or apply
            _log.debug("message.tombstone_skipped")
            return
        try:
            event = decode_event(record.value, self._registry)
        except PoisonMessage as poison:
            await self._dead_letter(record, poison.reason)
            return
        reason = await self._apply(event, record)
        if reason is not None:
            await self._dead_letter(record, reason)

    async def _apply(self, event: Event, record: ConsumerRecord) -> str | None:
        """Run the handler; None when done, else the reason to dead-letter.

        The one mapping of handler errors: poison and refused records are
        dead-lettered, infrastructure errors retried until they pass (the
        loop is not ready meanwhile), anything else retried a few times."""
        attempt, delay = 0, self._retry_backoff
        try:
            while True:
                attempt += 1
                try:
                    await self._handler(event, record)
                    return None
                except PoisonMessage as poison:
                    return poison.reason
                except DomainError as refused:
                    if not refused.transient:
                        return f"{refused.status} {refused.title}: {refused.detail}"
                    error: Exception = refused
                except StateLost:
                    raise
                except Exception as failure:
                    error = failure
                if self._stop.is_set():
                    raise error
                transient = is_transient(error)
                if not transient and attempt >= self._max_attempts:
                    _log.error("message.handler_gave_up", event_type=event.TYPE, exc_info=error)
                    return f"handler failed {attempt} times: {type(error).__name__}: {error}"
                self._stalled = transient
                _log.warning("message.handler_failed", attempt=attempt, error=repr(error)[:300])
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MAX_SECONDS)
        finally:
            self._stalled = False

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
            except Exception as error:
                if self._stop.is_set():
                    raise
                _log.warning("message.dead_letter_failed", dlq_topic=target, error=repr(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        self._progress.dead_lettered()
        _log.warning("message.dead_lettered", dlq_topic=target, reason=reason)

    async def _refresh_positions(self, consumer: AIOKafkaConsumer) -> None:
        """Partitions not yet caught up: take the fetch position (skips gaps)."""
        for tp in self._progress.lagging():
            with contextlib.suppress(Exception):  # e.g. revoked meanwhile
                self._progress.position_at(tp, await consumer.position(tp))


def _identity(record: ConsumerRecord) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumerLoop, consumer: AIOKafkaConsumer) -> None:
        self._loop = loop
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._loop.on_revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._loop.on_assigned(self._consumer, list(assigned))
