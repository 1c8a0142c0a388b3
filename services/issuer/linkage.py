"""Domain Linkage Credentials for an institution to host on its own domain.

For the provider (catalog.providers) that lists an issuer and registered a
web domain, the DID Configuration Resource (DIF Well Known DID Configuration
v1, JWT form) with one Domain Linkage Credential per issuer DID of that
provider, each signed by that DID's current key. The institution serves it
at `https://<webDomain>/.well-known/did-configuration.json`; the verifier
then reports `domainLinked: true`. Signing a linkage changes no state: a
read, not a write (no event, no Idempotency-Key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.issuer.domain.errors import IssuerNotFound
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from shared.credentials.domain_linkage import configuration, linkage_jwt
from shared.errors import Conflict


class NoWebDomain(Conflict):
    title = "No web domain registered"
    problem = "no-web-domain"


@dataclass(frozen=True)
class DomainLinkages:
    store: IssuerStore
    signer: Signer

    async def configuration(self, tenant: str, did: str) -> dict[str, Any]:
        """The resource for the web domain of `did`'s provider (the tenant's own)."""
        identity = await self.store.issuer(did)
        if identity is None:
            await self.store.state.require()
        if identity is None or identity.tenant != tenant:
            raise IssuerNotFound("no such issuer")
        provider = await self.store.provider_of(did)
        if provider is None or provider.tenant != tenant or not provider.web_domain:
            raise NoWebDomain("no provider with a registered webDomain lists this issuer")
        now = datetime.now(UTC).replace(microsecond=0)
        linked = []
        for each in dict.fromkeys([did, *provider.issuer_dids]):
            owner = await self.store.issuer(each)
            if owner is None or owner.tenant != tenant or owner.signing_key_id is None:
                continue
            key = await self.signer.signing_key(
                owner.signing_key_id, owner.did_document, owner.signing_method_id
            )
            linked.append(linkage_jwt(each, provider.web_domain, key, now))
        return {"domain": provider.web_domain, "configuration": configuration(linked)}
