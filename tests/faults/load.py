"""The bounded load the faults hit: awards and revocations, retried as a
careful client would.

Each award carries its own Idempotency-Key; some acknowledged credentials are
revoked, each revocation with its own key. A request that fails (5xx,
connection error, timeout) is sent again with the same key and body until it
gets a 2xx or the deadline passes; a 4xx is a final answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.e2e.harness import Stack

ATTEMPT_TIMEOUT = 15.0  # seconds per HTTP attempt
RETRY_PAUSE = 0.25  # seconds between attempts (Retry-After is honoured up to 1 s)


@dataclass(frozen=True)
class LoadPlan:
    awards: int
    concurrency: int = 8
    revoke_every: int = 5  # revoke every n-th acknowledged award
    revokers: int = 2


@dataclass
class Outcome:
    """One logical request (all its attempts, one Idempotency-Key)."""

    key: str
    status: int | None = None  # final HTTP status (None: no answer by the deadline)
    body: Any = None
    attempts: int = 0
    failures: list[str] = field(default_factory=list)  # why attempts were retried
    seconds: float = 0.0  # from the first attempt to the final answer (or giving up)

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        seen = ", ".join(f"{why} x{n}" for why, n in Counter(self.failures).items()) or "none"
        return (
            f"{self.key}: final {self.status} after {self.attempts} attempts in "
            f"{self.seconds:.1f} s (retried on {seen})"
        )


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json: Any,
    headers: dict[str, str],
    key: str,
    deadline: Callable[[], float],
) -> Outcome:
    """Send until a 2xx or 4xx, or until `deadline()` (a monotonic time) passed."""
    outcome = Outcome(key)
    timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT)
    started = time.monotonic()
    while True:
        outcome.attempts += 1
        pause = RETRY_PAUSE
        try:
            async with session.request(
                method, url, json=json, headers=headers, timeout=timeout
            ) as answer:
                text = await answer.text()
                if answer.status < 500:
                    outcome.status = answer.status
                    outcome.seconds = time.monotonic() - started
                    try:
                        outcome.body = await answer.json(content_type=None)
                    except ValueError:
                        outcome.body = text
                    return outcome
                outcome.failures.append(str(answer.status))
                retry_after = answer.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    pause = min(float(retry_after), 1.0)
        except (aiohttp.ClientError, TimeoutError) as error:
            outcome.failures.append(type(error).__name__)
        if time.monotonic() + pause > deadline():
            outcome.seconds = time.monotonic() - started
            return outcome
        await asyncio.sleep(pause)


@dataclass
class Award:
    number: int
    outcome: Outcome

    @property
    def credential_id(self) -> str | None:
        body = self.outcome.body
        return str(body["credentialId"]) if self.outcome.acked else None

    @property
    def jwt(self) -> str:
        return str(self.outcome.body["jwt"])


@dataclass
class Revocation:
    credential_id: str
    outcome: Outcome


@dataclass
class Load:
    """Runs the plan against `stack`, calling `on_progress(acked awards)`
    after each acknowledged award (the fault hooks in there)."""

    stack: Stack
    achievement_id: str
    plan: LoadPlan
    label: str
    deadline: Callable[[], float]
    on_progress: Callable[[int], Awaitable[None]] | None = None
    awards: list[Award] = field(default_factory=list)
    revocations: list[Revocation] = field(default_factory=list)

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.plan.concurrency + self.plan.revokers + 4)
        async with aiohttp.ClientSession(connector=connector) as session:
            numbers = iter(range(self.plan.awards))
            to_revoke: asyncio.Queue[str | None] = asyncio.Queue()
            awarders = [
                asyncio.create_task(self._awarder(session, numbers, to_revoke))
                for _ in range(self.plan.concurrency)
            ]
            revokers = [
                asyncio.create_task(self._revoker(session, to_revoke))
                for _ in range(self.plan.revokers)
            ]
            try:
                await asyncio.gather(*awarders)
                for _ in revokers:
                    to_revoke.put_nowait(None)
                await asyncio.gather(*revokers)
            finally:
                for task in (*awarders, *revokers):
                    task.cancel()

    @property
    def acked_awards(self) -> list[Award]:
        return [award for award in self.awards if award.outcome.acked]

    async def _awarder(
        self,
        session: aiohttp.ClientSession,
        numbers: Any,
        to_revoke: asyncio.Queue[str | None],
    ) -> None:
        for number in numbers:
            key = f"{self.label}-award-{number}"
            outcome = await send(
                session,
                "POST",
                f"{self.stack.url('issuer')}/awards",
                json={
                    "achievementId": self.achievement_id,
                    "recipient": {"id": f"did:example:{self.label}-learner-{number}"},
                    "score": 95,
                    "maxScore": 100,
                },
                headers={**self.stack.auth, "Idempotency-Key": key},
                key=key,
                deadline=self.deadline,
            )
            award = Award(number, outcome)
            self.awards.append(award)
            if award.credential_id is None:
                continue
            if number % self.plan.revoke_every == 0:
                to_revoke.put_nowait(award.credential_id)
            if self.on_progress is not None:
                await self.on_progress(len(self.acked_awards))

    async def _revoker(
        self, session: aiohttp.ClientSession, to_revoke: asyncio.Queue[str | None]
    ) -> None:
        while (credential_id := await to_revoke.get()) is not None:
            key = f"{self.label}-revoke-{credential_id}"
            outcome = await send(
                session,
                "POST",
                f"{self.stack.url('revocation')}/credentials/status",
                json={
                    "credentialId": credential_id,
                    "credentialStatus": {
                        "type": "BitstringStatusListEntry",
                        "statusPurpose": "revocation",
                    },
                    "status": True,
                },
                headers={**self.stack.auth, "Idempotency-Key": key},
                key=key,
                deadline=self.deadline,
            )
            self.revocations.append(Revocation(credential_id, outcome))
