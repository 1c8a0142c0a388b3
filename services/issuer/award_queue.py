"""Concurrent single awards (`POST /awards`) taken together: group commit.

Each award waits mostly on Redis and Kafka round trips, and the issuer's
event loop spends most of its time making them. Awards that arrive while
others are under way queue here and go through `Issuance.award_many`
together (one lease call, one status claim, one signing round trip per
process, one Kafka acknowledgement, one Redis transaction), so that under
load the round trips are shared; an award arriving when a lane is free
starts at once, so a lone award waits for nothing.

A batch holds awards of one tenant with distinct Idempotency-Keys (a
second request with a key already in the batch waits for the next one and
then gets the first one's answer, as `award` alone would give it).

An achievement just defined may still be on its way from the catalog, and
a credential a renewal names from another instance: each request waits for
them in its own task, before it queues (a bounded wait,
`IssuerStore.arrived_achievement`, `arrived_credential`), so a lane never
waits: an award naming an unknown one, of any tenant, holds up no other.

A batch runs in its lane's task, not in the requests': its log lines name
the batch's request ids (`request_ids`), and each answer is logged under
its own request's id (`award.answered`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog

from services.issuer.awards import Awarded, Issuance, Outcome
from services.issuer.domain.awarding import AwardIn
from shared.logging import get_logger

_log = get_logger("issuer.award_queue")

LANES = 2  # batches under way at once: one signs while others wait on Redis or Kafka
MOST = 16  # awards in one batch


@dataclass
class _Ask:
    tenant: str
    body: AwardIn
    key: str | None
    answer: asyncio.Future[Outcome]
    log_context: dict[str, Any]  # the request's (its id)


@dataclass
class AwardQueue:
    issuance: Issuance
    lanes: int = LANES
    most: int = MOST
    _waiting: deque[_Ask] = field(default_factory=deque)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _known: set[tuple[str, str]] = field(default_factory=set)  # (tenant, achievement) seen

    def __post_init__(self) -> None:
        # A lane's look-ups wait for nothing: each request waited in its own task.
        self._issuance = dataclasses.replace(self.issuance, wait_for_records=False)

    async def _records_arrived(self, tenant: str, body: AwardIn) -> None:
        """Wait for the achievement and the renewed credential, at once: two
        unknown ones wait out one deadline together, not one after another."""
        store = self.issuance.store
        known = (tenant, body.achievementId)
        # achievements are never deleted (retired at most): once seen, no look-up
        achievement = None if known in self._known else store.arrived_achievement(*known)
        renewed = None if body.renews is None else store.arrived_credential(tenant, body.renews)
        found, _ = await asyncio.gather(achievement or _nothing(), renewed or _nothing())
        if found:
            self._known.add(known)

    async def award(self, tenant: str, body: AwardIn, key: str | None) -> Awarded:
        """`Issuance.award`, taken together with the awards waiting meanwhile."""
        await self._records_arrived(tenant, body)
        ask = _Ask(
            tenant,
            body,
            key,
            asyncio.get_running_loop().create_future(),
            structlog.contextvars.get_contextvars(),
        )
        self._waiting.append(ask)
        self._arrived.set()
        outcome = await ask.answer
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def run_forever(self) -> None:
        """The lanes, for the app's lifetime."""
        await asyncio.gather(*(self._lane() for _ in range(self.lanes)))

    async def _lane(self) -> None:
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            batch = self._take()
            ids = [ask.log_context.get("request_id") for ask in batch]
            try:
                with structlog.contextvars.bound_contextvars(request_ids=ids):
                    outcomes: list[Outcome] = await self._issuance.award_many(
                        batch[0].tenant, [(ask.body, ask.key) for ask in batch], source="api"
                    )
            except Exception as error:  # the batch's own failure (e.g. rebuilding): each gets it
                outcomes = [error] * len(batch)
            for ask, outcome in zip(batch, outcomes, strict=True):
                if not isinstance(outcome, Exception):
                    with structlog.contextvars.bound_contextvars(**ask.log_context):
                        _log.info("award.answered", credential_id=outcome[0].credential_id)
                if not ask.answer.done():  # its client may have gone meanwhile
                    ask.answer.set_result(outcome)

    def _take(self) -> list[_Ask]:
        """The oldest waiting award and, up to `most`, the later ones of its
        tenant whose keys are not yet in the batch; the rest keep waiting."""
        first = self._waiting.popleft()
        batch, keys, left = [first], {first.key}, deque[_Ask]()
        while self._waiting and len(batch) < self.most:
            ask = self._waiting.popleft()
            if ask.tenant == first.tenant and (ask.key is None or ask.key not in keys):
                batch.append(ask)
                keys.add(ask.key)
            else:
                left.append(ask)
        self._waiting.extendleft(reversed(left))
        return batch


async def _nothing() -> None:
    """No look-up to wait for."""
