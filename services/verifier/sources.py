"""Where the verifier finds DID documents and status lists.

Our own issuers' DID documents and status lists come from the Kafka-fed
replica, so verification needs no running issuer or revocation service
(invariant 5). Anything else (did:web, other platforms' status lists) is
fetched behind the SSRF guard, with a cache.
"""

from __future__ import annotations

from typing import Any

from services.verifier.replica import Replica
from shared.json_object import NotAJsonObject, parse_object
from shared.web.safe_fetch import FetchError, SafeFetcher

JWT_TYPES = ("application/vc+jwt", "application/jwt", "application/vc-ld+jwt")


class StatusLists:
    """A `StatusListSource`: the replica first, then HTTP."""

    def __init__(self, replica: Replica, fetcher: SafeFetcher) -> None:
        self._replica = replica
        self._fetcher = fetcher

    async def get(self, url: str) -> dict[str, Any] | str:
        known = self._replica.status_lists.get(url)
        if known is not None:
            return known.credential_jwt
        body, content_type = await self._fetcher.fetch(
            url, accept="application/vc+jwt, application/vc+ld+json, application/json"
        )
        text = body.decode("utf-8", errors="replace").strip()
        if content_type.split(";")[0].strip() in JWT_TYPES or text.startswith("ey"):
            return text
        try:
            return parse_object(body)
        except NotAJsonObject as error:
            raise FetchError(f"{url} is not a JWT and {error}") from None
