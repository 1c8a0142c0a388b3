"""What must hold after a fault, checked as outsiders see it: the services'
HTTP APIs and the Kafka topics, plus (for a latent index reuse) the issuer's
allocation bitmaps in Redis."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import aiohttp
import redis.asyncio as redis

from shared.events import CredentialIssued, StatusChanged, decode_event
from shared.redis_keys import STATUS_ALLOC, redis_key
from tests.e2e.client import Api, read_topic
from tests.e2e.harness import Stack
from tests.faults.faults import Recovery
from tests.faults.load import Award, Load, send

REVOCATION_REACH = 10.0  # seconds an acknowledged revocation may take to reach the verifier
READ_BACK = 10.0  # seconds a read-back may retry on 5xx or connection errors
EXAMPLES = 5  # examples quoted per failed check


@dataclass
class FaultResult:
    fault: str
    acked: int = 0  # awards answered 2xx
    present: int = 0  # of those: on the topic, readable at the issuer, verifying
    second_credentials: int = 0  # credentials beyond the first for one Idempotency-Key
    index_collisions: int = 0  # (list, index) entries held by more than one credential
    reusable_entries: int = 0  # entries on the topic the issuer would hand out again
    revocations_acked: int = 0
    lost_revocations: int = 0  # acknowledged revocations the verifier does not report
    wrongly_revoked: int = 0  # credentials nobody revoked that read as revoked
    unanswered: int = 0  # requests with no 2xx: a final 4xx, or none by the deadline
    slowest_ack: float | None = None  # seconds from a request's first attempt to its 2xx
    recovery: float | None = None  # seconds from the fault until every service was ready
    fault_at: float | None = None  # seconds into the load
    restart_done_after: float | None = None  # the fault's own restart, seconds after it began
    load_seconds: float | None = None
    retried: str = ""  # why requests were retried, with counts
    logs: str = ""  # where the logs of a failed run were kept
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def failure_message(self) -> str:
        lines = [f"{self.fault}: {len(self.problems)} check(s) failed:"]
        lines += [f"  - {problem}" for problem in self.problems]
        if self.logs:
            lines.append(f"(logs kept in {self.logs})")
        return "\n".join(lines)


def _examples(items: list[str]) -> str:
    shown = "; ".join(items[:EXAMPLES])
    return shown + (f"; ... ({len(items) - EXAMPLES} more)" if len(items) > EXAMPLES else "")


async def _events(stack: Stack, topic: str) -> list[object]:
    records = await read_topic(stack.kafka_bootstrap, stack.topic(topic))
    return [decode_event(record.value) for record in records if record.value is not None]


def check_requests(load: Load, result: FaultResult) -> None:
    """Every valid request got a 2xx in the end: once the platform recovered a
    retry must succeed (a 4xx is a wrong answer; no answer by the deadline,
    recovery bound + margin, is none)."""
    outcomes = [a.outcome for a in load.awards] + [r.outcome for r in load.revocations]
    unanswered = [outcome for outcome in outcomes if not outcome.acked]
    result.unanswered = len(unanswered)
    acked = [outcome.seconds for outcome in outcomes if outcome.acked]
    result.slowest_ack = round(max(acked), 1) if acked else None
    retries = Counter(why for outcome in outcomes for why in outcome.failures)
    result.retried = ", ".join(f"{why} x{n}" for why, n in retries.most_common()) or "nothing"
    if unanswered:
        result.problems.append(
            f"{len(unanswered)} of {len(outcomes)} valid requests never got a 2xx: "
            + _examples([outcome.describe() for outcome in unanswered])
        )


def check_idempotency(
    issued: list[CredentialIssued], acked: list[Award], result: FaultResult
) -> dict[str, set[str]]:
    """One credential per Idempotency-Key on `credentials.issued`, and it is
    the one the client got. Returns key -> credential ids."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for event in issued:
        if event.idempotency_key is not None:
            by_key[event.idempotency_key].add(event.credential_id)
    doubled = {key: ids for key, ids in by_key.items() if len(ids) > 1}
    result.second_credentials = sum(len(ids) - 1 for ids in doubled.values())
    if doubled:
        result.problems.append(
            f"{len(doubled)} Idempotency-Keys made more than one credential on "
            f"credentials.issued ({result.second_credentials} second credentials): "
            + _examples([f"{key} -> {sorted(ids)}" for key, ids in doubled.items()])
        )
    mismatched = [
        f"{a.outcome.key}: client got {a.credential_id}, topic has {sorted(by_key[a.outcome.key])}"
        for a in acked
        if a.credential_id not in by_key[a.outcome.key]
    ]
    if mismatched:
        result.problems.append(
            f"{len(mismatched)} acknowledged awards whose credential is not the one on "
            "credentials.issued under their Idempotency-Key: " + _examples(mismatched)
        )
    return by_key


def _entries(issued: list[CredentialIssued]) -> list[tuple[str, int]]:
    """(list id, index) of every status entry of every credential on the topic."""
    credentials = {event.credential_id: event for event in issued}  # a re-delivery is no second
    return [
        (ref.list_id, ref.index) for event in credentials.values() for ref in event.status_entries
    ]


def check_collisions(issued: list[CredentialIssued], result: FaultResult) -> None:
    """No (status list, index) held by two credentials."""
    shared = {entry: n for entry, n in Counter(_entries(issued)).items() if n > 1}
    result.index_collisions = len(shared)
    if shared:
        result.problems.append(
            f"{len(shared)} status list entries held by more than one credential: "
            + _examples([f"{list_id}#{index} x{n}" for (list_id, index), n in shared.items()])
        )


async def check_allocator(
    stack: Stack, issued: list[CredentialIssued], result: FaultResult
) -> None:
    """No entry of an issued credential free in the issuer's allocator
    (`<prefix>:status-alloc:<list id>`, see services/issuer/allocation.py),
    where a later award could take it again: indexes are random, so a
    collision itself shows only by chance."""
    distinct = sorted(set(_entries(issued)))
    client = redis.Redis.from_url(stack.redis_url)
    try:
        prefix = stack.redis_prefix("issuer")
        async with client.pipeline(transaction=False) as pipe:
            for list_id, index in distinct:
                pipe.getbit(redis_key(prefix, STATUS_ALLOC, list_id), index)
            bits = await pipe.execute()
    finally:
        await client.aclose()
    free = [entry for entry, bit in zip(distinct, bits, strict=True) if not bit]
    result.reusable_entries = len(free)
    if free:
        result.problems.append(
            f"{len(free)} status list entries of issued credentials are free again in the "
            "issuer's allocator (a later award could take them again): "
            + _examples([f"{list_id}#{index}" for list_id, index in free])
        )


def check_status_changes(changes: list[StatusChanged], result: FaultResult) -> None:
    """One status change per revocation Idempotency-Key at most."""
    per_key = Counter(change.idempotency_key for change in changes if change.idempotency_key)
    twice = {key: n for key, n in per_key.items() if n > 1}
    if twice:
        result.problems.append(
            f"{len(twice)} revocation Idempotency-Keys made more than one status change: "
            + _examples([f"{key} x{n}" for key, n in twice.items()])
        )


async def _read_back(session: aiohttp.ClientSession, stack: Stack, award: Award) -> str | None:
    """None when the issuer returns the credential the client got, else why not."""
    until = time.monotonic() + READ_BACK
    outcome = await send(
        session,
        "GET",
        f"{stack.url('issuer')}/credentials/{award.credential_id}",
        json=None,
        headers=stack.auth,
        key=award.outcome.key,
        deadline=lambda: until,
    )
    if outcome.status != 200:
        return f"issuer GET answers {outcome.status}"
    if not isinstance(outcome.body, dict) or outcome.body.get("jwt") != award.jwt:
        return "issuer GET returns another credential"
    return None


async def _verdict(api: Api, jwt: str) -> str:
    try:
        verdict = await api.verdict(jwt)
    except (aiohttp.ClientError, TimeoutError, AssertionError, ValueError) as error:
        return f"error: {type(error).__name__}"
    return verdict if len(verdict) < 300 else verdict[:300] + "..."


async def check_credentials(
    stack: Stack, load: Load, by_key: dict[str, set[str]], result: FaultResult
) -> None:
    """Every acknowledged credential on the topic, at the issuer and verifying
    at the verifier; every acknowledged revocation in force there (within
    REVOCATION_REACH), and no credential revoked that nobody revoked."""
    acked = load.acked_awards
    revoked = {r.credential_id for r in load.revocations if r.outcome.acked}
    attempted = {r.credential_id for r in load.revocations}  # unanswered ones: either way

    def as_expected(credential_id: str, verdict: str) -> bool:
        if credential_id in revoked:
            return verdict == "revoked"
        return verdict in (("valid", "revoked") if credential_id in attempted else ("valid",))

    gate = asyncio.Semaphore(8)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        api = Api(stack, session)

        async def read_back(award: Award) -> str | None:
            async with gate:
                return await _read_back(session, stack, award)

        async def verdict_of(award: Award) -> str:
            async with gate:
                return await _verdict(api, award.jwt)

        reads = await asyncio.gather(*(read_back(award) for award in acked))
        verdicts: dict[str, str] = {}
        pending, until = list(acked), time.monotonic() + REVOCATION_REACH
        while pending:
            found = await asyncio.gather(*(verdict_of(award) for award in pending))
            verdicts.update(
                {str(award.credential_id): v for award, v in zip(pending, found, strict=True)}
            )
            pending = [
                award
                for award in pending
                if not as_expected(str(award.credential_id), verdicts[str(award.credential_id)])
            ]
            if time.monotonic() > until:
                break
            await asyncio.sleep(0.5)

    missing = []
    for award, read in zip(acked, reads, strict=True):
        credential_id = str(award.credential_id)
        why = [read] if read else []
        if credential_id not in by_key.get(award.outcome.key, set()):
            why.append("not on credentials.issued")
        if verdicts[credential_id] not in ("valid", "revoked"):
            why.append(f"verifier: {verdicts[credential_id]}")
        if why:
            missing.append(f"{credential_id} ({', '.join(why)})")
    result.present = len(acked) - len(missing)
    if missing:
        result.problems.append(
            f"{len(missing)} of {len(acked)} acknowledged credentials missing or not "
            "verifying: " + _examples(missing)
        )

    lost = [c for c in sorted(revoked) if verdicts.get(c) != "revoked"]
    result.revocations_acked, result.lost_revocations = len(revoked), len(lost)
    if lost:
        result.problems.append(
            f"{len(lost)} of {len(revoked)} acknowledged revocations not in force at the "
            f"verifier after {REVOCATION_REACH:.0f} s: "
            + _examples([f"{c} reads {verdicts.get(c)}" for c in lost])
        )
    wrongly = [c for c, verdict in verdicts.items() if c not in attempted and verdict == "revoked"]
    result.wrongly_revoked = len(wrongly)
    if wrongly:
        result.problems.append(
            f"{len(wrongly)} credentials nobody revoked read as revoked: " + _examples(wrongly)
        )


async def evaluate(
    stack: Stack, load: Load, recovery: Recovery, result: FaultResult
) -> FaultResult:
    """Fill `result` from what the services, the topics and Redis say now."""
    result.recovery = recovery.seconds
    result.restart_done_after = recovery.restart_done_after
    result.acked = len(load.acked_awards)
    if recovery.problem:
        result.problems.append(f"recovery: {recovery.problem}")
    check_requests(load, result)
    issued = [
        e for e in await _events(stack, "credentials.issued") if isinstance(e, CredentialIssued)
    ]
    by_key = check_idempotency(issued, load.acked_awards, result)
    check_collisions(issued, result)
    await check_allocator(stack, issued, result)
    changes = [e for e in await _events(stack, "status.changes") if isinstance(e, StatusChanged)]
    check_status_changes(changes, result)
    await check_credentials(stack, load, by_key, result)
    return result
