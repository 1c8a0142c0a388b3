"""The issuer's Redis state, all of it rebuilt from Kafka (invariant 3):
issuer identities (`issuer.profiles`), achievements (`catalog.achievements`),
issued credentials and idempotency keys (`credentials.issued`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as redis

from shared.events import AchievementPublished, CredentialIssued, IssuerProfilePublished
from shared.redis_events import EventHash
from shared.redis_keys import (
    ACHIEVEMENTS,
    CREDENTIALS,
    IDEMPOTENCY,
    IDEMPOTENCY_LOCK,
    ISSUERS,
    redis_key,
)


@dataclass(frozen=True)
class IssuerIdentity:
    did: str
    tenant: str
    signing_key_id: str | None
    profile: dict[str, Any]
    did_document: dict[str, Any]


class IssuerStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._issuers = EventHash(client, redis_key(prefix, ISSUERS), IssuerProfilePublished)
        self._achievements = EventHash(
            client, redis_key(prefix, ACHIEVEMENTS), AchievementPublished
        )
        self._credentials = EventHash(client, redis_key(prefix, CREDENTIALS), CredentialIssued)

    async def save_issuer(self, event: IssuerProfilePublished) -> None:
        await self._issuers.put(event.did, event)

    async def issuer(self, did: str) -> IssuerIdentity | None:
        event = await self._issuers.get(did)
        if event is None:
            return None
        return IssuerIdentity(
            event.did,
            event.tenant,
            event.signing_key_id,
            dict(event.profile),
            dict(event.did_document),
        )

    async def save_achievement(self, event: AchievementPublished) -> None:
        await self._achievements.put_newest(event.achievement_id, event, lambda e: e.revision)

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        return await self._achievements.get(achievement_id)

    async def save_credential(self, event: CredentialIssued) -> None:
        # The credential first: an idempotency key never points at nothing.
        await self._credentials.put(event.credential_id, event)
        if event.idempotency_key:
            await self._redis.hset(
                self._idempotency_key(event.tenant),
                event.idempotency_key,
                orjson.dumps([event.credential_id, event.request_hash]),
            )

    async def credential(self, credential_id: str) -> CredentialIssued | None:
        return await self._credentials.get(credential_id)

    async def replayed(self, tenant: str, key: str) -> tuple[str, str | None] | None:
        """The credential id and request hash an idempotency key was used for."""
        raw = await self._redis.hget(self._idempotency_key(tenant), key)
        if raw is None:
            return None
        credential_id, request_hash = orjson.loads(raw)
        return str(credential_id), request_hash

    @asynccontextmanager
    async def exclusive(self, tenant: str, key: str) -> AsyncIterator[None]:
        """One request per idempotency key at a time, across instances."""
        lock = self._redis.lock(
            redis_key(self._prefix, IDEMPOTENCY_LOCK, tenant, key),
            timeout=60,
            blocking_timeout=60,
        )
        async with lock:
            yield

    def _idempotency_key(self, tenant: str) -> str:
        return redis_key(self._prefix, IDEMPOTENCY, tenant)
