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

from shared.events import (
    AchievementPublished,
    CredentialIssued,
    IssuerProfilePublished,
    decode_event,
    encode_event,
)
from shared.redis_keys import redis_key


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
        self._issuers = redis_key(prefix, "issuers")
        self._achievements = redis_key(prefix, "achievements")
        self._credentials = redis_key(prefix, "credentials")

    async def save_issuer(self, event: IssuerProfilePublished) -> None:
        await self._redis.hset(self._issuers, event.did, encode_event(event))

    async def issuer(self, did: str) -> IssuerIdentity | None:
        raw = await self._redis.hget(self._issuers, did)
        if raw is None:
            return None
        event = decode_event(raw)
        assert isinstance(event, IssuerProfilePublished)
        return IssuerIdentity(
            event.did,
            event.tenant,
            event.signing_key_id,
            dict(event.profile),
            dict(event.did_document),
        )

    async def save_achievement(self, event: AchievementPublished) -> None:
        current = await self.achievement(event.achievement_id)
        if current is None or current.revision <= event.revision:
            await self._redis.hset(self._achievements, event.achievement_id, encode_event(event))

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        raw = await self._redis.hget(self._achievements, achievement_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, AchievementPublished) else None

    async def save_credential(self, event: CredentialIssued) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._credentials, event.credential_id, encode_event(event))
            if event.idempotency_key:
                pipe.hset(
                    self._idempotency_key(event.tenant),
                    event.idempotency_key,
                    orjson.dumps([event.credential_id, event.request_hash]),
                )
            await pipe.execute()

    async def credential(self, credential_id: str) -> CredentialIssued | None:
        raw = await self._redis.hget(self._credentials, credential_id)
        event = decode_event(raw) if raw is not None else None
        return event if isinstance(event, CredentialIssued) else None

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
            redis_key(self._prefix, "idempotency-lock", tenant, key),
            timeout=60,
            blocking_timeout=60,
        )
        async with lock:
            yield

    def _idempotency_key(self, tenant: str) -> str:
        return redis_key(self._prefix, "idempotency", tenant)
