"""Which tenant owns an issuer DID and which key signs its status lists.

Learnt from `issuer.profiles`; the private key itself stays in the key store
shared with the issuer service (architecture §5: keys never leave issuer and
revocation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson
import redis.asyncio as redis

from shared.credentials.crypto_keys import SigningKey
from shared.events import IssuerProfilePublished
from shared.keystore import KeyStore
from shared.redis_keys import ISSUER_SLUGS, ISSUERS, redis_key
from shared.status_lists import issuer_slug


@dataclass(frozen=True)
class IssuerKey:
    did: str
    tenant: str
    key_id: str | None
    kid: str


def _assertion_kid(event: IssuerProfilePublished) -> str:
    """The method the current key signs as (rotation names it; before that,
    the document's first assertion method)."""
    if event.signing_method_id is not None:
        return event.signing_method_id
    methods = event.did_document.get("assertionMethod")
    first = methods[0] if isinstance(methods, list) and methods else f"{event.did}#key-1"
    return first if isinstance(first, str) else str(first.get("id"))


class IssuerKeys:
    def __init__(self, client: redis.Redis, prefix: str, keystore: KeyStore) -> None:
        self._redis = client
        self._hash = redis_key(prefix, ISSUERS)
        self._slugs = redis_key(prefix, ISSUER_SLUGS)
        self._keystore = keystore
        # By key store id: a rotation (a new id) takes effect at the next list signed.
        self._cache: dict[str, SigningKey] = {}

    async def remember(self, event: IssuerProfilePublished) -> None:
        record = IssuerKey(event.did, event.tenant, event.signing_key_id, _assertion_kid(event))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._hash, event.did, orjson.dumps(asdict(record)))
            pipe.hset(self._slugs, issuer_slug(event.did), event.did)
            await pipe.execute()

    async def did_for_slug(self, slug: str) -> str | None:
        raw = await self._redis.hget(self._slugs, slug)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def issuer(self, did: str) -> IssuerKey | None:
        raw = await self._redis.hget(self._hash, did)
        return IssuerKey(**orjson.loads(raw)) if raw else None

    async def signing_key(self, did: str) -> SigningKey:
        """The issuer's current key, as the replayed `issuer.profiles` names it."""
        issuer = await self.issuer(did)
        if issuer is None or issuer.key_id is None:
            raise LookupError(f"no signing key known for {did}")
        key = self._cache.get(issuer.key_id)
        if key is None or key.kid != issuer.kid:
            private_key = await self._keystore.load(issuer.key_id)
            key = self._cache[issuer.key_id] = SigningKey(private_key, issuer.kid)
        return key
