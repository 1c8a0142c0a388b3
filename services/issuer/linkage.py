"""Domain Linkage Credentials for an institution to host on its own domain.

For the provider (catalog.providers) that lists an issuer and registered a
web domain, the DID Configuration Resource (DIF Well Known DID Configuration
v1) with one Domain Linkage Credential per issuer DID of that provider,
each signed by that DID's current key, in the JWT form, the JSON-LD form
(Data Integrity proof) or both, as asked (`LinkageForm`). The institution serves it
at `https://<webDomain>/.well-known/did-configuration.json`; the verifier
then reports `domainLinked: true`. Signing a linkage changes no state: a
read, not a write (no event, no Idempotency-Key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from services.issuer.domain.errors import IssuerNotFound
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from shared.credentials.crypto_keys import SigningKey
from shared.credentials.data_integrity import signs_data_integrity
from shared.credentials.domain_linkage import configuration, linkage_jwt, linkage_ldp
from shared.errors import Conflict, InvalidField

# Which forms of Domain Linkage Credential a resource carries (DIF Well Known
# DID Configuration v1 allows both in `linked_dids`).
LinkageForm = Literal["jwt", "jsonld", "both"]
_FORMS: tuple[LinkageForm, ...] = get_args(LinkageForm)


def linkage_form(value: str | None) -> LinkageForm:
    """The `format` query parameter: `jwt` (the default), `jsonld` or `both`."""
    if value is None:
        return "jwt"
    for form in _FORMS:
        if value == form:
            return form
    raise InvalidField("format", "expected jwt, jsonld or both")


def linkage_entries(
    did: str, domain: str, key: SigningKey, now: datetime, form: LinkageForm
) -> list[str | dict[str, Any]]:
    """`did`'s Domain Linkage Credential(s) for `domain`, in the forms asked for."""
    entries: list[str | dict[str, Any]] = []
    # an RSA key has no Data Integrity cryptosuite: its linkage is the JWT form only
    ldp = signs_data_integrity(key)
    if form in ("jwt", "both") or not ldp:
        entries.append(linkage_jwt(did, domain, key, now))
    if form in ("jsonld", "both") and ldp:
        entries.append(linkage_ldp(did, domain, key, now))
    return entries


class NoWebDomain(Conflict):
    title = "No web domain registered"
    problem = "no-web-domain"


@dataclass(frozen=True)
class DomainLinkages:
    store: IssuerStore
    signer: Signer

    async def configuration(
        self, tenant: str, did: str, form: LinkageForm = "jwt"
    ) -> dict[str, Any]:
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
        linked: list[str | dict[str, Any]] = []
        for each in dict.fromkeys([did, *provider.issuer_dids]):
            owner = await self.store.issuer(each)
            if owner is None or owner.tenant != tenant or owner.signing_key_id is None:
                continue
            key = await self.signer.signing_key(
                owner.signing_key_id, owner.did_document, owner.signing_method_id
            )
            linked.extend(linkage_entries(each, provider.web_domain, key, now, form))
        return {"domain": provider.web_domain, "configuration": configuration(linked)}
