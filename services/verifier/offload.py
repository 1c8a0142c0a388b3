"""RDFC-1.0 off the event loop: a process pool for large documents.

JSON-LD expansion and canonicalisation are pure Python and CPU-bound; on the
event loop one large Data Integrity document would stall every other
request. Documents whose JSON is at least `inline_below` bytes go to a
process pool (shared/process_pool.py; each worker builds its context
registry once, in the initializer); smaller ones stay inline, where the
pickling and the round trip would cost more than the work (see README,
Benchmarks).

Both paths enforce the time cap (`MICROCRED_VERIFIER_CANON_MS`): the worker
stops itself at the deadline (`canonicalization_too_slow`), and the caller
stops waiting a moment later whatever happens. Either way the request is
answered 422 naming the limit, like the step cap
(`canonicalization_too_complex`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson

from services.verifier.budget import LimitExceeded
from shared.credentials.errors import ContextError, CredentialError
from shared.credentials.jsonld import default_registry
from shared.errors import Unavailable
from shared.logging import get_logger
from shared.process_pool import spawn_pool

# The RDFC-1.0 work caps of the credential core: answered as a request limit.
_WORK_CODES = frozenset({"canonicalization_too_complex", "canonicalization_too_slow"})
_GRACE_SECONDS = 0.5
_log = get_logger("verifier.offload")

Outcome = tuple[str, str, str, str | None]  # ("ok", n-quads, "", None) or ("error", code, ...)


def _warm(allow_examples: bool) -> None:
    default_registry(allow_examples=allow_examples)


def _canonize_in_worker(payload: bytes, path: str, seconds: float, allow_examples: bool) -> Outcome:
    """Runs in a pool process: errors come back as plain values (pickle-safe)."""
    try:
        registry = default_registry(allow_examples=allow_examples)
        nquads = registry.canonize(orjson.loads(payload), path=path, seconds=seconds)
    except CredentialError as error:
        return ("error", error.code, error.detail, error.path)
    return ("ok", nquads, "", None)


class CanonPool:
    """A `Canonicalizer` (shared.credentials.data_integrity) for the verifier."""

    def __init__(
        self,
        processes: int,
        *,
        canon_ms: int,
        inline_below: int = 8 * 1024,
        allow_examples: bool = False,
    ) -> None:
        self.processes = processes
        # the W3C example contexts too (MICROCRED_JSONLD_EXAMPLE_CONTEXTS)
        self.allow_examples = allow_examples
        self.contexts = default_registry(allow_examples=allow_examples)
        self.seconds = canon_ms / 1000
        self.inline_below = inline_below
        self._pool: ProcessPoolExecutor | None = None
        self.warm = processes == 0  # every worker started (a ready check)

    def start(self) -> None:
        if self.processes > 0:
            self._pool = spawn_pool(self.processes, _warm, self.allow_examples)

    async def warm_up(self) -> None:
        """Start every worker now (spawn + imports take ~1 s), not on the first request."""
        if self._pool is None:
            self.warm = True
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(
                *(
                    loop.run_in_executor(self._pool, _warm, self.allow_examples)
                    for _ in range(self.processes)
                )
            )
        except BrokenProcessPool:  # replaced on first use; do not hold readiness
            _log.warning("canon_pool.warm_up_failed", processes=self.processes)
        self.warm = True

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def canonize(self, doc: Mapping[str, Any], path: str) -> str:
        payload = orjson.dumps(doc)
        if self._pool is None or len(payload) < self.inline_below:
            try:
                return self.contexts.canonize(doc, path=path, seconds=self.seconds)
            except ContextError as error:
                raise self._refusal(error) from None
        loop = asyncio.get_running_loop()
        try:
            running = loop.run_in_executor(
                self._pool, _canonize_in_worker, payload, path, self.seconds, self.allow_examples
            )
            status, value, detail, where = await asyncio.wait_for(
                running, self.seconds + _GRACE_SECONDS
            )
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool
            _log.warning("canon_pool.broken", processes=self.processes)
            self.stop()
            self.start()
            raise Unavailable("the canonicalisation workers restarted; retry") from None
        except TimeoutError:
            late = ContextError("canonicalization_too_slow", "no answer in time")
            raise self._refusal(late) from None
        if status == "ok":
            return value
        raise self._refusal(ContextError(value, detail, where))

    def _refusal(self, error: ContextError) -> Exception:
        """The work caps are limits of the request (422 naming the setting);
        anything else is the credential's own fault (its report says so)."""
        if error.code not in _WORK_CODES:
            return error
        return LimitExceeded(
            "canon_ms",
            int(self.seconds * 1000),
            f"the document costs too much to canonicalise ({error.detail})",
        )
