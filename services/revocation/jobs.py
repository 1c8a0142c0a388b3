"""Bulk status jobs: revoke, suspend or reinstate many credentials at once.

A job names its credentials explicitly (a list of ids) or by selection
(every credential of an achievement, optionally one revision, issued in a
date range), resolved when it is submitted. The job is recorded on the
compacted topic `status.jobs` (`StatusJobRecorded`, keyed by job id) before
it is answered, so it survives a restart or a Redis wipe: any revocation
instance that sees a submitted, unfinished job runs it under a lease.

Exactly once per item: each item's change carries the Idempotency-Key
`job:<job id>:<credential id>` through `StatusChanges.change`, whose
records are rebuilt from `status.changes`, so a job resumed after a crash
never applies an item twice; an item already applied answers as before.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
import redis.asyncio as redis

from services.revocation.changes import Requester, StatusChanges
from shared.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidField,
    NotFound,
    Unavailable,
    is_transient,
)
from shared.events import CredentialIssued, StatusJobRecorded, decode_event, encode_event
from shared.idempotency import fingerprint, lease
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.redis_keys import (
    CREDENTIALS_BY_ACHIEVEMENT,
    IDEMPOTENCY_LOCK,
    STATUS_JOB_LOCK,
    STATUS_JOB_RESULTS,
    STATUS_JOBS,
    STATUS_JOBS_PENDING,
    redis_key,
)
from shared.status_reasons import StatusReason
from shared.timestamps import Timestamp

_log = get_logger("revocation.jobs")
MAX_ITEMS = 5000
BATCH_ITEMS = 1000  # items whose credentials are looked up (and waited for) together
ACTIONS = {"revoke": ("revocation", True), "suspend": ("suspension", True)}
ACTIONS["reinstate"] = ("suspension", False)
_NAMESPACE = uuid.UUID("6f0c1d55-3f43-4b1e-9a36-6a2f0b7f5c21")


class JobNotFound(NotFound):
    title = "Status job not found"


class SelectionIn(msgspec.Struct, forbid_unknown_fields=True):
    achievementId: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    revision: int | None = None
    issuedFrom: Timestamp | None = None
    issuedTo: Timestamp | None = None


class StatusJobIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /status-jobs`: exactly one of `credentialIds` and `selection`."""

    action: Literal["revoke", "suspend", "reinstate"]
    credentialIds: (
        Annotated[
            list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]],
            msgspec.Meta(min_length=1, max_length=MAX_ITEMS),
        ]
        | None
    ) = None
    selection: SelectionIn | None = None
    reason: StatusReason | None = None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def item_key(job_id: str, credential_id: str) -> str:
    """The Idempotency-Key of one item's change: retries never double-apply."""
    return f"job:{job_id}:{credential_id}"


def _ms(moment: datetime | str) -> int:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class JobStore:
    """Jobs and the selection index in Redis, rebuilt from Kafka."""

    client: redis.Redis
    prefix: str

    def key(self, entity: str, *parts: str) -> str:
        return redis_key(self.prefix, entity, *parts)

    # -- replay --------------------------------------------------------------

    async def issued(self, event: CredentialIssued) -> None:
        """Index the credential for selections (achievement, revision, date);
        a VC-API credential that is no award (no achievement) is never selected."""
        if not event.achievement_id:
            return
        at = _ms(event.occurred_at)
        for revision in ("all", str(event.achievement_revision)):
            key = self.key(CREDENTIALS_BY_ACHIEVEMENT, event.tenant, event.achievement_id, revision)
            await self.client.zadd(key, {event.credential_id: at})

    async def recorded(self, event: StatusJobRecorded) -> None:
        current = await self.job(event.job_id)
        if current is not None and current.state == "finished":
            return  # never back to submitted
        await self.client.hset(self.key(STATUS_JOBS), event.job_id, encode_event(event))
        if event.state == "finished":
            await self.client.srem(self.key(STATUS_JOBS_PENDING), event.job_id)
            if event.results:
                results = self.key(STATUS_JOB_RESULTS, event.job_id)
                async with self.client.pipeline(transaction=True) as pipe:
                    for credential_id, outcome in event.results.items():
                        pipe.hset(results, credential_id, outcome)
                    await pipe.execute()
        else:
            await self.client.sadd(self.key(STATUS_JOBS_PENDING), event.job_id)

    async def resolve(self, tenant: str, body: StatusJobIn) -> list[str]:
        if (body.credentialIds is None) == (body.selection is None):
            raise InvalidField("$", "give exactly one of credentialIds and selection")
        if body.credentialIds is not None:
            return list(dict.fromkeys(body.credentialIds))
        assert body.selection is not None
        chosen = body.selection
        revision = "all" if chosen.revision is None else str(chosen.revision)
        key = self.key(CREDENTIALS_BY_ACHIEVEMENT, tenant, chosen.achievementId, revision)
        low = _ms(chosen.issuedFrom) if chosen.issuedFrom else "-inf"
        high = _ms(chosen.issuedTo) if chosen.issuedTo else "+inf"
        found = await self.client.zrangebyscore(key, low, high, start=0, num=MAX_ITEMS + 1)
        if len(found) > MAX_ITEMS:
            raise InvalidField("$.selection", f"selects more than {MAX_ITEMS} credentials")
        if not found:
            raise InvalidField("$.selection", "selects no credential")
        return [f.decode() if isinstance(f, bytes) else str(f) for f in found]

    async def job(self, job_id: str) -> StatusJobRecorded | None:
        raw = await self.client.hget(self.key(STATUS_JOBS), job_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, StatusJobRecorded) else None

    async def results(self, job_id: str) -> dict[str, str]:
        """Each done item's outcome."""
        raw = await self.client.hgetall(self.key(STATUS_JOB_RESULTS, job_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def view(self, job: StatusJobRecorded) -> dict[str, Any]:
        results = await self.results(job.job_id)
        counts: dict[str, int] = {}
        for outcome in results.values():
            kind = outcome.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return {
            "id": job.job_id,
            "state": "finished" if job.state == "finished" else "running" if results else "queued",
            "action": job.action,
            "submittedAt": job.occurred_at,
            "progress": {
                "total": len(job.credential_ids),
                "done": len(results),
                "changed": counts.get("changed", 0),
                "unchanged": counts.get("unchanged", 0),
                "refused": counts.get("refused", 0),
            },
            "items": [
                {"credentialId": c, "outcome": results.get(c, "pending")}
                for c in job.credential_ids
            ],
        }


@dataclass(frozen=True)
class StatusJobs:
    """Submitting, reading and running jobs (the use case)."""

    store: JobStore
    changes: StatusChanges
    publisher: Publisher
    topic: str  # status.jobs, with the deployment's prefix

    # -- use cases -------------------------------------------------------------

    async def submit(
        self, who: Requester, body: StatusJobIn, key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Record the job on Kafka; (its view, whether it was made now)."""
        self.changes.require_caught_up()
        if key is None:
            return await self._record(who, body, str(uuid.uuid4()), None), True
        job_id = str(uuid.uuid5(_NAMESPACE, f"{who.tenant}|{key}"))
        request = fingerprint(body)
        # A concurrent retry waits for the first one's job (invariant 6).
        lock = self.store.key(IDEMPOTENCY_LOCK, "status-jobs", who.tenant, key)
        async with lease(self.store.client, lock):
            existing = await self.store.job(job_id)
            if existing is None:
                return await self._record(who, body, job_id, request), True
        if existing.request_hash not in (None, request):  # None: recorded before the hash
            raise IdempotencyKeyReused()
        return await self.store.view(existing), False

    async def _record(
        self, who: Requester, body: StatusJobIn, job_id: str, request: str | None
    ) -> dict[str, Any]:
        """Resolve the job's credentials and record it on Kafka; its view."""
        ids = await self.store.resolve(who.tenant, body)
        reason = body.reason
        job = StatusJobRecorded(
            job_id=job_id,
            tenant=who.tenant,
            action=body.action,
            credential_ids=ids,
            state="submitted",
            reason_code=reason.code if reason else None,
            reason=reason.text if reason else None,
            reason_public=reason.public if reason else False,
            actor=who.actor,
            request_id=who.request_id,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, job, key=job_id)
        await self.store.recorded(job)
        return await self.store.view(job)

    async def get(self, tenant: str, job_id: str) -> dict[str, Any]:
        job = await self.store.job(job_id)
        if job is None or job.tenant != tenant:
            raise JobNotFound("no such job for this tenant")
        return await self.store.view(job)

    # -- running -------------------------------------------------------------

    async def run_pending(self) -> int:
        """Run every submitted, unfinished job this instance can lease."""
        ran = 0
        for raw in await self.store.client.smembers(self.store.key(STATUS_JOBS_PENDING)):
            job = await self.store.job(_text(raw))
            if job is None or job.state == "finished":
                continue
            try:
                async with lease(
                    self.store.client, self.store.key(STATUS_JOB_LOCK, job.job_id), wait=0.1
                ):
                    await self._run(job)
                    ran += 1
            except Conflict:  # another instance holds it
                continue
        return ran

    async def _run(self, job: StatusJobRecorded) -> None:
        done = await self.store.results(job.job_id)  # before a restart
        todo = [c for c in job.credential_ids if c not in done]
        for start in range(0, len(todo), BATCH_ITEMS):
            await self._run_batch(job, todo[start : start + BATCH_ITEMS])
        finished = msgspec.structs.replace(
            job,
            state="finished",
            results=await self.store.results(job.job_id),
            id=str(uuid.uuid4()),
        )
        await self.publisher.publish(self.topic, finished, key=job.job_id)
        await self.store.recorded(finished)
        _log.info("status_job.finished", job_id=job.job_id, items=len(job.credential_ids))

    async def _run_batch(self, job: StatusJobRecorded, batch: list[str]) -> None:
        """Each item's change and its outcome. The batch's credentials still
        on their way through Kafka are waited for together first: unknown
        ids cost one deadline, not one each."""
        purpose, value = ACTIONS[job.action]
        who = Requester(job.tenant, job.actor, job.request_id)
        reason = _reason(job)
        results_key = self.store.key(STATUS_JOB_RESULTS, job.job_id)
        await self.changes.wait_for_arrival(job.tenant, batch)
        for credential_id in batch:
            key = item_key(job.job_id, credential_id)
            try:
                changed = await self.changes.change(
                    who, credential_id, purpose, value, key, reason, wait=False
                )
                outcome = "changed" if changed else "unchanged"
            except Unavailable:
                raise  # rebuilding, Redis or Kafka away: the job resumes later
            except DomainError as error:
                outcome = f"refused: {error.title}"
            await self.store.client.hset(results_key, credential_id, outcome)


def _reason(job: StatusJobRecorded) -> StatusReason | None:
    if not job.reason_code:
        return None
    fields = {"code": job.reason_code, "text": job.reason or "", "public": job.reason_public}
    return msgspec.convert(fields, StatusReason)


async def run_jobs(
    jobs: StatusJobs, wait_caught_up: Callable[[], Awaitable[None]], every: float = 0.5
) -> None:
    """The background runner: pending jobs, once the replica caught up."""
    while True:
        await wait_caught_up()
        try:
            await jobs.run_pending()
        except Exception as error:  # a transient Redis or Kafka failure: next round
            if is_transient(error):
                _log.warning("status_job.round_failed", error=repr(error)[:300])
            else:
                _log.exception("status_job.round_failed")
        await asyncio.sleep(every)
