"""The verifier service: public verification from a Kafka-fed replica."""

from __future__ import annotations

import dataclasses

import redis.asyncio as redis
from aiohttp import web

from services.verifier.app_keys import BATCH, INTAKE, REPLICA, VERIFIER, VERIFIER_SETTINGS
from services.verifier.batch import BatchLimits, BatchVerification
from services.verifier.consumers import on_replica_event
from services.verifier.intake import Intake
from services.verifier.openapi import OPENAPI
from services.verifier.page_render import PageRenderer
from services.verifier.pages import PAGES, page_routes, share_page
from services.verifier.replica import Replica
from services.verifier.routes import routes
from services.verifier.settings import Settings
from services.verifier.shares import SHARE_PAGE, share_routes, shares_context
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
    consumer_context,
    kafka_context,
    redis_context,
    run_service,
)
from shared.web.app import create_base_app
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
    redis_factory: RedisFactory = redis.Redis.from_url,
) -> web.Application:
    """Each instance keeps its replica of the catalog, issuers and status
    lists in memory and replays the compacted topics at start-up, so
    verifiers scale out statelessly. Only share links (possibly millions)
    live in Redis (`shares.py`); verifying needs no Redis."""
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[VERIFIER_SETTINGS] = settings
    app[REPLICA] = replica = Replica()
    policy = FetchPolicy(trusted_origins=settings.trusted_fetch_origins)
    fetcher = fetcher or SafeFetcher(policy)
    trust_lists = TrustLists(
        [Source.parse(value) for value in settings.trust_lists],
        fetcher,
        DidResolver(fetch_json=fetcher.fetch_json),
        refresh_seconds=settings.trust_list_refresh_s,
    )
    app[VERIFIER] = verifier = Verifier(replica, fetcher, trust_lists)
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
    )
    app[PAGES] = pages or PageRenderer()
    app[SHARE_PAGE] = share_page

    async def load_trust_lists(app: web.Application) -> None:
        if trust_lists.sources:
            await trust_lists.run()

    app.cleanup_ctx.extend(
        [
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


def main() -> None:
    run_service("verifier", Settings.from_env, create_app)
