"""The catalog service: the provider registry, micro-credential definitions and pathways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.catalog.achievements import Achievements
from services.catalog.app_keys import ACHIEVEMENTS, CATALOG_SETTINGS, PATHWAYS, PROVIDERS, STORE
from services.catalog.consumers import on_catalog_event
from services.catalog.openapi import OPENAPI
from services.catalog.pathway_routes import pathway_routes
from services.catalog.pathways import Pathways
from services.catalog.provider_routes import provider_routes
from services.catalog.providers import Providers
from services.catalog.routes import routes
from services.catalog.settings import Settings
from services.catalog.store import CatalogStore
from shared.kafka.producer import EventProducer
from shared.kafka.topics import (
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    ISSUER_ENDORSEMENTS,
    ISSUER_PROFILES,
    topic_name,
)
from shared.service import (
    PRODUCER,
    REDIS,
    STATE_REPLICA,
    RedisFactory,
    connect_redis,
    replicated_state,
    run_service,
)
from shared.web.app import create_base_app
from shared.web.auth import install_tokens_from_env

REPLICA = "catalog-replica"


def create_app(
    settings: Settings,
    *,
    redis_factory: RedisFactory = connect_redis,
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[CATALOG_SETTINGS] = settings
    install_tokens_from_env(app)

    def stores(app: web.Application, client: redis.Redis, producer: EventProducer) -> None:
        app[STORE] = CatalogStore(client, common.redis_prefix)

    async def application(app: web.Application) -> AsyncIterator[None]:
        """The use cases, built from their dependencies (the composition root)."""
        await app[STORE].index_existing()  # a replica made before issue 9's indexes
        app[ACHIEVEMENTS] = Achievements(
            store=app[STORE],
            publisher=app[PRODUCER],
            redis=app[REDIS],
            topic=topic_name(common, CATALOG_ACHIEVEMENTS),
            public_base_url=settings.public_base_url,
            require_caught_up=app[STATE_REPLICA].require_caught_up,
        )
        app[PATHWAYS] = Pathways(
            store=app[STORE],
            index=app[STORE].pathways,
            achievements=app[ACHIEVEMENTS],
            publisher=app[PRODUCER],
            redis=app[REDIS],
            topic=topic_name(common, CATALOG_PATHWAYS),
            public_base_url=settings.public_base_url,
            require_caught_up=app[STATE_REPLICA].require_caught_up,
        )
        app[PROVIDERS] = Providers(
            store=app[STORE],
            publisher=app[PRODUCER],
            redis=app[REDIS],
            topic=topic_name(common, CATALOG_PROVIDERS),
            public_base_url=settings.public_base_url,
            require_caught_up=app[STATE_REPLICA].require_caught_up,
        )
        yield

    app.cleanup_ctx.extend(
        [
            *replicated_state(
                common,
                redis_factory=redis_factory,
                stores=stores,
                replica=REPLICA,
                topics=[
                    ISSUER_PROFILES,
                    CATALOG_ACHIEVEMENTS,
                    CATALOG_PROVIDERS,
                    ISSUER_ENDORSEMENTS,
                    CATALOG_PATHWAYS,
                ],
                handler=lambda app: on_catalog_event(app[STORE]),
            ),
            application,
        ]
    )
    app.add_routes(routes)
    app.add_routes(provider_routes)
    app.add_routes(pathway_routes)
    return app


def main() -> None:
    run_service("catalog", Settings.from_env, create_app)
