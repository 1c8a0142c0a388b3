"""The catalog service: providers' micro-credential definitions and pathways."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.catalog.consumers import on_catalog_event
from services.catalog.keys import CATALOG_SETTINGS, STORE
from services.catalog.openapi import OPENAPI
from services.catalog.routes import routes
from services.catalog.settings import Settings
from services.catalog.store import CatalogStore
from shared.kafka.topics import CATALOG_ACHIEVEMENTS, ISSUER_PROFILES
from shared.logging import configure_logging
from shared.service import (
    REDIS,
    RedisFactory,
    consumer_context,
    kafka_context,
    redis_context,
    replay_guard,
)
from shared.web.app import create_base_app, run_app
from shared.web.auth import ApiTokens, install_api_tokens

REPLICA = "catalog-replica"


def create_app(
    settings: Settings, *, redis_factory: RedisFactory = redis.Redis.from_url
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[CATALOG_SETTINGS] = settings
    install_api_tokens(app, ApiTokens.from_env())

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        app[STORE] = CatalogStore(app[REDIS], common.redis_prefix)
        yield

    app.cleanup_ctx.extend(
        [
            redis_context(common, redis_factory),
            store_ctx,
            kafka_context(common),
            consumer_context(
                common, REPLICA, [ISSUER_PROFILES, CATALOG_ACHIEVEMENTS], on_catalog_event
            ),
            replay_guard(common, REPLICA),
        ]
    )
    app.add_routes(routes)
    return app


def main() -> None:
    settings = Settings.from_env()
    configure_logging("catalog", settings.common.log_level)
    run_app(create_app(settings), settings.common)
