"""The revocation service: Bitstring Status Lists, revoke, suspend, publish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.revocation.accreditations import AccreditationRevocations
from services.revocation.app_keys import (
    ACCREDITATION_REVOCATIONS,
    ISSUER_KEYS,
    JOB_STORE,
    LISTS,
    PUBLIC_LISTS,
    PUBLISHING,
    REVOCATION_SETTINGS,
    SIGNED_LISTS,
    STATUS_CHANGES,
    STATUS_HISTORY,
    STATUS_IDEMPOTENCY,
    STATUS_JOBS,
)
from services.revocation.changes import StatusChanges
from services.revocation.consumers import on_revocation_event
from services.revocation.history import StatusHistory
from services.revocation.issuers import IssuerKeys
from services.revocation.job_routes import job_routes
from services.revocation.jobs import JobStore, StatusJobs, run_jobs
from services.revocation.lists import StatusListStore
from services.revocation.openapi import OPENAPI
from services.revocation.publishing import ListPublisher
from services.revocation.routes import routes
from services.revocation.served import PublicLists
from services.revocation.settings import Settings
from services.revocation.signed import SignedLists
from shared.errors import is_transient
from shared.idempotency import IdempotencyRecords
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import EventProducer
from shared.kafka.topics import (
    CATALOG_PROVIDERS,
    CREDENTIALS_ISSUED,
    ISSUER_ENDORSEMENTS,
    ISSUER_PROFILES,
    STATUS_LISTS,
    topic_name,
)
from shared.kafka.topics import STATUS_CHANGES as STATUS_CHANGES_TOPIC
from shared.kafka.topics import STATUS_JOBS as STATUS_JOBS_TOPIC
from shared.keystore import KeyStore
from shared.logging import get_logger
from shared.service import (
    PRODUCER,
    STATE_REPLICA,
    RedisFactory,
    background_task,
    connect_redis,
    consumer_context,
    replicated_state,
    run_service,
)
from shared.web.app import create_base_app
from shared.web.auth import install_tokens_from_env
from shared.web.metrics import OUTCOMES

_log = get_logger("revocation.app")
REPLICA = "revocation-replica"
REPUBLISH_SECONDS = 5.0


def create_app(
    settings: Settings,
    *,
    redis_factory: RedisFactory = connect_redis,
    keystore: KeyStore | None = None,
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[REVOCATION_SETTINGS] = settings
    install_tokens_from_env(app)
    keys = keystore or settings.keys.open()

    def stores(app: web.Application, client: redis.Redis, producer: EventProducer) -> None:
        app[LISTS] = StatusListStore(client, common.redis_prefix)
        app[SIGNED_LISTS] = SignedLists(client, common.redis_prefix)
        app[ISSUER_KEYS] = IssuerKeys(client, common.redis_prefix, keys)
        app[STATUS_IDEMPOTENCY] = IdempotencyRecords(client, common.redis_prefix, "status")
        app[STATUS_HISTORY] = StatusHistory(client, common.redis_prefix)
        app[JOB_STORE] = JobStore(client, common.redis_prefix)
        app[PUBLISHING] = ListPublisher(
            lists=app[LISTS],
            signed=app[SIGNED_LISTS],
            issuer_keys=app[ISSUER_KEYS],
            publisher=producer,
            topic=topic_name(common, STATUS_LISTS),
            status_base_url=settings.status_base_url,
            ttl_ms=settings.list_ttl_ms,
        )
        app[PUBLIC_LISTS] = PublicLists(app[PUBLISHING])
        app[ACCREDITATION_REVOCATIONS] = AccreditationRevocations(
            client, common.redis_prefix, app[PUBLISHING]
        )

    async def application(app: web.Application) -> AsyncIterator[None]:
        """The use cases, built from their dependencies (the composition root)."""
        app[STATUS_CHANGES] = StatusChanges(
            lists=app[LISTS],
            keys=app[STATUS_IDEMPOTENCY],
            publishing=app[PUBLISHING],
            publisher=app[PRODUCER],
            topic=topic_name(common, STATUS_CHANGES_TOPIC),
            outcomes=app[OUTCOMES],
            require_caught_up=app[STATE_REPLICA].require_caught_up,
            history=app[STATUS_HISTORY],
        )
        app[STATUS_JOBS] = StatusJobs(
            store=app[JOB_STORE],
            changes=app[STATUS_CHANGES],
            publisher=app[PRODUCER],
            topic=topic_name(common, STATUS_JOBS_TOPIC),
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
                    CREDENTIALS_ISSUED,
                    STATUS_CHANGES_TOPIC,
                    ISSUER_ENDORSEMENTS,
                    CATALOG_PROVIDERS,
                    STATUS_JOBS_TOPIC,
                ],
                handler=lambda app: on_revocation_event(
                    app[PUBLISHING],
                    app[ISSUER_KEYS],
                    app[STATUS_IDEMPOTENCY],
                    app[ACCREDITATION_REVOCATIONS],
                    app[STATUS_HISTORY],
                    app[JOB_STORE],
                ),
            ),
            application,
            # the signed snapshots, in memory for the public reads (served.py)
            consumer_context(
                common,
                "revocation-public-lists",
                [STATUS_LISTS, ISSUER_PROFILES],
                lambda app: app[PUBLIC_LISTS].handler(),
                durable=False,
            ),
            background_task(lambda app: publish_changed_lists(app[PUBLISHING], app[STATE_REPLICA])),
            background_task(
                lambda app: run_jobs(app[STATUS_JOBS], app[STATE_REPLICA].wait_caught_up)
            ),
        ]
    )
    app.add_routes(routes)
    app.add_routes(job_routes)
    return app


async def publish_changed_lists(publishing: ListPublisher, replica: ConsumerLoop) -> None:
    """Once the replay caught up, publish every list that changed (new lists,
    and lists replayed after a Redis wipe); then whenever the consumer says
    so. After a rebuild, the same again."""
    while True:
        await replica.wait_caught_up()
        publishing.changed.clear()
        try:
            await publishing.publish_dirty()
        except Exception as error:  # keep publishing later lists; retried on the next round
            if is_transient(error):
                _log.warning("status_list.publish_deferred", error=repr(error)[:300])
            else:
                _log.exception("status_list.publish_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(publishing.changed.wait(), REPUBLISH_SECONDS)


def main() -> None:
    run_service("revocation", Settings.from_env, create_app)
