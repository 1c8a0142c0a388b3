"""Per-app Prometheus metrics (never the global registry)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

UNMATCHED_ROUTE = "unmatched"


@dataclass(frozen=True)
class HttpMetrics:
    """The HTTP metrics of one app, in its own registry."""

    registry: CollectorRegistry
    requests: Counter
    duration: Histogram
    # Label lookups cost a lock and a tuple key each; the children are kept by
    # label values (as many as Prometheus itself keeps). Issue 7: hot path.
    _children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> HttpMetrics:
        registry = CollectorRegistry() if registry is None else registry
        requests = Counter(
            "http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=registry,
        )
        duration = Histogram(
            "http_request_duration_seconds",
            "Time to produce the HTTP response",
            ["method", "route"],
            registry=registry,
        )
        return cls(registry=registry, requests=requests, duration=duration)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


METRICS: web.AppKey[HttpMetrics] = web.AppKey("shared.metrics", HttpMetrics)


@dataclass(frozen=True)
class Outcomes:
    """What the service did, for operators: `microcred_outcomes_total{operation,
    outcome}` (e.g. award/issued, status_change/revoked, verification/valid).
    Label values are fixed words chosen by the code, never caller input."""

    counter: Counter
    _children: dict[tuple[str, str], Counter] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Outcomes:
        return cls(
            Counter(
                "microcred_outcomes",
                "Outcomes of the service's operations",
                ["operation", "outcome"],
                registry=registry,
            )
        )

    def count(self, operation: str, outcome: str) -> None:
        child = self._children.get((operation, outcome))
        if child is None:
            child = self._children[operation, outcome] = self.counter.labels(operation, outcome)
        child.inc()


OUTCOMES: web.AppKey[Outcomes] = web.AppKey("shared.outcomes", Outcomes)


def route_label(request: web.Request) -> str:
    """The route template (`/credentials/{id}`), never the raw path: bounded cardinality."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count requests and time them, labelled by method, route and status."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics = request.config_dict.get(METRICS)
        if metrics is not None:
            metrics.observe(
                request.method, route_label(request), status, time.perf_counter() - started
            )


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus text exposition of the app's registry."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
