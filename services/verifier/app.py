"""The verifier service: public verification from a Kafka-fed replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from services.verifier.app_keys import REPLICA, VERIFIER, VERIFIER_SETTINGS
from services.verifier.budget import budget_middleware, spend_fetch
from services.verifier.consumers import on_replica_event
from services.verifier.offload import CanonPool
from services.verifier.openapi import OPENAPI
from services.verifier.ratelimit import rate_limit_middleware
from services.verifier.replica import Replica
from services.verifier.routes import routes
from services.verifier.settings import Settings
from services.verifier.trust_lists import Source, TrustLists
from services.verifier.verification import Verifier
from shared.credentials.dids import DidResolver
from shared.kafka.topics import (
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    ISSUER_ENDORSEMENTS,
    ISSUER_PROFILES,
    STATUS_LISTS,
)
from shared.service import background_task, consumer_context, kafka_context
from shared.web.app import add_ready_check, create_base_app
from shared.web.safe_fetch import FetchPolicy, SafeFetcher

REPLICA_TOPICS = [
    ISSUER_PROFILES,
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    STATUS_LISTS,
    ISSUER_ENDORSEMENTS,
]


def create_app(settings: Settings, *, fetcher: SafeFetcher | None = None) -> web.Application:
    """No Redis: each instance keeps its replica in memory and replays the
    compacted topics at start-up, so verifiers scale out statelessly."""
    common = settings.common
    app = create_base_app(
        common,
        openapi=OPENAPI,
        middlewares=(rate_limit_middleware(settings.rates), budget_middleware(settings.limits)),
    )
    app[VERIFIER_SETTINGS] = settings
    app[REPLICA] = replica = Replica()
    policy = FetchPolicy(trusted_origins=settings.trusted_fetch_origins)
    fetcher = fetcher or SafeFetcher(policy)
    fetcher.on_fetch = spend_fetch  # each request's distinct fetches are capped
    canon = CanonPool(
        settings.canon_processes,
        canon_ms=settings.limits.canon_ms,
        inline_below=settings.canon_inline_bytes,
    )
    trust_lists = TrustLists(
        [Source.parse(value) for value in settings.trust_lists],
        fetcher,
        DidResolver(fetch_json=fetcher.fetch_json),
        refresh_seconds=settings.trust_list_refresh_s,
    )
    app[VERIFIER] = Verifier(
        replica, fetcher, trust_lists, limits=settings.limits, canonicalizer=canon
    )

    async def canon_pool(app: web.Application) -> AsyncIterator[None]:
        canon.start()
        add_ready_check(app, "canon_pool", lambda: canon.warm)
        warming = asyncio.create_task(canon.warm_up())
        yield
        warming.cancel()
        canon.stop()

    async def load_trust_lists(app: web.Application) -> None:
        if trust_lists.sources:
            await trust_lists.run()

    app.cleanup_ctx.extend(
        [
            canon_pool,
            kafka_context(common),
            background_task(load_trust_lists),
            consumer_context(
                common, "verifier-replica", REPLICA_TOPICS, on_replica_event, durable=False
            ),
        ]
    )
    app.add_routes(routes)
    return app
