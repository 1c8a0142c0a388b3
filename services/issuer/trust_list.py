"""The operator's registry, published as a trust list signed by the operator.

The issuer service holds the platform operator's identity (a did:key whose
key is in its key store, `accreditation.py`; keys never leave the issuer and
revocation services, architecture §5) and replicates `catalog.providers`, so
it builds the list, signs it and serves it, also while the catalog is down.
`GET /trust-list` answers a compact JWS (`application/jwt`, header `alg`,
`kid`, `typ: JWT`) signed by the operator's DID, the same DID that signs
the accreditation EndorsementCredentials; `GET /trust-list.json` the same
payload unsigned, for reading. Verifiers pin that DID. The payload (format
`MicrocredTrustList` v1, docs/api.md) lists every provider with its issuer
DIDs, status and accreditations; it depends only on the registry, so one
registry state gives one document and one ETag (Ed25519 signatures are
deterministic, RFC 8032 §5.1.6).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from services.issuer.accreditation import Accreditations
from services.issuer.store import IssuerStore
from shared.credentials.jws import sign_jws
from shared.events import ProviderPublished
from shared.providers import provider_view

TRUST_LIST_TYPE = "MicrocredTrustList"


@dataclass(frozen=True)
class Published:
    payload: dict[str, Any]
    etag: str


def trust_list(
    providers: list[ProviderPublished], *, publisher: str, operator: str, signer: str
) -> dict[str, Any]:
    """The trust list's payload: providers sorted by id; `updated` is the
    newest record's time, so the document changes only with the registry."""
    ordered = sorted(providers, key=lambda p: p.provider_id)
    entries = []
    for provider in ordered:
        view = provider_view(provider)
        view.pop("revision", None)
        view.pop("policyProfile", None)  # the provider's own rule set, not a trust claim
        view.pop("genericIssuance", None)  # a platform permission, not a trust statement
        entries.append(view)
    updated = max((p.occurred_at for p in ordered), default=None)
    return {
        "type": TRUST_LIST_TYPE,
        "version": 1,
        "id": publisher,
        "iss": signer,
        "operator": {"name": operator},
        "updated": str(updated) if updated is not None else None,
        "providers": entries,
    }


def etag_of(payload: dict[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


@dataclass(frozen=True)
class TrustListPublisher:
    store: IssuerStore
    accreditations: Accreditations  # the operator's identity and key
    publisher: str  # the list's public URL
    operator: str  # the operator's name

    async def current(self) -> tuple[Published, str]:
        """The payload with its ETag, and the JWS signed by the operator."""
        await self.store.state.require()
        identity, key = await self.accreditations.operator_key()
        payload = trust_list(
            await self.store.all_providers(),
            publisher=self.publisher,
            operator=self.operator,
            signer=identity.did,
        )
        return Published(payload, etag_of(payload)), sign_jws(payload, key, "JWT")
