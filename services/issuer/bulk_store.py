"""Bulk jobs' Redis state: derived, all of it (invariant 3).

The system of record is Kafka: `issuer.bulk-jobs` (each job queued,
cancelled, finished) and `issuer.bulk-rows` (its staged rows). Redis keeps
each job's record, the offset to resume from, its per-row results and
counters; they are rebuilt by replaying the job topic and running the job
again, every row of which replays its credential by its idempotency key.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as redis

from services.issuer.domain.bulk_rows import RowResult
from shared.errors import Rebuilding
from shared.events import BulkJobChanged
from shared.idempotency import IdempotencyRecords, lease
from shared.kafka.offsets import ReplayedState
from shared.redis_keys import (
    BULK_ACTIVE,
    BULK_COUNTS,
    BULK_JOBS,
    BULK_LOCK,
    BULK_RESULTS,
    generation_key,
    redis_key,
    replayed_key,
)
from shared.redis_scripts import NOT_REPLAYED, RECORD_BULK_RESULTS, SET_BULK_STATE

TERMINAL = frozenset({"done", "cancelled", "failed"})


@dataclass(frozen=True)
class BulkJob:
    id: str
    tenant: str
    format: str
    columns: list[str]
    rows: int
    partition: int
    first_offset: int
    last_offset: int
    next_offset: int
    state: str
    cancel_requested: bool
    finish_published: bool
    created_at: str
    generation: str  # the Redis state generation it was read in (its writes hold only there)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL


def _text(value: bytes | str | None, default: str = "") -> str:
    if value is None:
        return default
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


class BulkJobStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self.state = ReplayedState(client, prefix)
        self.idempotency = IdempotencyRecords(client, prefix, "bulk-jobs")
        self._record = client.register_script(RECORD_BULK_RESULTS)
        self._set_state = client.register_script(SET_BULK_STATE)
        self._generation = generation_key(prefix)
        self._replayed = replayed_key(prefix)

    def _job_key(self, job_id: str) -> str:
        return redis_key(self._prefix, BULK_JOBS, job_id)

    def _results_key(self, job_id: str) -> str:
        return redis_key(self._prefix, BULK_RESULTS, job_id)

    def _counts_key(self, job_id: str) -> str:
        return redis_key(self._prefix, BULK_COUNTS, job_id)

    def running(self, job_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """The job's lease while an instance runs it (`Conflict` when another does)."""
        return lease(self._redis, redis_key(self._prefix, BULK_LOCK, job_id), wait=0.05)

    async def apply(self, event: BulkJobChanged) -> None:
        """Record a change of a job (as written, or replayed from Kafka)."""
        key = self._job_key(event.job_id)
        if event.change == "queued":
            fields = {
                "tenant": event.tenant,
                "format": event.format,
                "columns": orjson.dumps(event.columns),
                "rows": event.rows,
                "partition": event.partition,
                "first_offset": event.first_offset,
                "last_offset": event.last_offset,
                "created_at": event.occurred_at,
            }
            await self._redis.hset(key, mapping=fields)  # type: ignore[arg-type]
            await self._redis.hsetnx(key, "next_offset", event.first_offset)
            if await self._redis.hsetnx(key, "state", "queued"):
                await self._redis.sadd(redis_key(self._prefix, BULK_ACTIVE), event.job_id)
            if event.idempotency_key and event.request_hash:
                await self.idempotency.remember(
                    event.tenant, event.idempotency_key, event.request_hash, event.job_id
                )
        elif event.change == "cancelled":
            await self._redis.hset(key, "cancel_requested", 1)
        else:
            await self._redis.hset(key, "finish_published", 1)

    async def job(self, job_id: str) -> BulkJob | None:
        generation = await self._redis.get(self._generation)  # first: a wipe after it shows
        raw = await self._redis.hgetall(self._job_key(job_id))
        f = {_text(k): _bytes(v) for k, v in raw.items()}
        if "tenant" not in f:
            return None
        return BulkJob(
            id=job_id,
            tenant=_text(f["tenant"]),
            format=_text(f.get("format"), "csv"),
            columns=list(orjson.loads(f.get("columns") or b"[]")),
            rows=int(f.get("rows") or 0),
            partition=int(f.get("partition") or 0),
            first_offset=int(f.get("first_offset") or 0),
            last_offset=int(f.get("last_offset") or 0),
            next_offset=int(f.get("next_offset") or 0),
            state=_text(f.get("state"), "queued"),
            cancel_requested=f.get("cancel_requested") == b"1",
            finish_published=f.get("finish_published") == b"1",
            created_at=_text(f.get("created_at")),
            generation=_text(generation),
        )

    async def set_state(self, job: BulkJob, state: str) -> None:
        """The job's state (`Rebuilding` when Redis was wiped since it was read)."""
        keys = [*self._guard(job), redis_key(self._prefix, BULK_ACTIVE)]
        args: list[str | int] = [job.generation, job.id, state, int(state in TERMINAL)]
        _guarded(await self._set_state(keys=keys, args=args))

    async def active(self) -> list[str]:
        members = await self._redis.smembers(redis_key(self._prefix, BULK_ACTIVE))
        return sorted(_text(m) for m in members)

    async def record(self, job: BulkJob, next_offset: int, results: list[RowResult]) -> int:
        """Each row's result once, its counters, and the offset to resume
        from, in one atomic step; the number of rows newly recorded
        (`Rebuilding` when Redis was wiped since the job was read)."""
        args: list[Any] = [job.generation, next_offset]
        for result in results:
            args += [result.row, result.to_json(), result.counter]
        keys = [*self._guard(job), self._results_key(job.id), self._counts_key(job.id)]
        return _guarded(await self._record(keys=keys, args=args))

    def _guard(self, job: BulkJob) -> list[str]:
        """The keys `_BULK_JOB_GUARD` reads (shared/redis_scripts.py)."""
        return [self._generation, self._replayed, self._job_key(job.id)]

    async def counts(self, job_id: str) -> dict[str, int]:
        raw = await self._redis.hgetall(self._counts_key(job_id))
        return {_text(k): int(v) for k, v in raw.items()}

    async def results(self, job_id: str, first: int, last: int) -> list[bytes]:
        """The recorded results of rows `first..last` (rows not done are left out)."""
        rows = [str(n) for n in range(first, last + 1)]
        found = await self._redis.hmget(self._results_key(job_id), rows)
        return [_bytes(value) for value in found if value is not None]


def _guarded(answer: int) -> int:
    if answer == NOT_REPLAYED:
        raise Rebuilding()
    return int(answer)
