"""The catalog service: providers' micro-credential definitions and pathways."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web

from services.catalog.consumers import on_catalog_event
from services.catalog.keys import CATALOG_SETTINGS, STORE
from services.catalog.openapi import OPENAPI
from services.catalog.routes import routes
from services.catalog.settings import Settings
from services.catalog.store import CatalogStore
from shared.kafka.topics import CATALOG_ACHIEVEMENTS, ISSUER_PROFILES
from shared.service import (
    RedisFactory,
    replicated_state,
    run_service,
)
from shared.web.app import create_base_app
from shared.web.auth import ApiTokens, install_api_tokens

REPLICA = "catalog-replica"


def create_app(
    settings: Settings, *, redis_factory: RedisFactory = redis.Redis.from_url
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[CATALOG_SETTINGS] = settings
    install_api_tokens(app, ApiTokens.from_env())

    def stores(app: web.Application, client: redis.Redis) -> None:
        app[STORE] = CatalogStore(client, common.redis_prefix)

    app.cleanup_ctx.extend(
        replicated_state(
            common,
            redis_factory=redis_factory,
            stores=stores,
            replica=REPLICA,
            topics=[ISSUER_PROFILES, CATALOG_ACHIEVEMENTS],
            handler=on_catalog_event,
        )
    )
    app.add_routes(routes)
    return app


def main() -> None:
    run_service("catalog", Settings.from_env, create_app)
