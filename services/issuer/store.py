"""The issuer's Redis state, all of it rebuilt from Kafka (invariant 3):
issuer identities and their idempotency keys (`issuer.profiles`),
achievements (`catalog.achievements`), issued credentials and their
idempotency keys (`credentials.issued`), the provider registry
(`catalog.providers`: whose accreditations the issuer profile carries) and
the platform operator's identity (on `issuer.profiles`, role `operator`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

from services.issuer.domain.errors import AchievementNotFound, SigningKeyChanged
from services.issuer.learner_index import LearnerIndex
from services.issuer.registry import RegistryIndex
from shared.credentials.did_documents import web_did_host
from shared.endorsement_index import EndorsementIndex
from shared.events import (
    AccreditationStatusAssigned,
    AchievementPublished,
    CredentialIssued,
    CredentialShared,
    EndorsementPublished,
    IssuerProfilePublished,
    ProviderPublished,
)
from shared.idempotency import IdempotencyRecords, lease, leases
from shared.kafka.offsets import ReplayedState
from shared.pathway_index import PathwayIndex
from shared.redis_events import EventHash
from shared.redis_keys import (
    ACCREDITATION_STATUS,
    ACHIEVEMENTS,
    CREDENTIAL_ID_LOCK,
    CREDENTIALS,
    ENDORSER_IDENTITIES,
    ISSUER_LOCK,
    ISSUERS,
    OPERATOR_IDENTITY,
    PROVIDER_ISSUERS,
    PROVIDERS,
    RENEWAL_LOCK,
    SELF_HOSTED_DOMAINS,
    SHARES,
    WEB_DOMAIN_LOCK,
    redis_key,
)
from shared.redis_writes import Writes
from shared.replica_wait import wait_for_record


def endorser_tenant(endorser: str) -> str:
    """The reserved tenant of an endorser's identity (no API token names one with an "@")."""
    return f"@endorser:{endorser}"


@dataclass(frozen=True)
class IssuerIdentity:
    did: str
    tenant: str
    signing_key_id: str | None
    profile: dict[str, Any]
    did_document: dict[str, Any]
    # The method the key signs as (None: the document's current one).
    signing_method_id: str | None = None


class IssuerStore:
    def __init__(
        self, client: redis.Redis, prefix: str, *, registry: RegistryIndex | None = None
    ) -> None:
        # Registrar search: each credential indexed with it (None in some tests).
        self.registry = registry
        self.state = ReplayedState(client, prefix)
        self.award_idempotency = IdempotencyRecords(client, prefix, "awards")
        self.issuer_idempotency = IdempotencyRecords(client, prefix, "issuers")
        self.key_idempotency = {
            scope: IdempotencyRecords(client, prefix, scope) for scope in ("keys", "compromise")
        }
        self.endorsement_idempotency = IdempotencyRecords(client, prefix, "endorsements")
        self.withdrawal_idempotency = IdempotencyRecords(client, prefix, "withdrawals")
        self.endorsements = EndorsementIndex(client, prefix)
        self.pathways = PathwayIndex(client, prefix)  # catalog.pathways
        self.learners = LearnerIndex(client, prefix)  # stacking: credentials by learner
        self._client = client
        self._prefix = prefix
        self._issuers = EventHash(client, redis_key(prefix, ISSUERS), IssuerProfilePublished)
        self._achievements = EventHash(
            client, redis_key(prefix, ACHIEVEMENTS), AchievementPublished
        )
        self._credentials = EventHash(client, redis_key(prefix, CREDENTIALS), CredentialIssued)
        # The registry's records (catalog.providers): a DID's web domain for its linkage.
        self._providers = EventHash(client, redis_key(prefix, PROVIDERS), ProviderPublished)
        self._provider_issuers = redis_key(prefix, PROVIDER_ISSUERS)
        self._shares = EventHash(client, redis_key(prefix, SHARES), CredentialShared)
        # The revocation entries of the operator's accreditation endorsements.
        self._accreditation_status = EventHash(
            client, redis_key(prefix, ACCREDITATION_STATUS), AccreditationStatusAssigned
        )

    async def save_issuer(self, event: IssuerProfilePublished) -> None:
        # The newest revision wins: a rotation saved by its writer is never
        # undone by a lagging replay of the revision before it.
        await self._issuers.put_newest(event.did, event, lambda e: e.revision)
        if event.role == "operator":
            await self._client.set(redis_key(self._prefix, OPERATOR_IDENTITY), event.did)
        elif event.self_hosted:
            key = redis_key(self._prefix, SELF_HOSTED_DOMAINS)
            await self._client.hsetnx(key, web_did_host(event.did), event.tenant)
        elif event.role == "endorser":
            key = redis_key(self._prefix, ENDORSER_IDENTITIES)
            await self._client.hsetnx(key, event.tenant, event.did)
        if event.idempotency_key and event.request_hash:
            await self.issuer_idempotency.remember(
                event.tenant, event.idempotency_key, event.request_hash, event.did
            )
        for write in event.key_writes:
            await self.key_idempotency[write.scope].remember(
                event.tenant, write.idempotency_key, write.request_hash, write.answer
            )

    async def self_hosted_tenant(self, domain: str) -> str | None:
        """The tenant whose self-hosted did:web identities use `domain`."""
        value = await self._client.hget(redis_key(self._prefix, SELF_HOSTED_DOMAINS), domain)
        return value.decode() if isinstance(value, bytes) else value

    async def issuer_event(self, did: str) -> IssuerProfilePublished | None:
        return await self._issuers.get(did)

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
            event.signing_method_id,
        )

    @contextlib.asynccontextmanager
    async def issuer_lease(self, did: str) -> AsyncIterator[None]:
        """One change of an issuer's keys at a time, across issuer instances."""
        async with lease(self._client, redis_key(self._prefix, ISSUER_LOCK, did)):
            yield

    @contextlib.asynccontextmanager
    async def self_hosting_lease(self, did: str) -> AsyncIterator[None]:
        """One registration of a self-hosted DID, and of any DID on its domain
        (one domain, one tenant), at a time, across issuer instances."""
        names = [
            redis_key(self._prefix, ISSUER_LOCK, did),
            redis_key(self._prefix, WEB_DOMAIN_LOCK, web_did_host(did)),
        ]
        async with leases(self._client, names):
            yield

    @contextlib.asynccontextmanager
    async def credential_id_lease(self, credential_id: str) -> AsyncIterator[None]:
        """One issue of a caller-given credential id at a time, across issuer
        instances, from the check that it is free until it is stored."""
        async with lease(self._client, redis_key(self._prefix, CREDENTIAL_ID_LOCK, credential_id)):
            yield

    @contextlib.asynccontextmanager
    async def renewal_lease(self, credential_id: str) -> AsyncIterator[None]:
        """One renewal of a credential at a time, across issuer instances,
        from the check that nothing renewed it until its renewal is stored."""
        async with lease(self._client, redis_key(self._prefix, RENEWAL_LOCK, credential_id)):
            yield

    async def still_signing_with(self, identity: IssuerIdentity) -> None:
        """Refuses what was just signed with a key the issuer no longer signs
        with (rotated out, or marked compromised, meanwhile: a credential
        signed after a key's compromise never verifies); called after
        signing, before publishing."""
        current = await self.issuer(identity.did)
        if current is not None and current.signing_key_id != identity.signing_key_id:
            raise SigningKeyChanged(
                "the issuer's signing key changed while this credential was signed; retry"
            )

    async def operator_did(self) -> str | None:
        value = await self._client.get(redis_key(self._prefix, OPERATOR_IDENTITY))
        return value.decode() if isinstance(value, bytes) else value

    async def endorser_did(self, tenant: str) -> str | None:
        value = await self._client.hget(redis_key(self._prefix, ENDORSER_IDENTITIES), tenant)
        return value.decode() if isinstance(value, bytes) else value

    async def save_endorsement(self, event: EndorsementPublished) -> None:
        # The endorsement first: an idempotency key never points at nothing.
        await self.endorsements.save(event)
        if event.idempotency_key and event.request_hash:
            await self.endorsement_idempotency.remember(
                endorser_tenant(event.endorser),
                event.idempotency_key,
                event.request_hash,
                event.endorsement_id,
            )
        for write in event.writes:
            await self.withdrawal_idempotency.remember(
                endorser_tenant(event.endorser),
                write.idempotency_key,
                write.request_hash,
                event.endorsement_id,
            )

    async def save_achievement(self, event: AchievementPublished) -> None:
        await self._achievements.put_newest(event.achievement_id, event, lambda e: e.revision)

    async def achievement(self, achievement_id: str) -> AchievementPublished | None:
        return await self._achievements.get(achievement_id)

    async def arrived_achievement(
        self, tenant: str, achievement_id: str
    ) -> AchievementPublished | None:
        """The tenant's achievement, waited for a moment (one just defined may
        still be on its way from the catalog; another tenant's waits alike:
        no timing side channel)."""

        async def own() -> AchievementPublished | None:
            found = await self.achievement(achievement_id)
            return found if found is not None and found.tenant == tenant else None

        return await wait_for_record(own)

    async def tenant_achievement(
        self, tenant: str, achievement_id: str, *, wait: bool = True
    ) -> AchievementPublished:
        """The tenant's achievement (waited for, unless the caller did:
        `arrived_achievement`); 404, or 503 while the state is rebuilt."""
        if wait:
            achievement = await self.arrived_achievement(tenant, achievement_id)
        else:
            found = await self.achievement(achievement_id)
            achievement = found if found is not None and found.tenant == tenant else None
        if achievement is None:
            await self.state.require()  # missing only because of a rebuild: 503
            raise AchievementNotFound(f"no achievement {achievement_id}")
        return achievement

    async def save_credential(self, event: CredentialIssued) -> None:
        await self.save_credentials([event])

    async def save_credentials(self, events: list[CredentialIssued]) -> None:
        """Each credential, its learner's index, its idempotency key and its
        registrar index, in one transaction (one round trip): an idempotency
        key never points at nothing, and a stored credential is whole
        (`unsaved`)."""
        writes = Writes()
        for event in events:
            self._credentials.put_in(writes, event.credential_id, event)
            self.learners.add_in(writes, event)
            if self.registry is not None:
                self.registry.index_in(writes, event)
            if event.idempotency_key and event.request_hash:
                self.award_idempotency.remember_in(
                    writes,
                    event.tenant,
                    event.idempotency_key,
                    event.request_hash,
                    event.credential_id,
                )
        await writes.apply(self._client)

    async def unsaved(self, events: list[CredentialIssued]) -> list[CredentialIssued]:
        """The events whose credential is not stored yet (one call): the
        replica skips the others, already saved whole by their award."""
        stored = await self._credentials.stored([e.credential_id for e in events])
        return [event for event, found in zip(events, stored, strict=True) if not found]

    async def credentials(self, credential_ids: list[str]) -> dict[str, CredentialIssued]:
        """The stored credentials among these ids, by id."""
        found = await self._credentials.get_many(credential_ids)
        return {event.credential_id: event for event in found}

    async def credential(self, credential_id: str) -> CredentialIssued | None:
        return await self._credentials.get(credential_id)

    async def tenant_credential(self, tenant: str, credential_id: str) -> CredentialIssued | None:
        found = await self.credential(credential_id)
        return found if found is not None and found.tenant == tenant else None

    async def arrived_credential(self, tenant: str, credential_id: str) -> CredentialIssued | None:
        """The tenant's credential, waited for a moment (issued a moment ago
        by another instance, it may still be on its way through Kafka;
        another tenant's waits as a missing one does: no timing hint)."""
        return await wait_for_record(lambda: self.tenant_credential(tenant, credential_id))

    async def save_share(self, event: CredentialShared) -> None:
        await self._shares.put_newest(event.credential_id, event, CredentialShared.moment_ms)

    async def share_of(self, credential_id: str) -> CredentialShared | None:
        """The credential's share link as its learner last left it (None: never shared)."""
        return await self._shares.get(credential_id)

    async def save_provider(self, event: ProviderPublished) -> None:
        await self._providers.put_newest(event.provider_id, event, lambda e: e.revision)
        for did in event.issuer_dids:
            await self._client.hset(self._provider_issuers, did, event.provider_id)

    async def save_accreditation_status(self, event: AccreditationStatusAssigned) -> None:
        await self._accreditation_status.put(event.endorsement_id, event)

    async def accreditation_status(self, endorsement_id: str) -> AccreditationStatusAssigned | None:
        return await self._accreditation_status.get(endorsement_id)

    async def all_providers(self) -> list[ProviderPublished]:
        """Every provider record (the registry is small: the trust list)."""
        return await self._providers.values()

    async def provider_of(self, did: str) -> ProviderPublished | None:
        """The newest record of the provider listing `did` (None once it no longer does)."""
        found = await self._client.hget(self._provider_issuers, did)
        if found is None:
            return None
        provider = await self._providers.get(found.decode() if isinstance(found, bytes) else found)
        return provider if provider is not None and did in provider.issuer_dids else None
