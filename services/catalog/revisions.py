"""A catalog entity's next revision as the event that publishes it.

Achievements and pathways change the same way: `make` returns the next
revision, which is stamped as a new event carrying the keyed write of the
request that made it (`KeyedWrite.answer` is `<entity id>|<revision>`), so a
retried request answers that same revision, also after a replay.
"""

from __future__ import annotations

from typing import TypeVar

from shared.events import AchievementPublished, KeyedWrite, PathwayPublished, next_record

Revision = TypeVar("Revision", AchievementPublished, PathwayPublished)


def revision_event(
    made: Revision, scope: str, entity_id: str, key: str | None, request_hash: str | None
) -> Revision:
    """`made` as a new event, with the keyed write of its request (if keyed)."""
    writes = (
        []
        if key is None or request_hash is None
        else [
            KeyedWrite(
                scope=scope,
                idempotency_key=key,
                request_hash=request_hash,
                answer=f"{entity_id}|{made.revision}",
            )
        ]
    )
    return next_record(made, idempotency_key=None, request_hash=None, writes=writes)


def revision_of(answer: str) -> tuple[str, int]:
    """The entity id and revision a keyed write answered."""
    entity_id, _, revision = answer.rpartition("|")
    return entity_id, int(revision)
