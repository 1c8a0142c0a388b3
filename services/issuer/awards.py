"""Awarding a micro-credential: gate, allocate, sign, publish, then answer.

Invariant 2: the credential is handed back only after its `CredentialIssued`
event is acknowledged by Kafka (acks=all). Invariant 6: a retry with the same
Idempotency-Key answers the first credential, never a second one. Invariant
3: nothing is decided on state still being rebuilt (`Rebuilding`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.issuer.accreditation import Accreditations
from services.issuer.allocation import StatusAllocator
from services.issuer.attempts import Attempts, Source
from services.issuer.domain.assessment import (
    check_assessed_at,
    check_evidence,
    checked_subject,
    mastery_met,
)
from services.issuer.domain.awarding import (
    AwardIn,
    Subject,
    award_credential,
    learner_key,
    valid_until,
)
from services.issuer.domain.errors import (
    AchievementRetired,
    BelowThreshold,
    InvalidAchievement,
    IssuerUnavailable,
    ProfileRequirementsUnmet,
    Unsignable,
)
from services.issuer.domain.renewal import NotRenewable, check_renewable, renewal_evidence
from services.issuer.registry import RegistryIndex
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.errors import CredentialError
from shared.durations import PeriodError
from shared.endorsement_index import MAX_EMBEDDED_ENDORSEMENTS
from shared.errors import Conflict, DomainError, IdempotencyKeyReused
from shared.events import AchievementPublished, AssessmentPassed, CredentialIssued
from shared.idempotency import FirstUse, fingerprint
from shared.kafka.producer import Publisher
from shared.learner_keys import LearnerKeys
from shared.logging import get_logger
from shared.policy_profiles import DEFAULT_PROFILE, award_gaps, has_award_rules
from shared.web.metrics import Outcomes

_log = get_logger("issuer.awards")


# The Idempotency-Keys of the awards the platform makes on its own: a bulk
# job's rows (bulk_runner.row_key) and Kafka events without a key
# (inbound.award_key); a client's award key never takes one's place.
PLATFORM_KEY_PREFIXES = ("bulk:", "event:")

Awarded = tuple[CredentialIssued, bool]  # the credential, and whether made now
Outcome = Awarded | Exception  # or what refused it


def issued_response(event: CredentialIssued) -> dict[str, Any]:
    return {
        "credentialId": event.credential_id,
        "jwt": event.credential_jwt,
        "credential": event.credential_ldp,
    }


@dataclass(frozen=True)
class Issuance:
    """The award use case, with its dependencies made explicit."""

    store: IssuerStore
    allocator: StatusAllocator
    signer: Signer
    publisher: Publisher
    topic: str  # credentials.issued, with the deployment's prefix
    outcomes: Outcomes
    require_caught_up: Callable[[], None]  # raises Rebuilding
    accreditations: Accreditations
    learner_keys: LearnerKeys  # stacking: the learner across credentials
    registry: RegistryIndex | None = None  # renewals: is the renewed one revoked, or renewed
    attempts: Attempts | None = None  # refusals recorded (issuer.attempts), None in some tests
    # Look-ups of an achievement or a renewed credential wait a moment for one
    # still on its way through Kafka; off where the caller waited for them
    # already, so an unknown one is refused at once (`AwardQueue`).
    wait_for_records: bool = True

    async def award(
        self,
        tenant: str,
        body: AwardIn,
        key: str | None,
        *,
        source: Source = "api",
        inbound: AssessmentPassed | None = None,
    ) -> Awarded:
        """The credential for this award and whether it was made now (False: a
        replay). A refusal of the assessment is recorded before it is raised
        (`source`, `inbound`: where the award came from)."""
        (outcome,) = await self.award_many(tenant, [(body, key)], source=source, inbound=[inbound])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def award_many(
        self,
        tenant: str,
        items: Sequence[tuple[AwardIn, str | None]],
        *,
        source: Source = "api",
        inbound: Sequence[AssessmentPassed | None] | None = None,
    ) -> list[Outcome]:
        """`award` for each (body, Idempotency-Key) item (keys distinct), in
        order: its credential and whether it was made now, or the error that
        refused it (`inbound`: each item's Kafka event, if any). What the
        items share is done once for them all: the keys' leases and records,
        the look-ups of each achievement, the status entries of each issuer,
        a round trip per signing process, Kafka (acknowledged together), one
        Redis transaction."""
        self.require_caught_up()
        await self.store.state.require()  # also sees a wipe the consumer has not yet
        requests = [fingerprint(body) if key is not None else None for body, key in items]
        keyed = [i for i, (_, key) in enumerate(items) if key is not None]
        keys = [key for _, key in items if key is not None]
        async with self.store.award_idempotency.claim_many(tenant, keys) as firsts:
            outcomes = await self._answered_before(keyed, firsts, requests)
            fresh = [
                _Fresh(i, body, key, requests[i])
                for i, (body, key) in enumerate(items)
                if i not in outcomes
            ]
            made = await self._issue(tenant, fresh)
            outcomes.update((f.position, o) for f, o in zip(fresh, made, strict=True))
        done = [outcomes[i] for i in range(len(items))]
        if self.attempts is not None:
            await self._record_refusals(tenant, items, done, source, inbound)
        return done

    async def _answered_before(
        self, keyed: list[int], firsts: list[FirstUse | None], requests: list[str | None]
    ) -> dict[int, Outcome]:
        """By position: the replays of keys used before (or the key reused
        for another request)."""
        answered: dict[int, Outcome] = {}
        earlier: dict[int, str] = {}
        for i, first in zip(keyed, firsts, strict=True):
            if first is not None and first.fingerprint != requests[i]:
                answered[i] = IdempotencyKeyReused()
            elif first is not None:
                earlier[i] = first.answer
        replayed = await self.store.credentials(list(earlier.values()))
        for i, credential_id in earlier.items():
            if credential_id not in replayed:  # stored before its key
                await self.store.state.missing(f"credential {credential_id}")
            answered[i] = (replayed[credential_id], False)
            self.outcomes.count("award", "replayed")
        return answered

    async def _record_refusals(
        self,
        tenant: str,
        items: Sequence[tuple[AwardIn, str | None]],
        outcomes: list[Outcome],
        source: Source,
        inbound: Sequence[AssessmentPassed | None] | None,
    ) -> None:
        """Each refusal of an assessment, as an attempt (issuer.attempts)."""
        assert self.attempts is not None
        events = inbound if inbound is not None else [None] * len(items)
        await asyncio.gather(
            *(
                self.attempts.refused(
                    tenant, body, o.title, o.detail, source=source, key=key, inbound=event
                )
                for (body, key), o, event in zip(items, outcomes, events, strict=True)
                if isinstance(o, DomainError) and refuses_the_assessment(o)
            )
        )

    async def _issuing(self, tenant: str, achievement_id: str, now: datetime) -> _Issuing:
        """What every award of this achievement now shares."""
        achievement = await self.store.tenant_achievement(
            tenant, achievement_id, wait=self.wait_for_records
        )
        if achievement.status != "active":
            raise AchievementRetired("this achievement is retired")
        identity = await self._signing_identity(tenant, achievement)
        _check_validity(achievement, now)
        provider = await self.store.provider_of(identity.did)
        issuer_profile = await self.accreditations.profile_with(identity, provider, now)
        return _Issuing(
            achievement,
            identity,
            issuer_profile=issuer_profile,
            document=await self._with_endorsements(achievement, issuer_profile),
            profile=provider.policy_profile if provider is not None else DEFAULT_PROFILE,
        )

    async def _with_endorsements(
        self, achievement: AchievementPublished, issuer_profile: dict[str, Any]
    ) -> dict[str, Any]:
        """The achievement with its endorsers' signed EndorsementCredentials:
        one per endorser, the newest, as many as fit beside the issuer
        profile's (the operator's accreditations) in what the verifier checks."""
        document = dict(achievement.achievement)
        accredited = issuer_profile.get("endorsement")
        room = MAX_EMBEDDED_ENDORSEMENTS - (len(accredited) if isinstance(accredited, list) else 0)
        endorsed = await self.store.endorsements.of_achievement(achievement.achievement_id, room)
        if endorsed:
            document["endorsement"] = [dict(e.credential_ldp) for e in endorsed]
        return document

    def _meets_policy(
        self, issuing: _Issuing, body: AwardIn, subject: Subject, now: datetime
    ) -> None:
        """The award-time rules of the provider's policy profile
        (shared.policy_profiles), on the credential as it would be built."""
        if not has_award_rules(issuing.profile):
            return  # nothing to check: no draft to build
        draft = award_credential(
            body=body,
            subject=subject,
            issuer_profile=issuing.issuer_profile,
            achievement=issuing.document,
            entries=[],
            now=now,
        )
        gaps = award_gaps(issuing.profile, draft)
        if gaps:
            self.outcomes.count("award", "profile_unmet")
            raise ProfileRequirementsUnmet(
                [
                    (_AWARD_PATHS.get(g.path, "$"), f"{issuing.profile} requires {g.element}")
                    for g in gaps
                ]
            )

    async def _signing_identity(
        self, tenant: str, achievement: AchievementPublished
    ) -> IssuerIdentity:
        identity = await self.store.issuer(achievement.issuer_did)
        if identity is None:
            await self.store.state.require()
        if identity is None or identity.tenant != tenant or identity.signing_key_id is None:
            raise IssuerUnavailable("the achievement's issuer has no signing key here")
        return identity

    async def _draft(self, tenant: str, fresh: _Fresh, now: datetime, issuing: _Issuing) -> _Draft:
        """Everything that can refuse the award, before any status entry is taken."""
        body = fresh.body
        if not mastery_met(body, issuing.achievement.mastery_threshold):
            self.outcomes.count("award", "below_threshold")
            raise BelowThreshold(
                f"score {body.score}/{body.maxScore} is below the mastery threshold "
                f"of {issuing.achievement.mastery_threshold:.0%}"
            )
        subject = checked_subject(body)
        learner = learner_key(self.learner_keys, body.recipient)
        renewed = await self._renewed(tenant, body, learner)
        check_evidence(body)
        self._meets_policy(issuing, body, subject, now)
        return _Draft(fresh, issuing, subject, learner, renewed)

    async def _issue(self, tenant: str, batch: list[_Fresh]) -> list[Outcome]:
        """The fresh items' credentials, or what refused each."""
        now = datetime.now(UTC).replace(microsecond=0)
        outcomes: dict[int, Outcome] = {}
        by_issuer: dict[str, list[_Draft]] = {}
        async with self._renewals_held(batch, outcomes) as held:
            for draft in await self._drafts(tenant, held, now, outcomes):
                by_issuer.setdefault(draft.issuing.identity.did, []).append(draft)
            signed: list[tuple[int, CredentialIssued]] = []  # (position, event)
            for group in by_issuer.values():
                signed += await self._signed_apart(tenant, group, now, outcomes)
            kept = await self._published(signed, outcomes)
            await self.store.save_credentials(kept)  # also searchable at once on this instance
        for event in kept:
            _log.info(
                "credential.issued", credential_id=event.credential_id, issuer=event.issuer_did
            )
            self.outcomes.count("award", "issued")
        return [outcomes[fresh.position] for fresh in batch]

    @contextlib.asynccontextmanager
    async def _renewals_held(
        self, batch: list[_Fresh], outcomes: dict[int, Outcome]
    ) -> AsyncIterator[list[_Fresh]]:
        """The items to go on with, holding the lease of each credential they
        renew until the block ends (its renewal stored): a credential is
        renewed once, also by awards at the same moment. Another award of
        the batch renewing the same credential, or a lease held elsewhere
        for too long, refuses the item alone. Taken in order of credential
        id, so two batches never wait for each other's."""
        renewing = sorted(
            (f for f in batch if f.body.renews is not None), key=lambda f: str(f.body.renews)
        )
        async with contextlib.AsyncExitStack() as held:
            leased: set[str] = set()
            for fresh in renewing:
                renews = str(fresh.body.renews)
                if renews in leased:
                    outcomes[fresh.position] = NotRenewable(
                        "another award of this request renews the same credential"
                    )
                    continue
                try:
                    await held.enter_async_context(self.store.renewal_lease(renews))
                except Conflict as busy:
                    outcomes[fresh.position] = busy
                    continue
                leased.add(renews)
            yield [f for f in batch if f.position not in outcomes]

    async def _drafts(
        self,
        tenant: str,
        batch: list[_Fresh],
        now: datetime,
        outcomes: dict[int, Outcome],
    ) -> list[_Draft]:
        """The items that pass every check; the others' errors into `outcomes`."""
        # Each achievement looked up once, all at once: unknown ones wait out
        # one deadline together, not one after another.
        named = list(dict.fromkeys(fresh.body.achievementId for fresh in batch))
        found = await asyncio.gather(
            *(self._issuing(tenant, a, now) for a in named), return_exceptions=True
        )
        shared = dict(zip(named, found, strict=True))

        async def draft(fresh: _Fresh) -> _Draft:
            check_assessed_at(fresh.body, now)
            issuing = shared[fresh.body.achievementId]
            if isinstance(issuing, BaseException):  # each award of it is refused alike
                raise issuing
            return await self._draft(tenant, fresh, now, issuing)

        # At once too: renewals wait for the credentials they name together.
        made = await asyncio.gather(*(draft(f) for f in batch), return_exceptions=True)
        drafts: list[_Draft] = []
        for fresh, outcome in zip(batch, made, strict=True):
            if isinstance(outcome, Exception):
                outcomes[fresh.position] = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                drafts.append(outcome)
        return drafts

    async def _published(
        self, signed: list[tuple[int, CredentialIssued]], outcomes: dict[int, Outcome]
    ) -> list[CredentialIssued]:
        """The events Kafka acknowledged (sent together); each one's outcome."""
        published = await asyncio.gather(
            *(self.publisher.publish(self.topic, e, key=e.credential_id) for _, e in signed),
            return_exceptions=True,
        )
        kept: list[CredentialIssued] = []
        for (position, event), done in zip(signed, published, strict=True):
            if isinstance(done, BaseException) and not isinstance(done, Exception):
                raise done
            if isinstance(done, Exception):
                outcomes[position] = done
            else:
                outcomes[position] = (event, True)
                kept.append(event)
        return kept

    async def _signed_apart(
        self, tenant: str, group: list[_Draft], now: datetime, outcomes: dict[int, Outcome]
    ) -> list[tuple[int, CredentialIssued]]:
        """`_signed`, or what refused each draft. When the content of one
        draft cannot be built or signed (a `CredentialError`: what the
        checks before should have refused), the group's drafts are signed
        one by one, so one bad award never fails the others with it."""
        try:
            return await self._signed(tenant, group, now)
        except CredentialError as error:
            if len(group) == 1:
                _log.error("award.unsignable", error=str(error))
                outcomes[group[0].fresh.position] = Unsignable(str(error))
                return []
            events: list[tuple[int, CredentialIssued]] = []
            for draft in group:
                events += await self._signed_apart(tenant, [draft], now, outcomes)
            return events
        except Exception as error:
            outcomes.update((draft.fresh.position, error) for draft in group)
            return []

    async def _signed(
        self, tenant: str, drafts: list[_Draft], now: datetime
    ) -> list[tuple[int, CredentialIssued]]:
        """The events of one issuer's drafts (with their items' positions):
        status entries claimed, built, signed."""
        identity = drafts[0].issuing.identity
        entries, generation = await self.allocator.entries_for_many(identity.did, len(drafts))
        credentials = [
            award_credential(
                body=draft.fresh.body,
                subject=draft.subject,
                issuer_profile=draft.issuing.issuer_profile,
                achievement=draft.issuing.document,
                entries=each,
                now=now,
                renewal=renewal_evidence(draft.renewed) if draft.renewed is not None else None,
            )
            for draft, each in zip(drafts, entries, strict=True)
        ]
        assert identity.signing_key_id is not None
        signing_key = await self.signer.signing_key(
            identity.signing_key_id, identity.did_document, identity.signing_method_id
        )
        signed = await self.signer.sign_many(credentials, signing_key)
        events = []
        for draft, credential, each, (jwt, ldp) in zip(
            drafts, credentials, entries, signed, strict=True
        ):
            events.append(
                (
                    draft.fresh.position,
                    CredentialIssued(
                        tenant=tenant,
                        credential_id=credential["id"],
                        issuer_did=identity.did,
                        achievement_id=draft.issuing.achievement.achievement_id,
                        achievement_revision=draft.issuing.achievement.revision,
                        credential_jwt=jwt,
                        status_entries=each,
                        idempotency_key=draft.fresh.key,
                        request_hash=draft.fresh.request,
                        valid_until=credential.get("validUntil"),
                        credential_ldp=ldp,
                        learner_key=draft.learner,
                        renews=draft.renewed.credential_id if draft.renewed is not None else None,
                    ),
                )
            )
        await self.allocator.still_current(generation)  # no wipe while we signed
        await self.store.still_signing_with(identity)
        return events

    async def _renewed(
        self, tenant: str, body: AwardIn, learner_key: str | None
    ) -> CredentialIssued | None:
        """The credential this award renews (domain/renewal.py), if it names one."""
        if body.renews is None:
            return None
        previous = (
            await self.store.arrived_credential(tenant, body.renews)
            if self.wait_for_records
            else await self.store.tenant_credential(tenant, body.renews)
        )
        registry = self.registry
        return check_renewable(
            previous,
            tenant=tenant,
            achievement_id=body.achievementId,
            learner_key=learner_key,
            revoked=registry is not None and await registry.revoked(body.renews),
            renewed_by=await registry.renewed_by(body.renews) if registry is not None else None,
        )


@dataclass(frozen=True)
class _Fresh:
    """An item of `award_many` whose key was never used."""

    position: int
    body: AwardIn
    key: str | None
    request: str | None  # the body's fingerprint, with a key


@dataclass(frozen=True)
class _Issuing:
    """What the awards of one achievement share (looked up once per batch)."""

    achievement: AchievementPublished
    identity: IssuerIdentity
    issuer_profile: dict[str, Any]
    document: dict[str, Any]  # the achievement with its endorsements
    profile: str  # the provider's policy profile


@dataclass(frozen=True)
class _Draft:
    """An award that passed every check, to be signed."""

    fresh: _Fresh
    issuing: _Issuing
    subject: Subject
    learner: str | None
    renewed: CredentialIssued | None


def refuses_the_assessment(error: DomainError) -> bool:
    """Whether the error refuses this assessment for good, rather than the
    request's key (reused with another body; a concurrent retry's lease,
    plain `Conflict`) or the moment (transient: retried)."""
    return not (
        error.transient or isinstance(error, IdempotencyKeyReused) or type(error) is Conflict
    )


# Where a missing award-time element comes from in the request.
_AWARD_PATHS = {"$.evidence": "$.evidence", "$.credentialSubject": "$.recipient"}


def _check_validity(achievement: AchievementPublished, now: datetime) -> None:
    # The catalog refuses such periods; one stored before it did must not
    # cost status entries or a 500.
    try:
        valid_until(dict(achievement.achievement), now)
    except PeriodError as error:
        raise InvalidAchievement(f"the achievement's validityPeriod is unusable: {error}") from None
