"""Registering an issuer identity: a new did:key (the default), a
platform-hosted did:web (`didMethod: "web"`) or a did:web on the
institution's own domain (`webDomain`, `webPath`: `self_hosting.py`), its
OB 3.0 Profile, published.

Idempotent by Idempotency-Key like every write (docs/api.md): a retry gets
the first identity, never a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from services.issuer.self_hosting import require_free, self_hosted_did
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.builders import build_profile
from shared.credentials.definitions import profile_errors
from shared.credentials.shape_rules import is_url
from shared.errors import InvalidField, InvalidFields
from shared.events import IssuerProfilePublished
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.providers import WebDomain
from shared.text import has_visible_character

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
# did:web path segments (did:web §3.1: `:`-joined, here `/`-joined like the
# URL); none starts with a dot, so none is "." or "..".
WebPath = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,62}(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,62}){0,4}$",
        description="up to 5 path segments, e.g. badges or credentials/2026",
    ),
]


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
    # A did:web on the institution's own domain (`did:web:<webDomain>[:path]`),
    # hosted by the institution; needs didMethod "web".
    webDomain: WebDomain | None = None
    webPath: WebPath | None = None
    # The issuer's signing key (OB 3.0 §8.2: RS256 is the minimum JWT
    # algorithm, so RSA must be available; ES256 too): Ed25519 signs EdDSA
    # JWTs and eddsa-rdfc-2022 proofs, P-256 ES256 and ecdsa-rdfc-2019, RSA
    # RS256 JWTs only (no RSA Data Integrity cryptosuite). RSA needs did:web.
    keyType: Literal["Ed25519", "P-256", "RSA"] = "Ed25519"

    def check(self) -> None:
        if self.keyType == "RSA" and self.didMethod != "web":
            raise InvalidField(
                "$.keyType",
                "an RSA key is published as a JWK in a did:web document: set didMethod "
                "to web (no did:key for RSA here)",
            )
        if self.webDomain is not None and self.didMethod != "web":
            raise InvalidField("$.webDomain", "a self-hosted identity is a did:web: set didMethod")
        if self.webPath is not None and self.webDomain is None:
            raise InvalidField("$.webPath", "a path needs a webDomain")
        if not is_url(self.url):
            raise InvalidField("$.url", "url must be an http(s) URL of the institution")
        if not has_visible_character(self.name):  # what verification pages show
            raise InvalidField("$.name", "must have a visible character")
        # What credentials naming this issuer need (the verifier's rules):
        # checked on the profile built for a stand-in DID, before a key is made.
        errors = profile_errors(self.profile("did:example:issuer"))
        if errors:
            raise InvalidFields([(_request_path(e.path), e.detail) for e in errors])

    def profile(self, did: str) -> dict[str, Any]:
        """The issuer's OB 3.0 Profile (§B.1.14) under `did`."""
        return build_profile(
            did,
            self.name,
            url=self.url,
            email=self.email,
            description=self.description,
            country_code=self.country,
            region=self.region,
        )


# A built Profile's member -> the request member it came from.
_ADDRESS_MEMBERS = {"addressCountryCode": "country", "addressRegion": "region"}


def _request_path(profile_path: str | None) -> str:
    """`$.address.addressCountryCode` -> `$.country`; `$.email` stays."""
    parts = (profile_path or "$").split(".")
    if len(parts) >= 3 and parts[1] == "address":
        return f"$.{_ADDRESS_MEMBERS.get(parts[2], parts[2])}"
    return ".".join(parts[:2])


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
        body.check()
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> IssuerIdentity:
            if body.webDomain is None:
                return await self._create(tenant, body, key, request)
            did = self_hosted_did(body.webDomain, body.webPath)
            async with self.store.self_hosting_lease(did):
                await require_free(self.store, tenant, did)
                return await self._create(tenant, body, key, request, did=did)

        request = fingerprint(_unset_omitted(body))
        return await self.store.issuer_idempotency.once(
            tenant, key, request, create, self.store.issuer
        )

    async def _create(
        self,
        tenant: str,
        body: IssuerIn,
        key: str | None,
        request: str | None,
        *,
        did: str | None = None,
    ) -> IssuerIdentity:
        kind = body.keyType
        if did is not None:
            created = await self.signer.create_self_hosted_identity(tenant, did, kind)
        elif body.didMethod == "web":
            created = await self.signer.create_web_identity(tenant, self.base_url, kind)
        else:
            created = await self.signer.create_identity(tenant, kind)
        key_id, did, did_document = created
        profile = body.profile(did)
        event = IssuerProfilePublished(
            tenant=tenant,
            did=did,
            profile=profile,
            did_document=did_document,
            signing_key_id=key_id,
            idempotency_key=key,
            request_hash=request,
            self_hosted=body.webDomain is not None,
        )
        await self.publisher.publish(self.topic, event, key=did)
        await self.store.save_issuer(event)
        return IssuerIdentity(did, tenant, key_id, profile, did_document)


def _unset_omitted(body: IssuerIn) -> dict[str, object]:
    """The request without the members left at their default, so retries
    from before an option existed still match their fingerprint."""
    fields = msgspec.to_builtins(body)
    assert isinstance(fields, dict)
    if fields.get("didMethod") == "key":
        fields.pop("didMethod")
    if fields.get("keyType") == "Ed25519":
        fields.pop("keyType")
    for name in ("webDomain", "webPath"):
        if fields.get(name) is None:
            fields.pop(name, None)
    return fields
