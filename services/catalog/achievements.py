"""Defining a micro-credential: an OB 3.0 Achievement, published.

Idempotent by Idempotency-Key like every write (docs/api.md): a retry gets
the first achievement, never a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from services.catalog.domain import AchievementIn, achievement_document
from services.catalog.store import CatalogStore
from shared.errors import NotFound
from shared.events import AchievementPublished
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.replica_wait import wait_for_record


class IssuerNotFound(NotFound):
    title = "Issuer not found"


@dataclass(frozen=True)
class Achievements:
    store: CatalogStore
    publisher: Publisher
    topic: str  # catalog.achievements, with the deployment's prefix
    public_base_url: str
    require_caught_up: Callable[[], None]  # raises Rebuilding

    async def define(
        self, tenant: str, body: AchievementIn, key: str | None
    ) -> tuple[AchievementPublished, bool]:
        """The achievement for this request and whether it was made now."""
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> AchievementPublished:
            return await self._create(tenant, body, key, request)

        async def replay(achievement_id: str) -> AchievementPublished:
            event = await self.store.achievement(achievement_id)
            assert event is not None, "the achievement is stored before its key"
            return event

        return await self.store.achievement_idempotency.once(
            tenant, key, fingerprint(body), create, replay
        )

    async def _own_issuer(self, tenant: str, did: str) -> str | None:
        owner = await self.store.issuer_tenant(did)
        return owner if owner == tenant else None

    async def _create(
        self, tenant: str, body: AchievementIn, key: str | None, request: str | None
    ) -> AchievementPublished:
        # A just-created issuer's profile may still be on its way through Kafka;
        # another tenant's waits the same: the same answer, in the same time (invariant 7).
        owner = await wait_for_record(lambda: self._own_issuer(tenant, body.issuerDid))
        if owner is None:
            await self.store.state.require()  # missing only because of a rebuild: 503
            raise IssuerNotFound(f"no issuer {body.issuerDid} for this tenant")
        achievement_id = f"{self.public_base_url}/achievements/{uuid.uuid4()}"
        event = AchievementPublished(
            tenant=tenant,
            issuer_did=body.issuerDid,
            achievement_id=achievement_id,
            revision=1,
            achievement=achievement_document(body, achievement_id),
            mastery_threshold=body.masteryThreshold,
            status="active",
            idempotency_key=key,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, event, key=achievement_id)
        await self.store.save_achievement(event)
        return event
