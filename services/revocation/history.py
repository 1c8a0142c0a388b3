"""The audit trail of status changes, per credential, shown to its institution.

Derived from the history topic `status.changes` (each `StatusChanged` carries
who, when, why and which request), so a Redis wipe rebuilds it by replay.
One hash per credential keyed by event id: a replayed event overwrites
itself, never adds a second entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as redis

from shared.events import StatusChanged
from shared.redis_keys import STATUS_HISTORY, redis_key

ACTIONS = {
    ("revocation", 1): "revoked",
    ("suspension", 1): "suspended",
    ("suspension", 0): "reinstated",
    ("revocation", 0): "unrevoked",  # never made by us (revocation is permanent)
}


def audit_entry(event: StatusChanged) -> dict[str, Any]:
    """One change as the institution reads it (docs/api.md "Status history")."""
    reason = None
    if event.reason_code is not None or event.reason:
        reason = {
            "code": event.reason_code or "other",
            "text": event.reason or "",
            "public": event.reason_public,
        }
    return {
        "eventId": event.id,
        "at": event.occurred_at,
        "action": ACTIONS.get((event.purpose, event.value), f"{event.purpose}={event.value}"),
        "statusPurpose": event.purpose,
        "status": bool(event.value),
        "reason": reason,
        "tenant": event.tenant,
        "actor": event.actor,
        "requestId": event.request_id,
        "idempotencyKey": event.idempotency_key,
    }


@dataclass(frozen=True)
class StatusHistory:
    client: redis.Redis
    prefix: str

    def _key(self, credential_id: str) -> str:
        return redis_key(self.prefix, STATUS_HISTORY, credential_id)

    async def record(self, event: StatusChanged) -> None:
        await self.client.hset(
            self._key(event.credential_id), event.id, orjson.dumps(audit_entry(event))
        )

    async def of(self, credential_id: str) -> list[dict[str, Any]]:
        """The credential's changes, oldest first."""
        raw = await self.client.hvals(self._key(credential_id))
        entries = [orjson.loads(value) for value in raw]
        return sorted(entries, key=lambda e: (str(e["at"]), str(e["eventId"])))
