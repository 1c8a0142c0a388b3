"""The issuer service: identities, assessment-gated issuance, signing, delivery."""

from __future__ import annotations

import redis.asyncio as redis
from aiohttp import web

from services.issuer.allocation import StatusAllocator
from services.issuer.consumers import on_issuer_event
from services.issuer.inbound import on_assessment
from services.issuer.keys import ALLOCATOR, ISSUER_SETTINGS, SIGNER, STORE
from services.issuer.openapi import OPENAPI
from services.issuer.routes import routes
from services.issuer.settings import Settings
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from shared.kafka.topics import (
    CATALOG_ACHIEVEMENTS,
    CREDENTIALS_ISSUED,
    ISSUER_ASSESSMENTS,
    ISSUER_PROFILES,
)
from shared.keystore import KeyStore
from shared.service import (
    RedisFactory,
    consumer_context,
    replicated_state,
    run_service,
)
from shared.web.app import create_base_app
from shared.web.auth import ApiTokens, install_api_tokens

REPLICA = "issuer-replica"


def create_app(
    settings: Settings,
    *,
    redis_factory: RedisFactory = redis.Redis.from_url,
    keystore: KeyStore | None = None,
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[ISSUER_SETTINGS] = settings
    app[SIGNER] = Signer(keystore or settings.keys.open())
    install_api_tokens(app, ApiTokens.from_env())

    def stores(app: web.Application, client: redis.Redis) -> None:
        app[STORE] = IssuerStore(client, common.redis_prefix)
        app[ALLOCATOR] = StatusAllocator(client, common.redis_prefix)

    app.cleanup_ctx.extend(
        [
            *replicated_state(
                common,
                redis_factory=redis_factory,
                stores=stores,
                replica=REPLICA,
                topics=[ISSUER_PROFILES, CATALOG_ACHIEVEMENTS, CREDENTIALS_ISSUED],
                handler=on_issuer_event,
            ),
            consumer_context(
                common,
                "assessments",
                [ISSUER_ASSESSMENTS],
                on_assessment,
                group_id="issuer-assessments",
            ),
        ]
    )
    app.add_routes(routes)
    return app


def main() -> None:
    run_service("issuer", Settings.from_env, create_app)
