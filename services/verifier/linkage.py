"""Is an issuer's DID linked to its provider's registered web domain?

The verifier fetches `https://<webDomain>/.well-known/did-configuration.json`
through the SSRF guard and checks a Domain Linkage Credential for the DID
(`shared.credentials.domain_linkage`). The answer is cached per (DID,
domain) with a TTL (shorter for a failure), in a bounded LRU, and one fetch
takes at most `timeout` seconds, so a slow domain never holds a verification
up for long. Linkage adds confidence to the trust details (`domainLinked`);
it never makes a verdict `valid` by itself: that takes an accreditation.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.credentials.dids import DidResolver
from shared.credentials.domain_linkage import LinkageError, check_linkage, configuration_url
from shared.credentials.errors import CredentialError
from shared.web.safe_fetch import FetchError, SafeFetcher


@dataclass(frozen=True)
class Linkage:
    domain: str
    linked: bool
    reason: str

    def details(self) -> dict[str, Any]:
        return {"domain": self.domain, "domainLinked": self.linked, "domainLinkage": self.reason}


@dataclass
class DomainLinkage:
    fetcher: SafeFetcher
    resolver: DidResolver
    ttl: float = 3600.0
    failure_ttl: float = 60.0
    timeout: float = 3.0
    max_entries: int = 4096
    clock: Callable[[], float] = time.monotonic
    _cache: OrderedDict[tuple[str, str], tuple[float, Linkage]] = field(default_factory=OrderedDict)
    # One fetch per (DID, domain) at a time: concurrent verifications share it.
    _pending: dict[tuple[str, str], asyncio.Task[Linkage]] = field(default_factory=dict)

    async def check(self, did: str, domain: str) -> Linkage:
        key = (did, domain)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            self._cache.move_to_end(key)
            return cached[1]
        task = self._pending.get(key)
        if task is None:
            task = self._pending[key] = asyncio.ensure_future(self._check_and_cache(key))
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    async def _check_and_cache(self, key: tuple[str, str]) -> Linkage:
        did, domain = key
        linkage = await self._check(did, domain)
        ttl = self.ttl if linkage.linked else self.failure_ttl
        self._cache[key] = (self.clock() + ttl, linkage)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return linkage

    async def _check(self, did: str, domain: str) -> Linkage:
        url = configuration_url(domain)
        try:
            async with asyncio.timeout(self.timeout):
                resource = await self.fetcher.fetch_json(url)
                await check_linkage(resource, did, domain, self.resolver, datetime.now(UTC))
        except TimeoutError:
            return Linkage(domain, False, f"{url} did not answer in time")
        except FetchError as error:
            return Linkage(domain, False, f"no DID configuration: {error}")
        except LinkageError as error:
            return Linkage(domain, False, f"{error.code}: {error.detail}")
        except CredentialError as error:
            return Linkage(domain, False, f"linkage credential: {error}")
        return Linkage(domain, True, f"{domain} links to {did} ({url})")
