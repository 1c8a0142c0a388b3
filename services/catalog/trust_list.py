"""The operator's registry, published as a signed trust list.

`GET /trust-list` answers a compact JWS (`application/jwt`, header `alg`,
`kid`, `typ: JWT`) whose payload is the trust list; `GET /trust-list.json`
the same payload unsigned, for reading. The signer is the catalog's own
trust-list key (Ed25519, kept in the key store under the owner
`platform:trust-list`, created on first use; oldest first, so every catalog instance
signs with the same one), named as a did:key in `iss` and `kid`. Verifiers
pin that DID. The payload (format `MicrocredTrustList` v1, docs/api.md)
lists every provider with its issuer DIDs, status and accreditations; it
depends only on the registry, so one registry state gives one document and
one ETag (Ed25519 signatures are deterministic).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from services.catalog.store import CatalogStore
from shared.credentials.crypto_keys import SigningKey
from shared.credentials.dids import did_key_for
from shared.credentials.jws import sign_jws
from shared.errors import Unavailable
from shared.events import ProviderPublished
from shared.keystore import KeyStore
from shared.providers import provider_view

TRUST_LIST_TYPE = "MicrocredTrustList"
KEY_OWNER = "platform:trust-list"  # never a tenant name (tenants own issuer keys)


@dataclass(frozen=True)
class Published:
    payload: dict[str, Any]
    etag: str


def trust_list(
    providers: list[ProviderPublished], *, publisher: str, operator: str, signer: str | None
) -> dict[str, Any]:
    """The trust list's payload: providers sorted by id; `updated` is the
    newest record's time, so the document changes only with the registry."""
    ordered = sorted(providers, key=lambda p: p.provider_id)
    entries = []
    for provider in ordered:
        view = provider_view(provider)
        view.pop("revision", None)
        view.pop("genericIssuance", None)  # a platform permission, not a trust statement
        entries.append(view)
    updated = max((p.occurred_at for p in ordered), default=None)
    payload: dict[str, Any] = {
        "type": TRUST_LIST_TYPE,
        "version": 1,
        "id": publisher,
        "operator": {"name": operator},
        "updated": str(updated) if updated is not None else None,
        "providers": entries,
    }
    if signer is not None:
        payload["iss"] = signer
    return payload


def etag_of(payload: dict[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


@dataclass
class TrustListPublisher:
    store: CatalogStore
    keystore: KeyStore | None
    publisher: str  # the list's public URL
    operator: str
    _key: SigningKey | None = field(default=None, repr=False)

    async def signing_key(self) -> SigningKey:
        if self._key is None:
            if self.keystore is None:
                raise Unavailable("no key store configured: the trust list cannot be signed")
            keys = await self.keystore.list_keys(KEY_OWNER)
            if not keys:
                # Instances racing here each make one, then all take the oldest.
                await self.keystore.create_key(KEY_OWNER, "Ed25519")
                keys = await self.keystore.list_keys(KEY_OWNER)
            key_id = keys[0].key_id
            private = await self.keystore.load(key_id)
            did = did_key_for(await self.keystore.public_key(key_id))
            self._key = SigningKey(private, f"{did}#{did.removeprefix('did:key:')}")
        return self._key

    async def current(self, *, signed: bool) -> tuple[Published, str | None]:
        """The payload (and its ETag), and the JWS when `signed`."""
        await self.store.state.require()
        key = await self.signing_key() if signed or self.keystore is not None else None
        signer = key.kid.split("#", 1)[0] if key is not None else None
        payload = trust_list(
            await self.store.all_providers(),
            publisher=self.publisher,
            operator=self.operator,
            signer=signer,
        )
        published = Published(payload, etag_of(payload))
        return published, sign_jws(payload, key, "JWT") if signed and key is not None else None
