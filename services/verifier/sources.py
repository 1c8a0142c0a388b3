"""Where the verifier finds DID documents and status lists.

Our own issuers' DID documents and status lists come from the Kafka-fed
replica, so verification needs no running issuer or revocation service
(invariant 5). Anything else (did:web, other platforms' status lists) is
fetched behind the SSRF guard, with a cache.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from services.verifier.replica import Replica
from shared.credentials.errors import CredentialError
from shared.credentials.verify import unwrap
from shared.json_object import NotAJsonObject, parse_object
from shared.web.safe_fetch import FetchError, SafeFetcher

JWT_TYPES = ("application/vc+jwt", "application/jwt", "application/vc-ld+jwt")
MAX_SEEN = 1024


class StatusLists:
    """A `StatusListSource`: the replica first, then HTTP."""

    def __init__(self, replica: Replica, fetcher: SafeFetcher) -> None:
        self._replica = replica
        self._fetcher = fetcher
        self._seen: OrderedDict[str, bytes] = OrderedDict()  # the body whose ttl was applied

    async def get(self, url: str) -> dict[str, Any] | str:
        known = self._replica.status_lists.get(url)
        if known is not None:
            return known.credential_jwt
        body, content_type = await self._fetcher.fetch(
            url, accept="application/vc+jwt, application/vc+ld+json, application/json"
        )
        text = body.decode("utf-8", errors="replace").strip()
        if content_type.split(";")[0].strip() in JWT_TYPES or text.startswith("ey"):
            found: dict[str, Any] | str = text
        else:
            try:
                found = parse_object(body)
            except NotAJsonObject as error:
                raise FetchError(f"{url} is not a JWT and {error}") from None
        if self._seen.get(url) is not body:  # a new download (a cache hit is the same bytes)
            self._honour_ttl(url, body, found)
        return found

    def _honour_ttl(self, url: str, body: bytes, found: dict[str, Any] | str) -> None:
        """Bitstring Status List v1.0 §2.2 `ttl` (ms): cache the list no longer
        than it says, when that is shorter than its HTTP lifetime."""
        self._seen[url] = body
        self._seen.move_to_end(url)
        while len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)
        try:
            doc = unwrap(found)[0]
        except CredentialError:
            return
        subject = doc.get("credentialSubject")
        ttl = subject.get("ttl") if isinstance(subject, dict) else None
        if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
            self._fetcher.expire_within(url, ttl / 1000)
