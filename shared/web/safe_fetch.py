"""Fetch a URL that a caller gave us, without letting it reach inside.

SSRF guard: only `https` (plus origins an operator trusts explicitly, such as
the local revocation service), every resolved address must be globally
routable, and the connection goes to exactly the addresses that were vetted
(a resolver pinned to them), so DNS rebinding cannot swap in a private one.
Bodies are capped, redirects are not followed, and answers are cached by URL
for `Cache-Control: max-age` (bounded) or a default TTL; one fetch per URL at
a time, failures remembered for `failure_ttl` (`shared.web.fetch_cache`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from shared.json_object import NotAJsonObject, parse_object
from shared.web.fetch_cache import NegativeCache, SingleFlight


class FetchError(Exception):
    """A URL that may not be fetched, or that did not answer usefully."""


@dataclass(frozen=True)
class FetchPolicy:
    trusted_origins: frozenset[str] = frozenset()
    max_bytes: int = 2 * 1024 * 1024
    timeout_seconds: float = 5.0
    default_ttl: float = 300.0
    max_ttl: float = 3600.0
    cache_entries: int = 1024
    failure_ttl: float = 5.0
    # Tests only (set in code, never from the environment): the CA bundle of a
    # test CA, and `host -> (address, port)` to connect to instead of DNS
    # (like curl's --connect-to), which lets a loopback test server stand in
    # for a public https origin. https and certificate checks still apply.
    ssl_context: ssl.SSLContext | None = None
    connect_to: Mapping[str, tuple[str, int]] = field(default_factory=dict)


# A host name: dot-separated labels of letters, digits, hyphens inside and
# underscores (RFC 1123 §2.1, as resolvers take them), an optional trailing
# dot; an internationalised one is checked in its IDNA form. Or an IP literal.
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,254}}$){_LABEL}(\.{_LABEL})*\.?$")


def _is_host_name(host: str) -> bool:
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode()
    except UnicodeError:
        return False
    return bool(_HOST_NAME.match(ascii_host))


def url_parts(url: str) -> tuple[SplitResult, int]:
    """The URL's parts and port (443 unless given); FetchError for one that
    cannot name a server: unreadable (an unclosed IPv6 bracket, a port that
    is no number or out of range), port 0, or a host that is neither a
    host name nor an IP address."""
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else 443
    except ValueError as error:
        raise FetchError(f"not a URL that can be fetched: {error}") from None
    host = parts.hostname or ""
    if port == 0 or not (_is_host_name(host) or _is_ip(host)):
        raise FetchError(f"not a URL that can be fetched: no server at {parts.netloc!r}")
    return parts, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}".lower()


# IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-
# compatible (RFC 4291 §2.5.5.1), IPv4-translated (RFC 2765 §2.1) and the
# well-known NAT64 prefix (RFC 6052 §2.1), through which a translator would
# reach the embedded address.
_IPV4_IN_LAST_32_BITS = (
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    ipaddress.ip_network("64:ff9b::/96"),
)
# Never public: the local-use NAT64 prefix (RFC 8215), site-local (RFC 3879).
_NEVER_PUBLIC = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("fec0::/10"))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in network for network in _IPV4_IN_LAST_32_BITS):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


class _PinnedResolver(AbstractResolver):
    """Answers with the addresses vetted before the request, nothing else."""

    def __init__(self, host: str, results: list[ResolveResult], *, fixed_port: bool) -> None:
        self._host = host
        self._results = results
        self._fixed_port = fixed_port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"unexpected host {host}")
        if self._fixed_port:
            return list(self._results)
        return [{**result, "port": port} for result in self._results]

    async def close(self) -> None:
        return None


async def _vetted_addresses(host: str, port: int) -> list[ResolveResult]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchError(f"cannot resolve {host}") from error
    results: list[ResolveResult] = []
    for family, _, proto, _, sockaddr in infos:
        address = str(sockaddr[0])
        if not _is_public(address):
            raise FetchError(f"{host} resolves to a non-public address")
        results.append(
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": family,
                "proto": proto,
                "flags": socket.AI_NUMERICHOST,
            }
        )
    if not results:
        raise FetchError(f"cannot resolve {host}")
    return results


@dataclass
class SafeFetcher:
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    # Called with every URL asked for, before the cache (e.g. a per-request budget).
    on_fetch: Callable[[str], None] | None = None
    _cache: OrderedDict[str, tuple[float, bytes, str]] = field(default_factory=OrderedDict)
    _flights: SingleFlight[tuple[bytes, str]] = field(default_factory=SingleFlight)
    _failures: NegativeCache = field(init=False)

    def __post_init__(self) -> None:
        self._failures = NegativeCache(self.policy.failure_ttl, self.policy.cache_entries)

    async def fetch_json(self, url: str) -> dict[str, Any]:
        body, _ = await self.fetch(url, accept="application/json, application/did+json")
        try:
            return parse_object(body)
        except NotAJsonObject as error:
            raise FetchError(f"{url} answered {error}") from None

    async def fetch(self, url: str, *, accept: str = "*/*") -> tuple[bytes, str]:
        """The body and content type of `url`, from the cache when fresh."""
        if self.on_fetch is not None:
            self.on_fetch(url)
        cached = self._cache.get(url)
        if cached and cached[0] > time.monotonic():
            self._cache.move_to_end(url)
            return cached[1], cached[2]
        failure = self._failures.failure(url)
        if failure is not None:
            raise FetchError(f"{failure} (remembered)")
        return await self._flights.run(url, lambda: self._fetch_once(url, accept))

    async def _fetch_once(self, url: str, accept: str) -> tuple[bytes, str]:
        try:
            body, content_type, ttl = await self._download(url, accept)
        except FetchError as error:
            self._failures.remember(url, str(error))
            raise
        self._remember(url, body, content_type, ttl)
        return body, content_type

    def expire_within(self, url: str, seconds: float) -> None:
        """Keep the cached answer for `url` at most `seconds` more (e.g. a
        document's own lifetime, shorter than its HTTP one)."""
        cached = self._cache.get(url)
        latest = time.monotonic() + max(0.0, seconds)
        if cached is not None and cached[0] > latest:
            self._cache[url] = (latest, cached[1], cached[2])

    def _remember(self, url: str, body: bytes, content_type: str, ttl: float) -> None:
        self._cache[url] = (time.monotonic() + ttl, body, content_type)
        self._cache.move_to_end(url)
        while len(self._cache) > self.policy.cache_entries:
            self._cache.popitem(last=False)

    async def _connector(self, url: str) -> aiohttp.TCPConnector:
        parts, port = url_parts(url)
        host = parts.hostname or ""
        if _origin(parts) in self.policy.trusted_origins:
            return aiohttp.TCPConnector()
        if parts.scheme != "https" or not host:
            raise FetchError(f"only https URLs may be fetched, not {url!r}")
        if parts.username or parts.password:
            raise FetchError("URLs with credentials are refused")
        ssl_option: ssl.SSLContext | bool = self.policy.ssl_context or True
        if host in self.policy.connect_to:
            address, port = self.policy.connect_to[host]
            result: ResolveResult = {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            resolver = _PinnedResolver(host, [result], fixed_port=True)
            return aiohttp.TCPConnector(resolver=resolver, ssl=ssl_option)
        addresses = await _vetted_addresses(host, port)
        resolver = _PinnedResolver(host, addresses, fixed_port=False)
        return aiohttp.TCPConnector(resolver=resolver, ssl=ssl_option)

    async def _download(self, url: str, accept: str) -> tuple[bytes, str, float]:
        connector = await self._connector(url)
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
                session.get(url, headers={"Accept": accept}, allow_redirects=False) as answer,
            ):
                if answer.status != 200:
                    raise FetchError(f"{url} answered HTTP {answer.status}")
                body = await self._read_capped(answer)
                ttl = self._ttl(answer.headers.get("Cache-Control", ""))
                return body, answer.headers.get("Content-Type", ""), ttl
        except (aiohttp.ClientError, TimeoutError) as error:
            raise FetchError(f"{url} could not be fetched: {type(error).__name__}") from error

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url` behind the same guard (webhooks); the status
        answered (redirects not followed). FetchError when it cannot be sent."""
        connector = await self._connector(url)
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
                session.post(
                    url, data=body, headers=dict(headers), allow_redirects=False
                ) as answer,
            ):
                await answer.content.read(1024)  # a receiver's answer is not ours to keep
                return answer.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise FetchError(f"{url} could not be reached: {type(error).__name__}") from error

    async def _read_capped(self, answer: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.policy.max_bytes:
                raise FetchError("answer exceeds the size limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def _ttl(self, cache_control: str) -> float:
        for directive in cache_control.lower().split(","):
            name, _, value = directive.strip().partition("=")
            if name in ("no-store", "no-cache"):
                return 0.0
            if name == "max-age" and value.isdigit():
                return min(float(value), self.policy.max_ttl)
        return self.policy.default_ttl
