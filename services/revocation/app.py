"""The revocation service: Bitstring Status Lists, revoke, suspend, publish."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as redis
from aiohttp import web

from services.revocation.consumers import on_revocation_event
from services.revocation.issuers import IssuerKeys
from services.revocation.keys import (
    ISSUER_KEYS,
    LISTS,
    LISTS_CHANGED,
    REVOCATION_SETTINGS,
    SIGNED_LISTS,
)
from services.revocation.lists import StatusListStore
from services.revocation.openapi import OPENAPI
from services.revocation.publishing import publish_dirty
from services.revocation.routes import routes
from services.revocation.settings import Settings
from services.revocation.signed import SignedLists
from shared.kafka.topics import CREDENTIALS_ISSUED, ISSUER_PROFILES, STATUS_CHANGES
from shared.keystore import KeyStore
from shared.logging import get_logger
from shared.service import (
    RedisFactory,
    background_task,
    replicated_state,
    run_service,
)
from shared.web.app import READY_CHECKS, create_base_app
from shared.web.auth import ApiTokens, install_api_tokens

_log = get_logger("revocation.app")
REPLICA = "revocation-replica"
REPUBLISH_SECONDS = 5.0


def create_app(
    settings: Settings,
    *,
    redis_factory: RedisFactory = redis.Redis.from_url,
    keystore: KeyStore | None = None,
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[REVOCATION_SETTINGS] = settings
    app[LISTS_CHANGED] = asyncio.Event()
    install_api_tokens(app, ApiTokens.from_env())
    keys = keystore or settings.keys.open()

    def stores(app: web.Application, client: redis.Redis) -> None:
        app[LISTS] = StatusListStore(client, common.redis_prefix)
        app[SIGNED_LISTS] = SignedLists(client, common.redis_prefix)
        app[ISSUER_KEYS] = IssuerKeys(client, common.redis_prefix, keys)

    app.cleanup_ctx.extend(
        [
            *replicated_state(
                common,
                redis_factory=redis_factory,
                stores=stores,
                replica=REPLICA,
                topics=[ISSUER_PROFILES, CREDENTIALS_ISSUED, STATUS_CHANGES],
                handler=on_revocation_event,
            ),
            background_task(publish_changed_lists),
        ]
    )
    app.add_routes(routes)
    return app


async def publish_changed_lists(app: web.Application) -> None:
    """After the replay caught up, publish every list that changed (new lists,
    and lists replayed after a Redis wipe); then whenever the consumer says so."""
    changed = app[LISTS_CHANGED]
    replica = app[READY_CHECKS].checks[REPLICA]
    while not replica.check():  # noqa: ASYNC110 - the consumer exposes a flag, not an event
        await asyncio.sleep(0.1)
    while True:
        changed.clear()
        try:
            await publish_dirty(app)
        except Exception:  # keep publishing later lists; retried on the next round
            _log.exception("status_list.publish_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), REPUBLISH_SECONDS)


def main() -> None:
    run_service("revocation", Settings.from_env, create_app)
