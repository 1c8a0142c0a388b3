"""Pathways, rebuilt from `catalog.pathways` (catalog, issuer, verifier): the
newest revision of each, the pathways each achievement is a component of,
the pathway each pathway achievement awards, and each tenant's pathways."""

from __future__ import annotations

import redis.asyncio as redis

from shared.events import PathwayPublished, decode_event, encode_event
from shared.idempotency import IdempotencyRecords
from shared.pathways import components
from shared.redis_events import EventHash
from shared.redis_keys import (
    PATHWAY_LOCK,
    PATHWAY_MEMBERS,
    PATHWAY_OF_ACHIEVEMENT,
    PATHWAY_REVISIONS,
    PATHWAYS,
    TENANT_PATHWAYS,
    redis_key,
)

# Idempotency scopes of pathway writes (catalog): creations, later revisions.
PATHWAY_WRITES = "pathways"
PATHWAY_CHANGES = "pathway-changes"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class PathwayIndex:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._events = EventHash(client, redis_key(prefix, PATHWAYS), PathwayPublished)
        self._of_achievement = redis_key(prefix, PATHWAY_OF_ACHIEVEMENT)
        self.idempotency = IdempotencyRecords(client, prefix, PATHWAY_WRITES)
        self.change_idempotency = IdempotencyRecords(client, prefix, PATHWAY_CHANGES)
        self.lock = redis_key(prefix, PATHWAY_LOCK, "registry")  # catalog: one write at a time

    def _members(self, achievement_id: str) -> str:
        return redis_key(self._prefix, PATHWAY_MEMBERS, achievement_id)

    def _revisions(self, pathway_id: str) -> str:
        return redis_key(self._prefix, PATHWAY_REVISIONS, pathway_id)

    async def save(self, event: PathwayPublished) -> None:
        """Keep the newest revision and index it; a replay changes nothing."""
        current = await self._events.get(event.pathway_id)
        if current is None or current.revision <= event.revision:
            await self._events.put(event.pathway_id, event)
            for gone in set(components(current) if current else ()) - set(components(event)):
                await self._client.srem(self._members(gone), event.pathway_id)
            for member in components(event):
                await self._client.sadd(self._members(member), event.pathway_id)
            await self._client.hset(self._of_achievement, event.achievement_id, event.pathway_id)
            await self._client.sadd(
                redis_key(self._prefix, TENANT_PATHWAYS, event.tenant), event.pathway_id
            )
        await self._client.hset(
            self._revisions(event.pathway_id), str(event.revision), encode_event(event)
        )
        if event.idempotency_key and event.request_hash:
            await self.idempotency.remember(
                event.tenant, event.idempotency_key, event.request_hash, event.pathway_id
            )
        for write in event.writes:
            await self.change_idempotency.remember(
                event.tenant, write.idempotency_key, write.request_hash, write.answer
            )

    async def revision(self, pathway_id: str, revision: int) -> PathwayPublished | None:
        raw = await self._client.hget(self._revisions(pathway_id), str(revision))
        event = None if raw is None else decode_event(raw)
        return event if isinstance(event, PathwayPublished) else None

    async def get(self, pathway_id: str) -> PathwayPublished | None:
        return await self._events.get(pathway_id)

    async def awarding(self, achievement_id: str) -> PathwayPublished | None:
        """The pathway awarded as `achievement_id` (None: no pathway's)."""
        found = await self._client.hget(self._of_achievement, achievement_id)
        return None if found is None else await self._events.get(_text(found))

    async def containing(self, achievement_id: str) -> list[PathwayPublished]:
        """The pathways `achievement_id` is a component of, in a stable order."""
        ids = sorted(_text(m) for m in await self._client.smembers(self._members(achievement_id)))
        return await self._events.get_many(ids)

    async def of_tenant(self, tenant: str) -> list[PathwayPublished]:
        members = await self._client.smembers(redis_key(self._prefix, TENANT_PATHWAYS, tenant))
        return await self._events.get_many(sorted(_text(m) for m in members))
