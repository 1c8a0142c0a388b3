"""The catalog's Redis state: issuers it learnt from Kafka, its achievements
and its provider registry.

Everything here, idempotency keys included, is rebuilt by replaying
`issuer.profiles`, `catalog.achievements` and `catalog.providers`
(architecture invariant 3).
"""

from __future__ import annotations

import redis.asyncio as redis

from shared.credentials.did_documents import web_did_host
from shared.endorsement_index import EndorsementIndex
from shared.events import AchievementPublished, ProviderPublished
from shared.idempotency import IdempotencyRecords
from shared.kafka.offsets import ReplayedState
from shared.pathway_index import PathwayIndex
from shared.redis_events import EventHash
from shared.redis_keys import (
    ACHIEVEMENT_LOCK,
    ACHIEVEMENT_REVISIONS,
    ACHIEVEMENTS,
    ISSUER_TENANTS,
    PROVIDER_DOMAINS,
    PROVIDER_ISSUERS,
    PROVIDER_LOCK,
    PROVIDERS,
    SELF_HOSTED_DOMAINS,
    TENANT_ACHIEVEMENTS,
    redis_key,
)
from shared.replica_wait import wait_for_record

# Idempotency scopes of the registry's writes: a provider's own, the operator's.
PROVIDER_WRITES = "providers"
OPERATOR_WRITES = "provider-operator"
# Idempotency scope of an achievement's later revisions (update, retire).
ACHIEVEMENT_CHANGES = "achievement-changes"


class CatalogStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self.state = ReplayedState(client, prefix)
        self.endorsements = EndorsementIndex(client, prefix)
        self.pathways = PathwayIndex(client, prefix)
        self.achievement_idempotency = IdempotencyRecords(client, prefix, "achievements")
        self.change_idempotency = IdempotencyRecords(client, prefix, ACHIEVEMENT_CHANGES)
        self._prefix = prefix
        self._issuers = redis_key(prefix, ISSUER_TENANTS)
        self._achievements = EventHash(
            client, redis_key(prefix, ACHIEVEMENTS), AchievementPublished
        )
        self.provider_idempotency = {
            scope: IdempotencyRecords(client, prefix, scope)
            for scope in (PROVIDER_WRITES, OPERATOR_WRITES)
        }
        self._providers = EventHash(client, redis_key(prefix, PROVIDERS), ProviderPublished)
        self._provider_issuers = redis_key(prefix, PROVIDER_ISSUERS)
        self._provider_domains = redis_key(prefix, PROVIDER_DOMAINS)
        self._self_hosted = redis_key(prefix, SELF_HOSTED_DOMAINS)
        self.registry_lock = redis_key(prefix, PROVIDER_LOCK, "registry")

    async def remember_issuer(self, did: str, tenant: str) -> None:
        await self._redis.hset(self._issuers, did, tenant)

    async def remember_self_hosted(self, did: str, tenant: str) -> None:
        """A did:web on an institution's own domain: that domain is its tenant's."""
        await self._redis.hsetnx(self._self_hosted, web_did_host(did), tenant)

    async def self_hosted_tenant(self, domain: str) -> str | None:
        tenant = await self._redis.hget(self._self_hosted, domain)
        return tenant.decode() if isinstance(tenant, bytes) else tenant

    async def issuer_tenant(self, did: str) -> str | None:
        tenant = await self._redis.hget(self._issuers, did)
        return tenant.decode() if isinstance(tenant, bytes) else tenant

    async def is_tenant_issuer(self, tenant: str, did: str) -> bool:
        """Whether `did` is one of the tenant's issuers, waited for a moment
        (a just-created issuer's profile may still be on its way through
        Kafka; another tenant's waits the same: the same answer in the same
        time, invariant 7); 503 while the state is rebuilt."""

        async def own() -> str | None:
            owner = await self.issuer_tenant(did)
            return owner if owner == tenant else None

        if await wait_for_record(own) is not None:
            return True
        await self.state.require()  # missing only because of a rebuild: 503
        return False

    def _revisions(self, achievement_id: str) -> EventHash[AchievementPublished]:
        key = redis_key(self._prefix, ACHIEVEMENT_REVISIONS, achievement_id)
        return EventHash(self._redis, key, AchievementPublished)

    def achievement_lock(self, achievement_id: str) -> str:
        return redis_key(self._prefix, ACHIEVEMENT_LOCK, achievement_id)

    async def save_achievement(self, event: AchievementPublished) -> None:
        """Keep the newest revision as current and every revision in its history."""
        await self._achievements.put_newest(event.achievement_id, event, lambda e: e.revision)
        await self._revisions(event.achievement_id).put(str(event.revision), event)
        await self._redis.sadd(
            redis_key(self._prefix, TENANT_ACHIEVEMENTS, event.tenant), event.achievement_id
        )
        if event.idempotency_key and event.request_hash:
            await self.achievement_idempotency.remember(
                event.tenant, event.idempotency_key, event.request_hash, event.achievement_id
            )
        for write in event.writes:
            await self.change_idempotency.remember(
                event.tenant, write.idempotency_key, write.request_hash, write.answer
            )

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        return await self._achievements.get(achievement_id)

    async def achievement_revision(
        self, achievement_id: str, revision: int
    ) -> AchievementPublished | None:
        return await self._revisions(achievement_id).get(str(revision))

    async def achievement_history(self, achievement_id: str) -> list[AchievementPublished]:
        """Every revision, oldest first."""
        found = await self._revisions(achievement_id).values()
        return sorted(found, key=lambda e: e.revision)

    async def index_existing(self) -> int:
        """Give achievements a replica stored before revision histories and
        tenant indexes existed (only revision 1 could exist then) both; a
        replay writes them anyway. Idempotent; the number newly indexed."""
        added = 0
        for event in await self._achievements.values():
            history = self._revisions(event.achievement_id)
            if await history.get(str(event.revision)) is None:
                await history.put(str(event.revision), event)
                added += 1
            await self._redis.sadd(
                redis_key(self._prefix, TENANT_ACHIEVEMENTS, event.tenant), event.achievement_id
            )
        return added

    async def achievements_of(self, tenant: str) -> list[AchievementPublished]:
        """The current revision of every achievement of `tenant` (listing filters these)."""
        members = await self._redis.smembers(redis_key(self._prefix, TENANT_ACHIEVEMENTS, tenant))
        ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
        return await self._achievements.get_many(ids)

    async def save_provider(self, event: ProviderPublished) -> None:
        """Keep the newest revision, index its issuer DIDs, remember its writes."""
        current = await self._providers.get(event.provider_id)
        if current is None or current.revision <= event.revision:
            await self._providers.put(event.provider_id, event)
            gone = set(current.issuer_dids if current else ()) - set(event.issuer_dids)
            if gone:
                await self._redis.hdel(self._provider_issuers, *gone)
            for did in event.issuer_dids:
                await self._redis.hset(self._provider_issuers, did, event.provider_id)
            await self._index_domain(current, event)
        for write in event.writes:
            await self.provider_idempotency[write.scope].remember(
                write.actor or event.tenant,
                write.idempotency_key,
                write.request_hash,
                event.provider_id,
            )

    async def _index_domain(
        self, current: ProviderPublished | None, event: ProviderPublished
    ) -> None:
        old = current.web_domain if current else None
        if old and old != event.web_domain:
            holder = await self._redis.hget(self._provider_domains, old)
            if holder in (event.provider_id, event.provider_id.encode()):
                await self._redis.hdel(self._provider_domains, old)
        if event.web_domain:
            await self._redis.hsetnx(self._provider_domains, event.web_domain, event.provider_id)

    async def provider_of_domain(self, domain: str) -> str | None:
        found = await self._redis.hget(self._provider_domains, domain)
        return found.decode() if isinstance(found, bytes) else found

    async def provider(self, provider_id: str) -> ProviderPublished | None:
        return await self._providers.get(provider_id)

    async def provider_of_issuer(self, did: str) -> str | None:
        found = await self._redis.hget(self._provider_issuers, did)
        return found.decode() if isinstance(found, bytes) else found
