"""Rate limits of the public verifier: token buckets held in each instance.

The verifier keeps no shared state (no Redis), so each instance (and each
worker process) keeps its own buckets: a client's effective limit is the
per-instance quota times the instances it reaches. Buckets are per client
address (the TCP peer, or behind `MICROCRED_VERIFIER_TRUSTED_PROXIES` the
address they forwarded for), or per API key for callers that send one in
`X-API-Key` (job boards get keys with larger quotas:
`MICROCRED_VERIFIER_API_KEYS=key=quota,...`); an unknown key is a 401.

A bucket holds `quota` tokens and refills at `quota / window` per second;
each request takes one, and a batch one per item (`Quota.spend`: taken
after it is read, so the bucket may go below zero and the next requests
wait). Every answer carries the fields of
draft-ietf-httpapi-ratelimit-headers-09: `RateLimit-Policy` (§3: `q` quota,
`w` window in seconds) and `RateLimit` (§4: `r` remaining, `t` seconds until
the bucket is full again); an empty bucket answers 429 with `Retry-After`
(RFC 9110 §10.2.3) in whole seconds until the next token.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from shared.errors import DomainError
from shared.settings import SettingsError, env_int, env_list, env_var
from shared.web.problems import Problem, problem_type

API_KEY_HEADER = "X-API-Key"
# Operational routes stay reachable for probes and scrapers.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass(frozen=True)
class RatePolicy:
    """Quotas: per address, per API key, over one window (seconds)."""

    address_quota: int = 600
    window_s: int = 60
    api_keys: Mapping[str, int] = field(default_factory=dict)
    max_buckets: int = 100_000
    # Reverse proxies (load balancers, ingresses) whose `X-Forwarded-For` is
    # believed: behind them the client is the last address they appended.
    trusted_proxies: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RatePolicy:
        keys: dict[str, int] = {}
        for item in env_list("VERIFIER_API_KEYS", (), environ):
            key, sep, quota = item.partition("=")
            if not sep or not key.strip() or not quota.strip().isdigit() or int(quota) < 1:
                raise SettingsError(
                    f"{env_var('VERIFIER_API_KEYS')}: expected key=quota items, got {item!r}"
                )
            keys[key.strip()] = int(quota)
        return cls(
            address_quota=env_int("VERIFIER_ADDRESS_QUOTA", cls.address_quota, environ, minimum=1),
            window_s=env_int("VERIFIER_QUOTA_WINDOW_S", cls.window_s, environ, minimum=1),
            api_keys=keys,
            trusted_proxies=frozenset(env_list("VERIFIER_TRUSTED_PROXIES", (), environ)),
        )

    def client_address(self, request: web.Request) -> str:
        """The TCP peer, or, when that is a trusted proxy, the nearest address
        in `X-Forwarded-For` (RFC 7239 §5.2's node list, rightmost first) that
        is not one of the trusted proxies."""
        peer = request.remote or "?"
        if peer not in self.trusted_proxies:
            return peer
        for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
            address = hop.strip()
            if address and address not in self.trusted_proxies:
                return address
        return peer


class UnknownApiKey(DomainError):
    status = 401
    title = "Unauthorized"
    problem = "unknown-api-key"

    def __init__(self) -> None:
        super().__init__(f"the {API_KEY_HEADER} is not one this verifier knows")


@dataclass
class Bucket:
    tokens: float
    updated: float


class Buckets:
    """Token buckets by partition key, least recently used dropped first."""

    def __init__(self, max_buckets: int) -> None:
        self._max = max_buckets
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, key: str, quota: int, window_s: int, now: float) -> tuple[bool, Bucket]:
        """(allowed, the bucket after this request: one token taken if allowed)."""
        rate = quota / window_s
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(float(quota), now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(quota), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens < 1:
            return False, bucket
        bucket.tokens -= 1
        return True, bucket


@dataclass
class Quota:
    """The quota one request is counted against, for its handler and its answer."""

    name: str  # address, api-key
    quota: int
    window_s: int
    bucket: Bucket

    def spend(self, tokens: int) -> None:
        """Count `tokens` more (a batch's other items): the bucket may go
        below zero, and the client's next requests wait until it refills."""
        self.bucket.tokens -= tokens

    def fields(self) -> dict[str, str]:
        rate = self.quota / self.window_s
        left = max(0.0, self.bucket.tokens)
        return {
            "RateLimit-Policy": f'"{self.name}";q={self.quota};w={self.window_s}',
            "RateLimit": f'"{self.name}";r={int(left)};t={math.ceil((self.quota - left) / rate)}',
        }


QUOTA: web.RequestKey[Quota] = web.RequestKey("verifier.quota", Quota)


def rate_limit_middleware(policy: RatePolicy) -> Middleware:
    buckets = Buckets(policy.max_buckets)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNLIMITED_PATHS:
            return await handler(request)
        key = request.headers.get(API_KEY_HEADER)
        if key is not None:
            quota = policy.api_keys.get(key)
            if quota is None:
                raise UnknownApiKey()
            name, partition = "api-key", f"key:{key}"
        else:
            address = policy.client_address(request)
            quota, name, partition = policy.address_quota, "address", f"ip:{address}"
        allowed, bucket = buckets.take(partition, quota, policy.window_s, time.monotonic())
        request[QUOTA] = Quota(name, quota, policy.window_s, bucket)
        if not allowed:
            wait = math.ceil((1 - bucket.tokens) * policy.window_s / quota)
            raise Problem(
                429,
                f"over the {name} quota of {quota} requests per {policy.window_s} s; "
                f"retry in {wait} s",
                title="Too Many Requests",
                type=problem_type("rate-limited"),
                headers={"Retry-After": str(wait)},
            )
        return await handler(request)

    return middleware


async def rate_limit_fields(request: web.Request, response: web.StreamResponse) -> None:
    """`app.on_response_prepare`: every answer, a streamed one and a problem
    included, carries its quota's fields as they are when it is sent."""
    quota = request.get(QUOTA)
    if quota is not None:
        response.headers.update(quota.fields())
