"""The provider registry's use cases: a provider registers and edits itself;
the operator accredits, and suspends or withdraws.

Every write publishes the provider's full record on the compacted topic
`catalog.providers` (keyed by provider id, `revision` + 1) and is idempotent
by Idempotency-Key: the record carries the keys of all its writes, so a
replay rebuilds them even after compaction. Writes to the registry are rare
and run one at a time under one lease, so two providers can never claim the
same issuer DID and no write is lost to a concurrent one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as redis

from services.catalog.achievements import IssuerNotFound
from services.catalog.provider_domain import (
    AccreditationChangeIn,
    AccreditationIn,
    DomainClaimed,
    GenericIssuanceIn,
    IssuerClaimed,
    ProviderChangeIn,
    ProviderIn,
    ProviderNotFound,
    ProviderStatusIn,
    accreditation,
    accreditation_changed,
    accredited,
    changed,
    generic_issuance_set,
    registered,
    status_set,
)
from services.catalog.store import OPERATOR_WRITES, PROVIDER_WRITES, CatalogStore
from shared.events import KeyedWrite, ProviderPublished
from shared.idempotency import fingerprint, lease
from shared.kafka.producer import Publisher

Make = Callable[[KeyedWrite | None], Awaitable[ProviderPublished]]


@dataclass(frozen=True)
class Providers:
    store: CatalogStore
    publisher: Publisher
    redis: redis.Redis  # the registry's lease
    topic: str  # catalog.providers, with the deployment's prefix
    public_base_url: str
    require_caught_up: Callable[[], None]  # raises Rebuilding

    def provider_id(self, key: str) -> str:
        return f"{self.public_base_url}/providers/{key}"

    async def register(
        self, tenant: str, body: ProviderIn, key: str | None
    ) -> tuple[ProviderPublished, bool]:
        """A new provider, registered and not accredited."""
        await self._owned(tenant, body.issuerDids)

        async def make(write: KeyedWrite | None) -> ProviderPublished:
            provider_id = self.provider_id(str(uuid.uuid4()))
            await self._unclaimed(body.issuerDids, provider_id)
            await self._domain_free(body.webDomain, provider_id, tenant)
            return registered(tenant, provider_id, body, write)

        return await self._write(PROVIDER_WRITES, tenant, key, ["register", body], make)

    async def change(
        self, tenant: str, provider_id: str, body: ProviderChangeIn, key: str | None
    ) -> tuple[ProviderPublished, bool]:
        """The provider edits its own identity fields (never another's: 404)."""
        if body.issuerDids is not None:
            await self._owned(tenant, body.issuerDids)

        async def make(write: KeyedWrite | None) -> ProviderPublished:
            current = await self._existing(provider_id, tenant)
            if body.issuerDids is not None:
                await self._unclaimed(body.issuerDids, provider_id)
            await self._domain_free(body.webDomain, provider_id, tenant)
            return changed(current, body, write)

        request = ["change", provider_id, body]
        return await self._write(PROVIDER_WRITES, tenant, key, request, make)

    async def accredit(
        self, operator: str, provider_id: str, body: AccreditationIn, key: str | None
    ) -> tuple[ProviderPublished, bool]:
        new = accreditation(body, operator)  # a bad window is refused before anything

        async def make(write: KeyedWrite | None) -> ProviderPublished:
            return accredited(await self._existing(provider_id), new, write)

        request = ["accredit", provider_id, body]
        return await self._write(OPERATOR_WRITES, operator, key, request, make)

    async def change_accreditation(
        self,
        operator: str,
        provider_id: str,
        accreditation_id: str,
        body: AccreditationChangeIn,
        key: str | None,
    ) -> tuple[ProviderPublished, bool]:
        async def make(write: KeyedWrite | None) -> ProviderPublished:
            current = await self._existing(provider_id)
            return accreditation_changed(current, accreditation_id, body, write)

        request = ["change-accreditation", provider_id, accreditation_id, body]
        return await self._write(OPERATOR_WRITES, operator, key, request, make)

    async def set_status(
        self, operator: str, provider_id: str, body: ProviderStatusIn, key: str | None
    ) -> tuple[ProviderPublished, bool]:
        async def make(write: KeyedWrite | None) -> ProviderPublished:
            return status_set(await self._existing(provider_id), body, write)

        request = ["status", provider_id, body]
        return await self._write(OPERATOR_WRITES, operator, key, request, make)

    async def set_generic_issuance(
        self, operator: str, provider_id: str, body: GenericIssuanceIn, key: str | None
    ) -> tuple[ProviderPublished, bool]:
        async def make(write: KeyedWrite | None) -> ProviderPublished:
            return generic_issuance_set(await self._existing(provider_id), body, write)

        request = ["generic-issuance", provider_id, body]
        return await self._write(OPERATOR_WRITES, operator, key, request, make)

    async def get(self, provider_id: str) -> ProviderPublished:
        return await self._existing(provider_id)

    # -- the one write path ---------------------------------------------------

    async def _write(
        self, scope: str, actor: str, key: str | None, request: object, make: Make
    ) -> tuple[ProviderPublished, bool]:
        """`make` the next record and publish it; a retried key gets the
        provider as it is now, and nothing is written again."""
        self.require_caught_up()
        await self.store.state.require()
        if key is None:
            return await self._commit(make, None), True
        digest = fingerprint(request)
        async with self.store.provider_idempotency[scope].claim(actor, key, digest) as earlier:
            if earlier is not None:
                return await self._existing(earlier), False
            write = KeyedWrite(scope=scope, actor=actor, idempotency_key=key, request_hash=digest)
            return await self._commit(make, write), True

    async def _commit(self, make: Make, write: KeyedWrite | None) -> ProviderPublished:
        async with lease(self.redis, self.store.registry_lock):
            event = await make(write)
            await self.publisher.publish(self.topic, event, key=event.provider_id)
            await self.store.save_provider(event)
            return event

    async def _existing(self, provider_id: str, tenant: str | None = None) -> ProviderPublished:
        """The provider (of `tenant`, when given: another's is a 404, invariant 7)."""
        current = await self.store.provider(provider_id)
        if current is None:
            await self.store.state.require()  # missing only because of a rebuild: 503
        if current is None or (tenant is not None and current.tenant != tenant):
            raise ProviderNotFound(f"no provider {provider_id}")
        return current

    async def _owned(self, tenant: str, dids: list[str]) -> None:
        """Every DID is one of the tenant's issuers (known from issuer.profiles;
        looked up at once: unknown ones wait out one deadline together).
        Checked before the registry's lock is taken: a wait for an issuer on
        its way never holds up another tenant's write (an issuer's tenant
        never changes)."""
        owned = await asyncio.gather(*(self.store.is_tenant_issuer(tenant, d) for d in dids))
        for did, own in zip(dids, owned, strict=True):
            if not own:
                raise IssuerNotFound(f"no issuer {did} for this tenant")

    async def _unclaimed(self, dids: list[str], provider_id: str) -> None:
        for did in dids:
            holder = await self.store.provider_of_issuer(did)
            if holder is not None and holder != provider_id:
                raise IssuerClaimed(f"issuer {did} belongs to another provider")

    async def _domain_free(self, domain: str | None, provider_id: str, tenant: str) -> None:
        """A web domain links to one provider only (its DIDs' domain linkage),
        and is not that of another tenant's self-hosted did:web identities."""
        if domain is None:
            return
        holder = await self.store.provider_of_domain(domain)
        if holder is not None and holder != provider_id:
            raise DomainClaimed(f"the web domain {domain} belongs to another provider")
        if await self.store.self_hosted_tenant(domain) not in (None, tenant):
            raise DomainClaimed(
                f"the web domain {domain} is that of another tenant's self-hosted issuer"
            )
