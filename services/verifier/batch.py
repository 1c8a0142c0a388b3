"""Batch verification for job boards: JSON Lines in, JSON Lines out, streamed.

`POST /credentials/verify/batch` takes up to `batch_max_items` lines
(`application/x-ndjson` or `application/jsonl`; docs/api.md, "Batch"), each
read by the intake (a credential, a JWT or URL string, `{"image": base64}`,
optionally wrapped as `{"id", "options", ...}`), and answers one line per
item as soon as it completes: `{"index", "id"?, "report"}`, or `{"index",
"id"?, "error": problem}` for a line that holds no credential. The whole
batch fails only before streaming starts (415 media type, 413 too large or
too many lines, 422 no lines); after that every item gets a line, never a 500.
At most `batch_concurrency` items are verified at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from services.verifier.endorsements import EndorsementMemo
from services.verifier.intake import Intake, UnreadableSubmission, UnsupportedSubmission
from services.verifier.verification import Verifier
from shared.errors import DomainError
from shared.logging import get_logger
from shared.web.problems import Problem, domain_problem

BATCH_MEDIA_TYPES = frozenset({"application/x-ndjson", "application/jsonl"})
_log = get_logger("verifier.batch")


class BatchTooLarge(DomainError):
    """More bytes or lines than the verifier takes in one batch."""

    status = 413
    title = "Content Too Large"
    problem = "batch-too-large"


class EmptyBatch(DomainError):
    title = "Empty batch"
    problem = "empty-batch"


@dataclass(frozen=True)
class BatchLimits:
    max_items: int = 1000
    max_bytes: int = 32 * 1024 * 1024
    concurrency: int = 8


def split_lines(body: bytes, limits: BatchLimits) -> list[bytes]:
    """The non-blank lines (JSON Lines: one value per `\\n`-terminated line)."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise EmptyBatch("the batch has no lines: send one credential, JWT, URL or image per line")
    if len(lines) > limits.max_items:
        raise BatchTooLarge(
            f"the batch has {len(lines)} lines; at most {limits.max_items} are taken at once"
        )
    return lines


async def read_batch(request: web.Request, limits: BatchLimits) -> list[bytes]:
    """The batch's lines: 415 for another media type, 413 over `max_bytes`
    (declared or read) or `max_items`, 422 for none."""
    media_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if media_type not in BATCH_MEDIA_TYPES:
        raise UnsupportedSubmission(
            "send the batch as JSON Lines: application/x-ndjson or application/jsonl"
        )
    too_large = BatchTooLarge(f"the batch is over {limits.max_bytes} bytes")
    if request.content_length is not None and request.content_length > limits.max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limits.max_bytes:
            raise too_large
        chunks.append(chunk)
    return split_lines(b"".join(chunks), limits)


def _correlation(value: object) -> object:
    if isinstance(value, dict) and "@context" not in value:
        return value.get("id")
    return None


class BatchVerification:
    """Verifies a batch's lines with bounded concurrency, yielding each
    item's answer line as it completes."""

    def __init__(
        self,
        intake: Intake,
        verifier: Verifier,
        limits: BatchLimits,
        count: Callable[[str], None] = lambda verdict: None,
    ) -> None:
        self._intake = intake
        self._verifier = verifier
        self.limits = limits
        self._count = count

    async def results(self, lines: list[bytes]) -> AsyncGenerator[dict[str, Any], None]:
        """Answer lines in the order items complete. `concurrency` workers
        share the lines; each yields to the event loop after an item, so the
        writer streams what is done while verification (CPU-bound, rarely
        suspending) goes on, and other requests are served in between."""
        pending = iter(enumerate(lines))
        done: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        memo = EndorsementMemo()  # one provider's endorsements, verified once

        async def worker() -> None:
            for index, line in pending:  # one iterator: each line taken once
                done.put_nowait(await self.one(index, line, memo))
                await asyncio.sleep(0)

        workers = [asyncio.create_task(worker()) for _ in range(self.limits.concurrency)]
        try:
            for _ in lines:
                yield await done.get()
        finally:
            for task in workers:  # the client went away: stop the rest
                task.cancel()

    async def one(
        self, index: int, line: bytes, memo: EndorsementMemo | None = None
    ) -> dict[str, Any]:
        """The answer line for one item (never raises for a bad item)."""
        answer: dict[str, Any] = {"index": index}
        try:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise UnreadableSubmission(f"line {index} is not JSON: {error}") from None
            correlation = _correlation(value)
            if correlation is not None:
                answer["id"] = correlation
            entry = await self._intake.decode_entry(value)
            recipient = entry.options.get("recipient")
            report = await self._verifier.verify(
                entry.item, recipient=recipient if isinstance(recipient, str) else None, memo=memo
            )
        except DomainError as error:
            answer["error"] = domain_problem(error).body()
            return answer
        except Exception:  # one item's bug must not take the batch down
            _log.exception("batch.item_failed", index=index)
            answer["error"] = Problem(500, "this item could not be verified").body()
            return answer
        self._count(report.verdict)
        answer["report"] = report.to_vc_api()
        return answer
