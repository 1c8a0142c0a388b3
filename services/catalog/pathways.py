"""Pathways (stacks): larger credentials made of micro-credentials.

A pathway names its components (all-of `core`, n-of `electives`, optional
ordering: shared.pathways) and the Achievement it is awarded as, created
with it or an existing one of the tenant's linked. Components may be the
achievements of other tenants' providers when those are accredited (the
registry replica), and other pathways' achievements (nested stacks).
Refused with a 422 naming each offending member: unknown or retired
components, an unaccredited provider's, and cycles (the pathway's own
achievement among its components, directly or through nested pathways).
Published on `catalog.pathways` (a history topic, like achievements), which
the issuer (auto-award) and the verifier (stacking report) replicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import msgspec
import redis.asyncio as redis

from services.catalog.achievements import Achievements
from services.catalog.domain import AchievementIn
from services.catalog.revisions import revision_event, revision_of
from services.catalog.store import CatalogStore
from shared.credentials.builders import format_datetime
from shared.errors import Conflict, InvalidFields, NotFound
from shared.events import AchievementPublished, PathwayPublished
from shared.idempotency import fingerprint, lease
from shared.kafka.producer import Publisher
from shared.pathway_index import PATHWAY_CHANGES, PathwayIndex
from shared.pathways import components, find_cycle
from shared.providers import accredited

Component = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Components = Annotated[list[Component], msgspec.Meta(max_length=100)]


class PathwayIn(msgspec.Struct, forbid_unknown_fields=True):
    """A pathway: its components and the achievement it is awarded as, either
    `achievement` (a new one, as in `POST /achievements`) or `achievementId`
    (an existing one of the tenant's)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    core: Components = []
    electives: Components = []
    electivesRequired: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    ordered: bool = False
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    achievement: AchievementIn | None = None
    achievementId: Component | None = None


class PathwayNotFound(NotFound):
    title = "Pathway not found"


class InvalidPathway(InvalidFields):
    """Unknown, retired or unaccredited components, a cycle, or an unusable rule."""

    title = "Invalid pathway"
    problem = "invalid-pathway"


class PathwayRetired(Conflict):
    title = "Pathway retired"
    problem = "pathway-retired"


class AchievementAwardedByPathway(Conflict):
    title = "Achievement already awarded by a pathway"
    problem = "achievement-in-pathway"


def _shape_errors(body: PathwayIn, *, linked: bool = False) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not linked and (body.achievement is None) == (body.achievementId is None):
        errors.append(("$", "give exactly one of achievement or achievementId"))
    if not body.core and not body.electives:
        errors.append(("$.core", "a pathway needs at least one component"))
    if body.electivesRequired > len(body.electives):
        errors.append(("$.electivesRequired", "more electives required than listed"))
    if body.electives and body.electivesRequired == 0:
        errors.append(("$.electivesRequired", "electives are listed: require at least one"))
    seen: set[str] = set()
    for path, member in _members(body):
        if member in seen:
            errors.append((path, f"{member} is listed twice"))
        seen.add(member)
    return errors


def _members(body: PathwayIn) -> list[tuple[str, str]]:
    return [
        *((f"$.core[{i}]", m) for i, m in enumerate(body.core)),
        *((f"$.electives[{i}]", m) for i, m in enumerate(body.electives)),
    ]


def pathway_document(event: PathwayPublished) -> dict[str, object]:
    """The public record (`GET /pathways/{key}`)."""
    return {
        **event.pathway,
        "id": event.pathway_id,
        "revision": event.revision,
        "status": event.status,
        "achievementId": event.achievement_id,
        "issuerDid": event.issuer_did,
        "core": list(event.core),
        "electives": list(event.electives),
        "electivesRequired": event.electives_required,
        "ordered": event.ordered,
    }


@dataclass(frozen=True)
class Pathways:
    store: CatalogStore
    index: PathwayIndex
    achievements: Achievements
    publisher: Publisher
    redis: redis.Redis  # the lease that makes cycle checks and writes one at a time
    topic: str  # catalog.pathways, with the deployment's prefix
    public_base_url: str
    require_caught_up: Callable[[], None]  # raises Rebuilding

    def pathway_id(self, key: str) -> str:
        return f"{self.public_base_url}/pathways/{key}"

    async def define(
        self, tenant: str, body: PathwayIn, key: str | None
    ) -> tuple[PathwayPublished, bool]:
        """The pathway for this request and whether it was made now."""
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> PathwayPublished:
            async with lease(self.redis, self.index.lock):
                return await self._create(tenant, body, key, request)

        return await self.index.idempotency.once(
            tenant, key, fingerprint(body), create, self.index.get
        )

    async def revise(
        self, tenant: str, pathway_id: str, body: PathwayIn, key: str | None
    ) -> PathwayPublished:
        """The next revision with the components and rule of `body` (the
        same achievement: `achievementId`, if given, must be it)."""

        async def make(current: PathwayPublished) -> PathwayPublished:
            if current.status == "retired":
                raise PathwayRetired("a retired pathway cannot be revised")
            if body.achievement is not None or body.achievementId not in (
                None,
                current.achievement_id,
            ):
                raise InvalidPathway([("$.achievementId", "a pathway keeps its achievement")])
            errors = _shape_errors(body, linked=True)
            if not errors:
                errors = await self._component_errors(tenant, body)
                errors += await self._cycle_errors(current.achievement_id, body)
            if errors:
                raise InvalidPathway(errors)
            return msgspec.structs.replace(
                current,
                revision=current.revision + 1,
                pathway={"name": body.name, "description": body.description},
                core=list(body.core),
                electives=list(body.electives),
                electives_required=body.electivesRequired,
                ordered=body.ordered,
            )

        return await self._change(tenant, pathway_id, ["revise", body], key, make)

    async def retire(self, tenant: str, pathway_id: str, key: str | None) -> PathwayPublished:
        """The next revision, retired: no more stacked awards; those made stay valid."""

        async def make(current: PathwayPublished) -> PathwayPublished:
            if current.status == "retired":
                return current
            return msgspec.structs.replace(current, revision=current.revision + 1, status="retired")

        return await self._change(tenant, pathway_id, ["retire"], key, make)

    async def _change(
        self,
        tenant: str,
        pathway_id: str,
        request: object,
        key: str | None,
        make: Callable[[PathwayPublished], Awaitable[PathwayPublished]],
    ) -> PathwayPublished:
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request_hash: str | None) -> PathwayPublished:
            async with lease(self.redis, self.index.lock):
                current = await self.own(tenant, pathway_id)
                made = await make(current)
                if made is current:
                    return current
                event = revision_event(made, PATHWAY_CHANGES, pathway_id, key, request_hash)
                await self.publisher.publish(self.topic, event, key=pathway_id)
                await self.index.save(event)
                return event

        async def replay(answer: str) -> PathwayPublished | None:
            return await self.index.revision(*revision_of(answer))

        digest = fingerprint([pathway_id, request])
        made, _ = await self.index.change_idempotency.once(tenant, key, digest, create, replay)
        return made

    async def own(self, tenant: str, pathway_id: str) -> PathwayPublished:
        """The tenant's pathway (another tenant's is a 404: invariant 7)."""
        event = await self.index.get(pathway_id)
        if event is None:
            await self.store.state.require()
        if event is None or event.tenant != tenant:
            raise PathwayNotFound(f"no pathway {pathway_id}")
        return event

    async def of_tenant(self, tenant: str) -> list[PathwayPublished]:
        self.require_caught_up()
        await self.store.state.require()
        return await self.index.of_tenant(tenant)

    async def stackable_into(self, achievement_id: str) -> list[str]:
        """The achievements of the active pathways `achievement_id` is a component of."""
        found = await self.index.containing(achievement_id)
        return sorted(p.achievement_id for p in found if p.status == "active")

    async def _create(
        self, tenant: str, body: PathwayIn, key: str | None, request: str | None
    ) -> PathwayPublished:
        errors = _shape_errors(body)
        if errors:
            raise InvalidPathway(errors)
        errors = await self._component_errors(tenant, body)
        if body.achievementId is not None:
            own = await self._linked(tenant, body.achievementId)
            errors += await self._cycle_errors(own.achievement_id, body)
        if errors:
            raise InvalidPathway(errors)
        if body.achievement is not None:
            # Its own key, derived from the pathway's: a retry makes no second achievement.
            own, _ = await self.achievements.define(
                tenant, body.achievement, None if key is None else f"pathway:{key}"
            )
        event = PathwayPublished(
            tenant=tenant,
            pathway_id=self.pathway_id(str(uuid.uuid4())),
            pathway={"name": body.name, "description": body.description},
            issuer_did=own.issuer_did,
            achievement_id=own.achievement_id,
            core=list(body.core),
            electives=list(body.electives),
            electives_required=body.electivesRequired,
            ordered=body.ordered,
            idempotency_key=key,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, event, key=event.pathway_id)
        await self.index.save(event)
        return event

    async def _linked(self, tenant: str, achievement_id: str) -> AchievementPublished:
        own = await self.achievements.own(tenant, achievement_id)
        if own.status != "active":
            raise InvalidPathway([("$.achievementId", f"{achievement_id} is retired")])
        if await self.index.awarding(achievement_id) is not None:
            raise AchievementAwardedByPathway(f"{achievement_id} is another pathway's achievement")
        return own

    async def _component_errors(self, tenant: str, body: PathwayIn) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        now = format_datetime(datetime.now(UTC))
        for path, member in _members(body):
            found = await self.store.achievement(member)
            if found is None:
                errors.append((path, f"unknown achievement {member}"))
            elif found.status != "active":
                errors.append((path, f"achievement {member} is retired"))
            elif found.tenant != tenant and not await self._accredited(found.issuer_did, now):
                errors.append((path, f"achievement {member} is not an accredited provider's"))
        return errors

    async def _accredited(self, issuer_did: str, now: str) -> bool:
        provider_id = await self.store.provider_of_issuer(issuer_did)
        provider = None if provider_id is None else await self.store.provider(provider_id)
        return provider is not None and accredited(provider, now)

    async def _cycle_errors(self, own: str, body: PathwayIn) -> list[tuple[str, str]]:
        """The pathway's achievement among its own components, directly or
        through nested pathways (their graph read before the walk)."""
        nested: dict[str, list[str]] = {}
        frontier = [m for _, m in _members(body)]
        while frontier:
            achievement = frontier.pop()
            if achievement in nested:
                continue
            pathway = await self.index.awarding(achievement)
            nested[achievement] = components(pathway) if pathway is not None else []
            frontier.extend(nested[achievement])
        errors: list[tuple[str, str]] = []
        for path, member in _members(body):
            cycle = find_cycle(own, [member], nested.get)
            if cycle is not None:
                errors.append((path, "cycle: " + " -> ".join([own, *cycle])))
        return errors
