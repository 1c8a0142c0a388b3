"""The verifier service: public verification from a Kafka-fed replica."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

from aiohttp import web

from services.verifier.app_keys import BATCH, INTAKE, REPLICA, VERIFIER, VERIFIER_SETTINGS
from services.verifier.batch import BATCH_PATH, BatchLimits, BatchVerification
from services.verifier.budget import budget_middleware, spend_fetch
from services.verifier.consumers import on_replica_event
from services.verifier.intake import Intake
from services.verifier.offload import CanonPool
from services.verifier.openapi import OPENAPI
from services.verifier.page_render import PageRenderer
from services.verifier.pages import PAGES, page_routes, share_page
from services.verifier.ratelimit import rate_limit_fields, rate_limit_middleware
from services.verifier.replica import Replica
from services.verifier.routes import routes
from services.verifier.settings import Settings
from services.verifier.shares import SHARE_PAGE, share_routes, shares_context
from services.verifier.trust import TrustPolicy
from services.verifier.trust_lists import Source, TrustLists
from services.verifier.verification import Verifier
from shared.credentials.dids import DidResolver
from shared.kafka.topics import (
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    ISSUER_ENDORSEMENTS,
    ISSUER_PROFILES,
    STATUS_CHANGES,
    STATUS_LISTS,
)
from shared.service import (
    RedisFactory,
    background_task,
    connect_redis,
    consumer_context,
    kafka_context,
    redis_context,
)
from shared.web.app import add_ready_check, create_base_app
from shared.web.metrics import OUTCOMES
from shared.web.safe_fetch import FetchPolicy, SafeFetcher

REPLICA_TOPICS = [
    ISSUER_PROFILES,
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    STATUS_LISTS,
    ISSUER_ENDORSEMENTS,
    STATUS_CHANGES,  # history: when each entry was revoked or suspended
]


def create_app(
    settings: Settings,
    *,
    fetcher: SafeFetcher | None = None,
    pages: PageRenderer | None = None,
    redis_factory: RedisFactory = connect_redis,
) -> web.Application:
    """Each instance keeps its replica of the catalog, issuers and status
    lists in memory and replays the compacted topics at start-up, so
    verifiers scale out statelessly. Only share links (possibly millions)
    live in Redis (`shares.py`); verifying needs no Redis."""
    common = settings.common
    app = create_base_app(
        common,
        openapi=OPENAPI,
        middlewares=(
            rate_limit_middleware(settings.rates),
            budget_middleware(settings.limits, per_item=frozenset({BATCH_PATH})),
        ),
    )
    app.on_response_prepare.append(rate_limit_fields)
    app[VERIFIER_SETTINGS] = settings
    app[REPLICA] = replica = Replica()
    policy = FetchPolicy(trusted_origins=settings.trusted_fetch_origins)
    fetcher = fetcher or SafeFetcher(policy)
    fetcher.on_fetch = spend_fetch  # each request's distinct fetches are capped
    canon = CanonPool(
        settings.canon_processes,
        canon_ms=settings.limits.canon_ms,
        inline_below=settings.canon_inline_bytes,
        allow_examples=settings.jsonld_example_contexts,
    )
    trust_lists = TrustLists(
        [Source.parse(value) for value in settings.trust_lists],
        fetcher,
        DidResolver(fetch_json=fetcher.fetch_json),
        refresh_seconds=settings.trust_list_refresh_s,
    )
    trust_policy: TrustPolicy = "registered" if settings.accept_registered else "accredited"
    app[VERIFIER] = verifier = Verifier(
        replica,
        fetcher,
        trust_lists,
        policy=trust_policy,
        limits=settings.limits,
        canonicalizer=canon,
        contexts=canon.contexts,
    )
    # Callers' credential URLs: the same guard without the trusted origins
    # (a caller's URL never reaches our own services), capped like a body.
    submissions = dataclasses.replace(
        fetcher.policy,
        trusted_origins=frozenset(),
        max_bytes=common.max_body_bytes,
        cache_entries=64,
    )
    app[INTAKE] = intake = Intake(SafeFetcher(submissions))
    limits = BatchLimits(
        settings.batch_max_items, settings.batch_max_bytes, settings.batch_concurrency
    )
    outcomes = app[OUTCOMES]
    app[BATCH] = BatchVerification(
        intake,
        verifier,
        limits,
        lambda verdict: outcomes.count("credential_verification", verdict),
        budget=settings.limits,
    )
    app[PAGES] = pages or PageRenderer()
    app[SHARE_PAGE] = share_page

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
            redis_context(common, redis_factory),
            kafka_context(common),
            background_task(load_trust_lists),
            consumer_context(
                common, "verifier-replica", REPLICA_TOPICS, on_replica_event, durable=False
            ),
            shares_context(common, verifier, settings.public_base_url, settings.share_cache_s),
        ]
    )
    app.add_routes(routes)
    app.add_routes(page_routes)
    app.add_routes(share_routes)
    return app
