"""Registering an issuer identity: a new did:key (the default) or a
platform-hosted did:web (`didMethod: "web"`), its OB 3.0 Profile, published.

Idempotent by Idempotency-Key like every write (docs/api.md): a retry gets
the first identity, never a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec

from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.builders import build_profile
from shared.events import IssuerProfilePublished
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class IssuerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    url: Text
    email: Text | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    # EU 2022 Annex I: the country or region of the issuer.
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2)] | None = None
    region: Text | None = None
    # did:key for quick starts; did:web (hosted here) for institutions: it can rotate keys.
    didMethod: Literal["key", "web"] = "key"


@dataclass(frozen=True)
class Identities:
    store: IssuerStore
    signer: Signer
    publisher: Publisher
    topic: str  # issuer.profiles, with the deployment's prefix
    require_caught_up: Callable[[], None]  # raises Rebuilding
    base_url: str  # the issuer service's public base URL: the did:web host and path

    async def register(
        self, tenant: str, body: IssuerIn, key: str | None
    ) -> tuple[IssuerIdentity, bool]:
        """The identity for this request and whether it was made now."""
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> IssuerIdentity:
            return await self._create(tenant, body, key, request)

        async def replay(did: str) -> IssuerIdentity:
            identity = await self.store.issuer(did)
            assert identity is not None, "the identity is stored before its key"
            return identity

        # The default stays out of the fingerprint: retries from before the
        # option existed still match.
        request = fingerprint(body if body.didMethod == "web" else _without_method(body))
        return await self.store.issuer_idempotency.once(tenant, key, request, create, replay)

    async def _create(
        self, tenant: str, body: IssuerIn, key: str | None, request: str | None
    ) -> IssuerIdentity:
        if body.didMethod == "web":
            created = await self.signer.create_web_identity(tenant, self.base_url)
        else:
            created = await self.signer.create_identity(tenant)
        key_id, did, did_document = created
        profile = build_profile(
            did,
            body.name,
            url=body.url,
            email=body.email,
            description=body.description,
            country_code=body.country,
            region=body.region,
        )
        event = IssuerProfilePublished(
            tenant=tenant,
            did=did,
            profile=profile,
            did_document=did_document,
            signing_key_id=key_id,
            idempotency_key=key,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, event, key=did)
        await self.store.save_issuer(event)
        return IssuerIdentity(did, tenant, key_id, profile, did_document)


def _without_method(body: IssuerIn) -> dict[str, object]:
    fields = msgspec.to_builtins(body)
    assert isinstance(fields, dict)
    fields.pop("didMethod", None)
    return fields
