"""did:web identities an institution hosts on its own domain.

An institution may want its issuer DID to be `did:web:<its domain>[:path]`
rather than one hosted by us: by did:web §3.2 the document then lives at
`https://<domain>/.well-known/did.json` (no path) or
`https://<domain>/<path>/did.json`. The key still stays in our key store
(architecture §5): the issuer signs under that DID, and the institution
gets the document (public keys only) to host, with the Domain Linkage
Credential for `https://<domain>/.well-known/did-configuration.json` (DIF
Well Known DID Configuration v1). Verifiers resolve the document from the
domain (ours behind its SSRF guard), never from our replica.

A domain belongs to one provider (issue 8): a self-hosted identity on a
domain that another tenant's provider registered is refused, and so is a
DID that exists already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.issuer.domain.errors import IssuerNotFound
from services.issuer.linkage import LinkageForm, linkage_entries
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.did_documents import web_did, web_did_host
from shared.credentials.dids import did_web_url
from shared.credentials.domain_linkage import configuration, configuration_url
from shared.errors import Conflict


class DomainLinkedElsewhere(Conflict):
    title = "Web domain belongs to another provider"
    problem = "domain-linked-elsewhere"


class DidTaken(Conflict):
    title = "DID exists already"
    problem = "did-taken"


class NotSelfHosted(Conflict):
    title = "Not a self-hosted did:web identity"
    problem = "not-self-hosted"


def self_hosted_did(domain: str, path: str | None) -> str:
    """`did:web:<domain>` or `did:web:<domain>:<segment>:...` (did:web §3.1)."""
    segments = [s for s in (path or "").split("/") if s]
    return web_did(f"https://{domain}", *segments)


async def require_free(store: IssuerStore, tenant: str, did: str) -> None:
    """Refuses a DID that exists, or whose domain another tenant's provider
    registered or another tenant's self-hosted identities use (one domain,
    one provider)."""
    if await store.issuer(did) is not None:
        raise DidTaken(f"{did} is registered already")
    domain = web_did_host(did)
    if await store.self_hosted_tenant(domain) not in (None, tenant):
        raise DomainLinkedElsewhere(
            f"the web domain {domain} is that of another tenant's self-hosted issuer"
        )
    for provider in await store.all_providers():
        if provider.web_domain == domain and provider.tenant != tenant:
            raise DomainLinkedElsewhere(
                f"the web domain {domain} is linked to the provider {provider.provider_id}"
            )


@dataclass(frozen=True)
class SelfHosting:
    store: IssuerStore
    signer: Signer

    async def export(self, tenant: str, did: str, form: LinkageForm = "jwt") -> dict[str, Any]:
        """What the institution hosts: the DID document at its did:web URL and
        the DID Configuration Resource at its well-known URL."""
        identity = await self._own(tenant, did)
        domain = web_did_host(did)
        assert identity.signing_key_id is not None
        key = await self.signer.signing_key(
            identity.signing_key_id, identity.did_document, identity.signing_method_id
        )
        now = datetime.now(UTC).replace(microsecond=0)
        return {
            "id": did,
            "domain": domain,
            "didDocument": identity.did_document,
            "didDocumentUrl": did_web_url(did),
            "didConfiguration": configuration(linkage_entries(did, domain, key, now, form)),
            "didConfigurationUrl": configuration_url(domain),
        }

    async def _own(self, tenant: str, did: str) -> IssuerIdentity:
        event = await self.store.issuer_event(did)
        if event is None:
            await self.store.state.require()
        if event is None or event.tenant != tenant:
            raise IssuerNotFound("no such issuer")
        if not event.self_hosted:
            raise NotSelfHosted(
                "this identity is hosted here (or a did:key): register one with webDomain"
            )
        identity = await self.store.issuer(did)
        assert identity is not None
        return identity
