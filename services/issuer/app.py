"""The issuer service: identities, assessment-gated issuance, signing, delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import redis.asyncio as redis
from aiohttp import web

from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.app_keys import (
    ACCREDITATIONS,
    ALLOCATOR,
    ATTEMPT_INDEX,
    ATTEMPTS,
    AWARD_QUEUE,
    BULK_JOBS,
    BULK_STORE,
    ENDORSING,
    IDENTITIES,
    ISSUANCE,
    ISSUER_SETTINGS,
    LEARNERS,
    LINKAGES,
    REGISTRY_INDEX,
    ROTATION,
    SELF_HOSTING,
    STACKING,
    STORE,
    TRUST_LIST,
    VC_API,
    WEBHOOKS,
)
from services.issuer.attempts import AttemptIndex, Attempts
from services.issuer.award_queue import AwardQueue
from services.issuer.awards import Issuance
from services.issuer.bulk import BulkJobs
from services.issuer.bulk_routes import bulk_routes
from services.issuer.bulk_runner import BulkRunner
from services.issuer.bulk_store import BulkJobStore
from services.issuer.consumers import on_credentials_issued, on_issuer_event
from services.issuer.domain.webhook_events import WebhookSecrets
from services.issuer.endorsing import Endorsing
from services.issuer.identities import Identities
from services.issuer.inbound import RefusedInBatch, on_assessment, on_assessments
from services.issuer.learner_routes import learner_routes
from services.issuer.learners import Learners
from services.issuer.linkage import DomainLinkages
from services.issuer.openapi import OPENAPI
from services.issuer.registry import STATUS_FEED, RegistryIndex, on_status
from services.issuer.registry_routes import registry_routes
from services.issuer.rotation import KeyRotation
from services.issuer.routes import routes
from services.issuer.self_hosting import SelfHosting
from services.issuer.settings import Settings
from services.issuer.signing import Signer, SigningPool
from services.issuer.stacking import Stacking, on_issued, on_issued_batch
from services.issuer.store import IssuerStore
from services.issuer.trust_list import TrustListPublisher
from services.issuer.vc_api import VcApiIssuance
from services.issuer.vc_api_routes import vc_api_routes
from services.issuer.webhook_routes import webhook_routes
from services.issuer.webhooks import WEBHOOK_FEED, Webhooks, deliver_forever
from shared.credentials.jsonld import default_registry
from shared.events import CredentialIssued
from shared.kafka.consumer import Handler, in_runs
from shared.kafka.producer import EventProducer
from shared.kafka.topics import (
    CATALOG_ACHIEVEMENTS,
    CATALOG_PATHWAYS,
    CATALOG_PROVIDERS,
    CREDENTIALS_ISSUED,
    CREDENTIALS_SHARES,
    ISSUER_ASSESSMENTS,
    ISSUER_ATTEMPTS,
    ISSUER_BULK_JOBS,
    ISSUER_BULK_ROWS,
    ISSUER_ENDORSEMENTS,
    ISSUER_PROFILES,
    ISSUER_WEBHOOK_DELIVERIES,
    ISSUER_WEBHOOKS,
    STATUS_CHANGES,
    STATUS_JOBS,
    topic_name,
)
from shared.keystore import KeyStore
from shared.learner_keys import LearnerKeys
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
from shared.sharing.links import LearnerLinks
from shared.web.app import create_base_app
from shared.web.auth import install_tokens_from_env
from shared.web.metrics import OUTCOMES
from shared.web.safe_fetch import FetchPolicy, SafeFetcher

REPLICA = "issuer-replica"


def _replica(app: web.Application) -> Handler:
    """The handler of the issuer's replica (`STATE_REPLICA`)."""
    return on_issuer_event(
        app[STORE],
        app[ALLOCATOR],
        bulk=app[BULK_STORE],
        webhooks=app[WEBHOOKS],
        attempts=app[ATTEMPT_INDEX],
    )


def create_app(
    settings: Settings,
    *,
    redis_factory: RedisFactory = connect_redis,
    keystore: KeyStore | None = None,
) -> web.Application:
    common = settings.common
    app = create_base_app(common, openapi=OPENAPI)
    app[ISSUER_SETTINGS] = settings
    signing = SigningPool(settings.signing_processes)
    signer = Signer(keystore or settings.keys.open(), signing)
    install_tokens_from_env(app)
    learner_keys = LearnerKeys.from_master_key(settings.keys.master_key)
    webhook_secrets = WebhookSecrets.from_master_key(settings.keys.master_key)
    # Webhook targets: https and public only; the test-only origins are off by default.
    webhook_fetcher = SafeFetcher(
        FetchPolicy(trusted_origins=frozenset(settings.webhooks.test_origins))
    )

    def stores(app: web.Application, client: redis.Redis, producer: EventProducer) -> None:
        app[REGISTRY_INDEX] = RegistryIndex(
            client,
            common.redis_prefix,
            learner_keys,
            status_caught_up=lambda: app[STATUS_FEED].require_caught_up(),
        )
        app[STORE] = IssuerStore(client, common.redis_prefix, registry=app[REGISTRY_INDEX])
        app[ALLOCATOR] = StatusAllocator(client, common.redis_prefix, settings.status_base_url)
        app[BULK_STORE] = BulkJobStore(client, common.redis_prefix)
        app[ATTEMPT_INDEX] = AttemptIndex(client, common.redis_prefix, learner_keys)
        app[WEBHOOKS] = Webhooks(
            client,
            common.redis_prefix,
            webhook_secrets,
            settings.webhooks,
            webhook_fetcher,
            producer,
            topic_name(common, ISSUER_WEBHOOKS),
            topic_name(common, ISSUER_WEBHOOK_DELIVERIES),
        )

    async def application(app: web.Application) -> AsyncIterator[None]:
        """The use cases, built from their dependencies (the composition root)."""
        state = app[STATE_REPLICA]
        accreditations = Accreditations(
            store=app[STORE],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, ISSUER_PROFILES),
            operator_name=settings.operator_name,
            operator_url=settings.public_base_url,
            allocator=app[ALLOCATOR],
            endorsements_topic=topic_name(common, ISSUER_ENDORSEMENTS),
        )
        app[ACCREDITATIONS] = accreditations
        app[ATTEMPTS] = Attempts(
            store=app[STORE],
            index=app[ATTEMPT_INDEX],
            publisher=app[PRODUCER],
            topic=topic_name(common, ISSUER_ATTEMPTS),
            learner_keys=learner_keys,
            outcomes=app[OUTCOMES],
            require_caught_up=state.require_caught_up,
        )
        app[ISSUANCE] = Issuance(
            store=app[STORE],
            allocator=app[ALLOCATOR],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, CREDENTIALS_ISSUED),
            outcomes=app[OUTCOMES],
            require_caught_up=state.require_caught_up,
            accreditations=accreditations,
            learner_keys=learner_keys,
            registry=app[REGISTRY_INDEX],
            attempts=app[ATTEMPTS],
        )
        app[AWARD_QUEUE] = AwardQueue(app[ISSUANCE])
        app[STACKING] = Stacking(
            store=app[STORE],
            allocator=app[ALLOCATOR],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, CREDENTIALS_ISSUED),
            accreditations=accreditations,
            outcomes=app[OUTCOMES],
            registry=app[REGISTRY_INDEX],
        )
        app[VC_API] = VcApiIssuance(
            store=app[STORE],
            allocator=app[ALLOCATOR],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, CREDENTIALS_ISSUED),
            awards=app[ISSUANCE],
            outcomes=app[OUTCOMES],
            require_caught_up=state.require_caught_up,
            contexts=default_registry(allow_examples=settings.jsonld_example_contexts),
        )
        app[IDENTITIES] = Identities(
            store=app[STORE],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, ISSUER_PROFILES),
            require_caught_up=state.require_caught_up,
            base_url=settings.public_base_url,
        )
        app[ENDORSING] = Endorsing(
            store=app[STORE],
            signer=signer,
            publisher=app[PRODUCER],
            profiles_topic=topic_name(common, ISSUER_PROFILES),
            topic=topic_name(common, ISSUER_ENDORSEMENTS),
            require_caught_up=state.require_caught_up,
        )
        app[ROTATION] = KeyRotation(
            store=app[STORE],
            signer=signer,
            publisher=app[PRODUCER],
            topic=topic_name(common, ISSUER_PROFILES),
            require_caught_up=state.require_caught_up,
        )
        app[LINKAGES] = DomainLinkages(store=app[STORE], signer=signer)
        app[SELF_HOSTING] = SelfHosting(store=app[STORE], signer=signer)
        app[TRUST_LIST] = TrustListPublisher(
            store=app[STORE],
            accreditations=accreditations,
            publisher=f"{settings.public_base_url}/trust-list",
            operator=settings.operator_name,
        )
        app[LEARNERS] = Learners(
            store=app[STORE],
            registry=app[REGISTRY_INDEX],
            links=LearnerLinks.from_master_key(settings.keys.master_key),
            publisher=app[PRODUCER],
            topic=topic_name(common, CREDENTIALS_SHARES),
            require_caught_up=state.require_caught_up,
            public_base_url=settings.public_base_url,
            verifier_base_url=settings.verifier_base_url,
        )
        app[BULK_JOBS] = BulkJobs(
            store=app[BULK_STORE],
            producer=app[PRODUCER],
            jobs_topic=topic_name(common, ISSUER_BULK_JOBS),
            rows_topic=topic_name(common, ISSUER_BULK_ROWS),
            require_caught_up=state.require_caught_up,
        )
        yield

    async def run_bulk_jobs(app: web.Application) -> None:
        runner = BulkRunner(
            store=app[BULK_STORE],
            issuance=app[ISSUANCE],
            publisher=app[PRODUCER],
            jobs_topic=topic_name(common, ISSUER_BULK_JOBS),
            rows_topic=topic_name(common, ISSUER_BULK_ROWS),
            bootstrap=common.kafka_bootstrap,
            caught_up=app[STATE_REPLICA].wait_caught_up,
        )
        await runner.run_forever()

    async def signing_pool(app: web.Application) -> AsyncIterator[None]:
        signing.start()
        warming = asyncio.create_task(signing.warm_up())
        yield
        warming.cancel()
        signing.stop()

    refused_in_batch = RefusedInBatch()  # shared by the assessments' two handlers
    app.cleanup_ctx.extend(
        [
            signing_pool,
            *replicated_state(
                common,
                redis_factory=redis_factory,
                stores=stores,
                replica=REPLICA,
                topics=[
                    ISSUER_PROFILES,
                    CATALOG_ACHIEVEMENTS,
                    CATALOG_PROVIDERS,
                    CREDENTIALS_ISSUED,
                    ISSUER_ENDORSEMENTS,
                    CREDENTIALS_SHARES,
                    CATALOG_PATHWAYS,
                    ISSUER_BULK_JOBS,
                    ISSUER_WEBHOOKS,
                    ISSUER_ATTEMPTS,
                    ISSUER_WEBHOOK_DELIVERIES,
                ],
                handler=_replica,
                batch=lambda app: in_runs(
                    _replica(app),
                    CredentialIssued,
                    on_credentials_issued(app[STORE], app[ALLOCATOR]),
                ),
            ),
            consumer_context(  # the registry's status column
                common,
                "status-feed",
                [STATUS_CHANGES],
                lambda app: on_status(app[REGISTRY_INDEX]),
                feed=STATUS_FEED,
            ),
            application,
            consumer_context(
                common,
                "assessments",
                [ISSUER_ASSESSMENTS],
                lambda app: on_assessment(
                    app[ISSUANCE],
                    app[STATE_REPLICA].wait_caught_up,
                    app[ATTEMPTS],
                    refused_in_batch,
                ),
                group_id="issuer-assessments",
                batch=lambda app: on_assessments(
                    app[ISSUANCE], app[STATE_REPLICA].wait_caught_up, refused_in_batch
                ),
            ),
            consumer_context(
                common,
                "stacking",
                [CREDENTIALS_ISSUED, CATALOG_PATHWAYS],
                lambda app: on_issued(app[STACKING], app[STATE_REPLICA].wait_caught_up),
                group_id="issuer-stacking",
                batch=lambda app: on_issued_batch(app[STACKING], app[STATE_REPLICA].wait_caught_up),
            ),
            background_task(run_bulk_jobs),
            background_task(lambda app: app[AWARD_QUEUE].run_forever()),
            # Outbound webhooks: a filtered feed, queueing into the shared Redis.
            consumer_context(
                common,
                "webhook-feed",
                [CREDENTIALS_ISSUED, STATUS_CHANGES, STATUS_JOBS, ISSUER_ATTEMPTS],
                lambda app: app[WEBHOOKS].handler(app[STATE_REPLICA].wait_caught_up),
                feed=WEBHOOK_FEED,
                batch=lambda app: app[WEBHOOKS].batch_handler(app[STATE_REPLICA].wait_caught_up),
            ),
            background_task(
                lambda app: deliver_forever(
                    app[WEBHOOKS], app[REGISTRY_INDEX], app[STATE_REPLICA].wait_caught_up
                )
            ),
        ]
    )
    app.add_routes(routes)
    app.add_routes(learner_routes)
    app.add_routes(vc_api_routes)
    app.add_routes(bulk_routes)
    app.add_routes(registry_routes)
    app.add_routes(webhook_routes)
    return app


def main() -> None:
    run_service("issuer", Settings.from_env, create_app)
