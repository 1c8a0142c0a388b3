"""Bulk award jobs: stage an uploaded file on Kafka, then describe or cancel it.

An upload is streamed: each line is read, numbered and produced to
`issuer.bulk-rows` (keyed by the job id, so all of a job's rows sit on one
partition, in order) in batches, and never held whole in memory. Once every
row is acknowledged (acks=all), a `BulkJobChanged(queued)` on
`issuer.bulk-jobs` names where they are: that event is what makes the job
exist, so an upload cut short leaves no job behind. The rows are then
awarded by `bulk_runner.BulkRunner`.

Idempotency-Key (IETF httpapi draft): the request fingerprint is the hash of
the file as sent and its format, known only once it was read; a retry with
the same key and file answers the first job (its second staging is never
referenced), the same key with another file is a 422.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson

from services.issuer.bulk_store import BulkJob, BulkJobStore
from services.issuer.domain.bulk_rows import FileError, Format, csv_header, record_complete
from services.issuer.domain.errors import (
    BulkFileTooLarge,
    BulkJobFinished,
    BulkJobNotFound,
    InvalidBulkFile,
)
from shared.events import BulkJobChanged
from shared.kafka.producer import EventProducer, Published
from shared.logging import get_logger

_log = get_logger("issuer.bulk")

MAX_LINE_BYTES = 64 * 1024
MAX_ROWS = 1_000_000
# The work of one upload is bounded by what is read, not only by the rows it
# makes: its bytes as decoded (a small gzip body can inflate a thousandfold)
# and its lines, blank ones included.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_LINES = 2 * MAX_ROWS
STAGE_BATCH = 2_000


@dataclass
class _Staging:
    """Where a job's rows went, filled in as they are produced."""

    job_id: str
    rows: int = 0
    first: Published | None = None
    last: Published | None = None
    columns: list[str] = field(default_factory=list)
    open_record: str = ""  # a CSV record whose quoted field goes on to the next line
    pending: list[tuple[str | bytes, bytes]] = field(default_factory=list)


async def _lines(chunks: AsyncIterator[bytes], digest: hashlib._Hash) -> AsyncIterator[bytes]:
    """Physical lines of a streamed body (without line ends), each at most
    `MAX_LINE_BYTES`, at most `MAX_LINES` of them in `MAX_FILE_BYTES`; the
    body's bytes are hashed into `digest` on the way. Other requests get
    their turn between chunks (a chunk can be thousands of blank lines)."""

    def bounded(line: bytes) -> bytes:
        line = line.removesuffix(b"\r")
        if len(line) > MAX_LINE_BYTES:
            raise BulkFileTooLarge(f"a line is longer than {MAX_LINE_BYTES} bytes")
        return line

    buffer, size, count = b"", 0, 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise BulkFileTooLarge(f"a file is at most {MAX_FILE_BYTES // 2**20} MiB (decoded)")
        digest.update(chunk)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        count += len(lines)
        if count > MAX_LINES:
            raise BulkFileTooLarge(f"a file has at most {MAX_LINES} lines, blank ones included")
        for line in lines:
            yield bounded(line)
        if len(buffer) > MAX_LINE_BYTES + 1:  # too long before its line end comes
            raise BulkFileTooLarge(f"a line is longer than {MAX_LINE_BYTES} bytes")
        await asyncio.sleep(0)
    if buffer:
        yield bounded(buffer)


@dataclass(frozen=True)
class BulkJobs:
    """Creating, reading and cancelling bulk jobs (running them: bulk_runner)."""

    store: BulkJobStore
    producer: EventProducer
    jobs_topic: str  # issuer.bulk-jobs, with the deployment's prefix
    rows_topic: str  # issuer.bulk-rows
    require_caught_up: Callable[[], None]  # raises Rebuilding

    async def create(
        self, tenant: str, form: Format, chunks: AsyncIterator[bytes], key: str | None
    ) -> tuple[BulkJob, bool]:
        """Stage the file and queue its job; the job and whether it is new."""
        self.require_caught_up()
        digest = hashlib.sha256(form.encode() + b"\n")
        staging = _Staging(job_id=str(uuid.uuid4()))
        async for line in _lines(chunks, digest):
            await self._stage_line(staging, form, line)
        if staging.open_record:  # unbalanced quotes to the end: a malformed row
            await self._add_row(staging, staging.open_record)
        await self._flush(staging)
        if staging.rows == 0 or staging.first is None or staging.last is None:
            raise InvalidBulkFile("the file has no rows")
        first, last = staging.first, staging.last

        async def queue(key: str | None, request: str | None) -> BulkJob:
            event = BulkJobChanged(
                job_id=staging.job_id,
                tenant=tenant,
                change="queued",
                rows=staging.rows,
                format=form,
                partition=first.partition,
                first_offset=first.offset,
                last_offset=last.offset,
                columns=staging.columns,
                idempotency_key=key,
                request_hash=request,
            )
            await self.producer.publish(self.jobs_topic, event, key=event.job_id)
            await self.store.apply(event)
            _log.info("bulk_job.queued", job_id=event.job_id, rows=event.rows)
            return await self._job(event.job_id)

        return await self.store.idempotency.once(
            tenant, key, digest.hexdigest(), queue, self.store.job
        )

    async def _stage_line(self, staging: _Staging, form: Format, raw: bytes) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidBulkFile(f"the file is not UTF-8: {error}") from None
        if form == "csv" and not staging.columns:
            if line.strip():
                try:
                    staging.columns = csv_header(line.removeprefix("\ufeff"))
                except FileError as error:
                    raise InvalidBulkFile(str(error)) from None
            return
        if form == "csv":
            text = f"{staging.open_record}\n{line}" if staging.open_record else line
            if staging.open_record and len(text.encode()) > MAX_LINE_BYTES:
                raise BulkFileTooLarge(f"a record is longer than {MAX_LINE_BYTES} bytes")
            if not record_complete(text):  # a quoted line break (RFC 4180 §2.6)
                staging.open_record = text
                return
            staging.open_record, line = "", text
        if line.strip():
            await self._add_row(staging, line)

    async def _add_row(self, staging: _Staging, text: str) -> None:
        if staging.rows >= MAX_ROWS:
            raise BulkFileTooLarge(f"a job takes at most {MAX_ROWS} rows")
        staging.rows += 1
        value = orjson.dumps({"row": staging.rows, "text": text})
        staging.pending.append((staging.job_id, value))
        if len(staging.pending) >= STAGE_BATCH:
            await self._flush(staging)

    async def _flush(self, staging: _Staging) -> None:
        if not staging.pending:
            return
        published = await self.producer.publish_batch(self.rows_topic, staging.pending)
        staging.pending = []
        staging.first = staging.first or published[0]
        staging.last = published[-1]

    async def _job(self, job_id: str) -> BulkJob:
        """A job this request just stored."""
        job = await self.store.job(job_id)
        if job is None:
            await self.store.state.missing(f"bulk job {job_id}")
        return job

    async def own(self, tenant: str, job_id: str) -> BulkJob:
        """The tenant's job; another tenant's reads as missing (invariant 7)."""
        job = await self.store.job(job_id)
        if job is None or job.tenant != tenant:
            await self.store.state.require()  # missing only because of a rebuild: 503
            raise BulkJobNotFound("no such bulk job")
        return job

    async def cancel(self, tenant: str, job_id: str) -> BulkJob:
        """Stop the job after the rows in flight; the rows done keep their credentials."""
        self.require_caught_up()
        job = await self.own(tenant, job_id)
        if job.state in ("done", "failed"):
            raise BulkJobFinished(f"the job is {job.state} already")
        if not job.cancel_requested:
            event = BulkJobChanged(job_id=job_id, tenant=tenant, change="cancelled")
            await self.producer.publish(self.jobs_topic, event, key=job_id)
            await self.store.apply(event)
            _log.info("bulk_job.cancelled", job_id=job_id)
        return await self._job(job_id)
