"""Rate limits of the public verifier: token buckets held in each instance.

The verifier keeps no shared state (no Redis), so each instance (and each
worker process) keeps its own buckets: a client's effective limit is the
per-instance quota times the instances it reaches. Buckets are per client
address (the TCP peer, or behind `MICROCRED_VERIFIER_TRUSTED_PROXIES` the
address they forwarded for), or per API key for callers that send one in
`X-API-Key` (job boards get keys with larger quotas:
`MICROCRED_VERIFIER_API_KEYS=key=quota,...`); an unknown key is a 401.

A bucket holds `quota` tokens and refills at `quota / window` per second;
each request takes one. Every answer carries the fields of
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
from shared.web.problems import Problem, domain_problem, problem_response, problem_type

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

    def take(self, key: str, quota: int, window_s: int, now: float) -> tuple[bool, float]:
        """(allowed, tokens left after this request)."""
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
            return False, bucket.tokens
        bucket.tokens -= 1
        return True, bucket.tokens


def _fields(name: str, quota: int, window_s: int, tokens: float) -> dict[str, str]:
    rate = quota / window_s
    full_in = math.ceil((quota - tokens) / rate)
    return {
        "RateLimit-Policy": f'"{name}";q={quota};w={window_s}',
        "RateLimit": f'"{name}";r={int(tokens)};t={full_in}',
    }


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
        allowed, tokens = buckets.take(partition, quota, policy.window_s, time.monotonic())
        headers = _fields(name, quota, policy.window_s, tokens)
        if not allowed:
            wait = math.ceil((1 - tokens) * policy.window_s / quota)
            raise Problem(
                429,
                f"over the {name} quota of {quota} requests per {policy.window_s} s; "
                f"retry in {wait} s",
                title="Too Many Requests",
                type=problem_type("rate-limited"),
                headers={**headers, "Retry-After": str(wait)},
            )
        try:
            response = await handler(request)
        except Problem as problem:
            response = problem_response(problem, request)
        except DomainError as error:
            response = problem_response(domain_problem(error), request)
        except web.HTTPException as exc:  # rendered by the problem middleware, headers kept
            exc.headers.update(headers)
            raise
        if not response.prepared:
            response.headers.update(headers)
        return response

    return middleware
