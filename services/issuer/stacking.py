"""Stacking: when a learner's credentials complete a pathway, the issuer
awards the pathway's credential, automatically and exactly once.

The decision is made from Kafka-derived state only: every `CredentialIssued`
(consumed from `credentials.issued` by the `issuer-stacking` group, after the
replica caught up) is first indexed under its learner key, then every active
pathway it is a component of is checked against all the learner's
credentials (shared.pathways). Indexing before checking makes concurrent
completions safe: of two components recorded at the same time (two issuer
instances), whichever check runs last sees both. A pathway defined or
revised after its learners earned the components (`catalog.pathways`, read
by the same group) is checked for every learner holding one of them.

Exactly once: the award's Idempotency-Key is derived from (pathway id,
learner key), so every instance, every redelivery and every replay after a
Redis wipe asks for the same award; the idempotency record (a lease while it
is made, then rebuilt from the credential's own `CredentialIssued`) answers
the first credential instead of a second. The credential references its
components as OB 3.0 §B.1.10 `Evidence` (one per component credential, its
`id` the component's credential id); each component stays a stand-alone
credential. A revoked credential counts towards no pathway (Bitstring
Status List §2.1: revocation is permanent); one revoked after the pathway
credential was made leaves that credential as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from aiokafka.structs import ConsumerRecord

from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.domain.awarding import RecipientIn, valid_until
from services.issuer.registry import RegistryIndex
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from shared.credentials.builders import build_credential, build_evidence
from shared.credentials.status_list import status_entry
from shared.errors import Conflict, NotFound, Unavailable
from shared.events import CredentialIssued, Event, PathwayPublished
from shared.idempotency import fingerprint
from shared.kafka.consumer import BatchHandler, Handler, in_runs
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.pathways import Earned, completion, components
from shared.web.metrics import Outcomes

_log = get_logger("issuer.stacking")


class PathwayNotReady(Unavailable):
    """The pathway's achievement or issuer has not reached this replica yet: retried."""


class PathwayNotFound(NotFound):
    title = "Pathway not found"


class NotStacked(NotFound):
    title = "Pathway not awarded"
    problem = "not-stacked"


class StackedAwardIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /pathway-awards/find`: a pathway and the learner, named as in
    `POST /awards` (in the body: no e-mail address in a URL or access log)."""

    pathwayId: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    recipient: RecipientIn


def stacking_key(pathway_id: str, learner_key: str) -> str:
    """The Idempotency-Key of a pathway's award to one learner (deterministic)."""
    digest = hashlib.sha256(f"{pathway_id}\x00{learner_key}".encode()).hexdigest()
    return f"stack:{digest}"


@dataclass(frozen=True)
class Stacking:
    store: IssuerStore
    allocator: StatusAllocator
    signer: Signer
    publisher: Publisher
    topic: str  # credentials.issued, with the deployment's prefix
    accreditations: Accreditations
    outcomes: Outcomes
    registry: RegistryIndex  # which components are revoked

    async def consider(self, event: CredentialIssued) -> list[CredentialIssued]:
        """The pathway credentials `event` completes (made now or before)."""
        return await self.consider_many([event])

    async def consider_many(self, events: list[CredentialIssued]) -> list[CredentialIssued]:
        """`consider` for each (a batch of the feed: the learners indexed in
        one call, each achievement's pathways read once)."""
        held = [event for event in events if event.learner_key is not None]
        # Indexed before checking (see above); a saved credential was indexed with it.
        await self.store.learners.add_many(await self.store.unsaved(held))
        pathways: dict[str, list[PathwayPublished]] = {}
        awarded: list[CredentialIssued] = []
        for event in held:
            assert event.learner_key is not None
            if event.achievement_id not in pathways:
                pathways[event.achievement_id] = [
                    p
                    for p in await self.store.pathways.containing(event.achievement_id)
                    if await self._awards(p)  # retired: no more stacked awards (made stay valid)
                ]
            for pathway in pathways[event.achievement_id]:
                used = completion(pathway, await self._counted(event.learner_key))
                if used is not None:
                    awarded.append(await self.award(pathway, event.learner_key, used))
        return awarded

    async def consider_pathway(self, pathway: PathwayPublished) -> list[CredentialIssued]:
        """The credentials of every learner who already completes a pathway
        when it is defined or revised (their components came first)."""
        await self.store.pathways.save(pathway)  # saved before checking, as above
        current = await self.store.pathways.get(pathway.pathway_id)
        if current is None or current.revision != pathway.revision:
            return []  # a newer revision is (or will be) considered instead
        if not await self._awards(pathway):
            return []
        awarded: list[CredentialIssued] = []
        for learner in await self.store.learners.holders(components(pathway)):
            used = completion(pathway, await self._counted(learner))
            if used is not None:
                awarded.append(await self.award(pathway, learner, used))
        return awarded

    async def _counted(self, learner_key: str) -> list[Earned]:
        """The learner's credentials that count towards a pathway: not revoked."""
        held = await self.store.learners.held(learner_key)
        revoked = await self.registry.revoked_among([earned.credential_id for earned in held])
        return [earned for earned in held if earned.credential_id not in revoked]

    async def _awards(self, pathway: PathwayPublished) -> bool:
        """Whether the pathway is awarded now (it and its achievement are active)."""
        awarded_as = await self.store.achievement(pathway.achievement_id)
        return pathway.status == "active" and (awarded_as is None or awarded_as.status == "active")

    async def awarded(self, tenant: str, pathway_id: str, learner: str) -> CredentialIssued:
        """The tenant's pathway credential of the learner (key `learner`), read
        through the same idempotency record that makes it exactly once."""
        pathway = await self.store.pathways.get(pathway_id)
        if pathway is None:
            await self.store.state.require()  # missing only because of a rebuild: 503
        if pathway is None or pathway.tenant != tenant:
            raise PathwayNotFound(f"no pathway {pathway_id}")
        first = await self.store.award_idempotency.first_use(
            tenant, stacking_key(pathway_id, learner)
        )
        found = None if first is None else await self.store.credential(first.answer)
        if found is None:
            raise NotStacked("this learner has not completed the pathway (yet)")
        return found

    async def award(
        self, pathway: PathwayPublished, learner_key: str, used: list[Earned]
    ) -> CredentialIssued:
        key = stacking_key(pathway.pathway_id, learner_key)
        request = fingerprint(["stack", pathway.pathway_id, learner_key])

        async def create(key: str | None, request: str | None) -> CredentialIssued:
            return await self._issue(pathway, learner_key, used, key, request)

        issued, created = await self.store.award_idempotency.once(
            pathway.tenant, key, request, create, self.store.credential
        )
        self.outcomes.count("stacking", "issued" if created else "replayed")
        return issued

    async def _subject(self, used: list[Earned]) -> dict[str, Any]:
        """The learner as the newest component names them (its DID, or its
        salted hash of the same identity: OB 3.0 §B.2.3)."""
        newest = max(used)
        component = await self.store.credential(newest.credential_id)
        document = component.credential_ldp if component is not None else None
        subject = document.get("credentialSubject") if document else None
        if not isinstance(subject, dict):
            raise PathwayNotReady(f"component {newest.credential_id} is not replicated yet")
        return subject

    async def _evidence(self, used: list[Earned]) -> list[dict[str, Any]]:
        evidence = []
        for earned in used:
            component = await self.store.achievement(earned.achievement_id)
            name = component.achievement.get("name") if component is not None else None
            evidence.append(
                build_evidence(
                    id=earned.credential_id,
                    name=name if isinstance(name, str) else None,
                    description=f"A component credential, valid from {earned.valid_from}",
                    genre="Credential",
                )
            )
        return evidence

    async def _issue(
        self,
        pathway: PathwayPublished,
        learner_key: str,
        used: list[Earned],
        key: str | None,
        request: str | None,
    ) -> CredentialIssued:
        now = datetime.now(UTC).replace(microsecond=0)
        achievement = await self.store.achievement(pathway.achievement_id)
        identity = await self.store.issuer(pathway.issuer_did)
        if achievement is None or identity is None or identity.signing_key_id is None:
            raise PathwayNotReady(f"pathway {pathway.pathway_id} is not replicated yet")
        subject = await self._subject(used)
        issuer_profile = await self.accreditations.profile_for(identity, now)
        entries, generation = await self.allocator.entries(identity.did)
        document = dict(achievement.achievement)
        credits = document.get("creditsAvailable")
        credential: dict[str, Any] = build_credential(
            issuer=issuer_profile,
            achievement=document,
            valid_from=now,
            valid_until=valid_until(document, now),
            awarded_date=now,
            subject_id=subject.get("id"),
            identifiers=list(subject.get("identifier") or []),
            credits_earned=credits if isinstance(credits, int | float) else None,
            evidence=await self._evidence(used),
        )
        # Bitstring Status List v1.0 §2.1: one entry per purpose.
        credential["credentialStatus"] = [
            status_entry(e.list_url, e.index, e.purpose) for e in entries
        ]
        signing_key = await self.signer.signing_key(
            identity.signing_key_id, identity.did_document, identity.signing_method_id
        )
        jwt, signed = await self.signer.sign(credential, signing_key)
        await self.store.still_signing_with(identity)
        event = CredentialIssued(
            tenant=pathway.tenant,
            credential_id=credential["id"],
            issuer_did=identity.did,
            achievement_id=achievement.achievement_id,
            achievement_revision=achievement.revision,
            credential_jwt=jwt,
            status_entries=entries,
            idempotency_key=key,
            request_hash=request,
            valid_until=credential.get("validUntil"),
            credential_ldp=signed,
            learner_key=learner_key,
            pathway_id=pathway.pathway_id,
        )
        await self.allocator.still_current(generation)  # no wipe while we signed
        await self.publisher.publish(self.topic, event, key=event.credential_id)
        await self.store.save_credential(event)
        _log.info("pathway.awarded", credential_id=event.credential_id, pathway=pathway.pathway_id)
        return event


def on_issued(stacking: Stacking, caught_up: Callable[[], Awaitable[None]]) -> Handler:
    """The `issuer-stacking` group's handler: after the replay, consider each
    credential (`credentials.issued`) and each pathway revision (`catalog.pathways`)."""

    async def handle(event: Event, record: ConsumerRecord) -> None:
        if isinstance(event, CredentialIssued):
            await _consider(stacking, caught_up, [event])
        elif isinstance(event, PathwayPublished):
            await _consider(stacking, caught_up, event)

    return handle


def on_issued_batch(stacking: Stacking, caught_up: Callable[[], Awaitable[None]]) -> BatchHandler:
    """`on_issued` for a batch: its runs of credentials considered together."""

    async def many(events: list[CredentialIssued]) -> None:
        await _consider(stacking, caught_up, events)

    return in_runs(on_issued(stacking, caught_up), CredentialIssued, many)


async def _consider(
    stacking: Stacking,
    caught_up: Callable[[], Awaitable[None]],
    what: list[CredentialIssued] | PathwayPublished,
) -> None:
    await caught_up()
    try:
        if isinstance(what, PathwayPublished):
            await stacking.consider_pathway(what)
        else:
            await stacking.consider_many(what)
    except Conflict:  # another instance holds the award's lease: retry, never drop
        raise PathwayNotReady("another instance is awarding this pathway") from None
