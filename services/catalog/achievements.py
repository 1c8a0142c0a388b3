"""Defining, revising and retiring micro-credentials: OB 3.0 Achievements, published.

Every change is a new revision on `catalog.achievements` (a history topic:
every revision is kept); the newest is the achievement, older ones stay
readable, and credentials carry the `revision` they were issued under.
A retired achievement gets no new awards (the issuer refuses them); its
credentials stay valid. Idempotent by Idempotency-Key like every write
(docs/api.md): a retry gets the first answer, never a second revision.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import redis.asyncio as redis

from services.catalog.domain import AchievementIn, request_path, valid_document
from services.catalog.revisions import revision_event, revision_of
from services.catalog.store import ACHIEVEMENT_CHANGES, CatalogStore
from shared.credentials.builders import format_datetime
from shared.errors import Conflict, InvalidField, InvalidFields, NotFound
from shared.events import AchievementPublished
from shared.idempotency import fingerprint, lease
from shared.kafka.producer import Publisher
from shared.policy_profiles import AwardingBody, definition_gaps
from shared.providers import accredited

Change = Callable[[AchievementPublished], Awaitable[AchievementPublished]]


class IssuerNotFound(NotFound):
    title = "Issuer not found"


class AchievementNotFound(NotFound):
    title = "Achievement not found"


class AchievementRetired(Conflict):
    title = "Achievement retired"
    problem = "achievement-retired"


class ProfileRequirementsUnmet(InvalidFields):
    """The provider's policy profile needs elements the definition lacks."""

    title = "Policy profile requirements unmet"
    problem = "profile-requirements-unmet"


@dataclass(frozen=True)
class Achievements:
    store: CatalogStore
    publisher: Publisher
    redis: redis.Redis  # leases: one change of an achievement at a time
    topic: str  # catalog.achievements, with the deployment's prefix
    public_base_url: str
    require_caught_up: Callable[[], None]  # raises Rebuilding

    def achievement_id(self, key: str) -> str:
        return f"{self.public_base_url}/achievements/{key}"

    async def define(
        self, tenant: str, body: AchievementIn, key: str | None
    ) -> tuple[AchievementPublished, bool]:
        """The achievement for this request and whether it was made now."""
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> AchievementPublished:
            return await self._create(tenant, body, key, request)

        async def replay(achievement_id: str) -> AchievementPublished | None:
            return await self.store.achievement_revision(achievement_id, 1)

        return await self.store.achievement_idempotency.once(
            tenant, key, fingerprint(body), create, replay
        )

    async def revise(
        self, tenant: str, achievement_id: str, body: AchievementIn, key: str | None
    ) -> tuple[AchievementPublished, bool]:
        """A new revision with the definition `body` (same issuer)."""

        async def make(current: AchievementPublished) -> AchievementPublished:
            if current.status == "retired":
                raise AchievementRetired("a retired achievement cannot be revised")
            if body.issuerDid != current.issuer_did:
                raise InvalidField("$.issuerDid", "an achievement keeps its issuer")
            revision = current.revision + 1
            document = await self._checked(body, achievement_id, revision)
            return msgspec.structs.replace(
                current,
                revision=revision,
                achievement=document,
                mastery_threshold=body.masteryThreshold,
            )

        return await self._change(tenant, achievement_id, ["revise", body], key, make)

    async def retire(
        self, tenant: str, achievement_id: str, key: str | None
    ) -> tuple[AchievementPublished, bool]:
        """The next revision, retired: no new awards; retiring again changes nothing."""

        async def make(current: AchievementPublished) -> AchievementPublished:
            if current.status == "retired":
                return current
            revision = current.revision + 1
            document = {**current.achievement, "revision": revision}
            return msgspec.structs.replace(
                current, revision=revision, achievement=document, status="retired"
            )

        return await self._change(tenant, achievement_id, ["retire"], key, make)

    async def own(self, tenant: str, achievement_id: str) -> AchievementPublished:
        """The tenant's achievement (another tenant's is a 404: invariant 7)."""
        current = await self.store.achievement(achievement_id)
        if current is None:
            await self.store.state.require()  # missing only because of a rebuild: 503
        if current is None or current.tenant != tenant:
            raise AchievementNotFound(f"no achievement {achievement_id}")
        return current

    # -- the write paths -------------------------------------------------------

    async def _change(
        self,
        tenant: str,
        achievement_id: str,
        request: object,
        key: str | None,
        make: Change,
    ) -> tuple[AchievementPublished, bool]:
        self.require_caught_up()
        await self.store.state.require()
        digest = fingerprint([achievement_id, request])

        async def create(key: str | None, request_hash: str | None) -> AchievementPublished:
            async with lease(self.redis, self.store.achievement_lock(achievement_id)):
                current = await self.own(tenant, achievement_id)
                made = await make(current)
                if made is current:
                    return current
                event = revision_event(made, ACHIEVEMENT_CHANGES, achievement_id, key, request_hash)
                await self.publisher.publish(self.topic, event, key=achievement_id)
                await self.store.save_achievement(event)
                return event

        async def replay(answer: str) -> AchievementPublished | None:
            return await self.store.achievement_revision(*revision_of(answer))

        return await self.store.change_idempotency.once(tenant, key, digest, create, replay)

    async def _checked(
        self, body: AchievementIn, achievement_id: str, revision: int
    ) -> dict[str, object]:
        """The document for `body`: the signed format's rules, then the
        provider's policy profile (every failing element named)."""
        document = valid_document(body, achievement_id, revision)
        provider_id = await self.store.provider_of_issuer(body.issuerDid)
        provider = None if provider_id is None else await self.store.provider(provider_id)
        if provider is None:
            return document  # no provider record: the default profile, `badge`
        now = format_datetime(datetime.now(UTC))
        body_facts = AwardingBody(
            name=provider.legal_name,
            country=provider.country,
            accredited=accredited(provider, now),
        )
        gaps = definition_gaps(provider.policy_profile, document, body_facts)
        if gaps:
            raise ProfileRequirementsUnmet(
                [
                    (request_path(g.path), f"{provider.policy_profile} requires {g.element}")
                    for g in gaps
                ]
            )
        return document

    async def _create(
        self, tenant: str, body: AchievementIn, key: str | None, request: str | None
    ) -> AchievementPublished:
        if not await self.store.is_tenant_issuer(tenant, body.issuerDid):
            raise IssuerNotFound(f"no issuer {body.issuerDid} for this tenant")
        achievement_id = self.achievement_id(str(uuid.uuid4()))
        event = AchievementPublished(
            tenant=tenant,
            issuer_did=body.issuerDid,
            achievement_id=achievement_id,
            revision=1,
            achievement=await self._checked(body, achievement_id, 1),
            mastery_threshold=body.masteryThreshold,
            status="active",
            idempotency_key=key,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, event, key=achievement_id)
        await self.store.save_achievement(event)
        return event
