"""Awarding a micro-credential: gate, allocate, sign, publish, then answer.

Invariant 2: the credential is handed back only after its `CredentialIssued`
event is acknowledged by Kafka (acks=all). Invariant 6: a retry with the same
Idempotency-Key answers the first credential, never a second one. Invariant
3: nothing is decided on state still being rebuilt (`Rebuilding`).
"""

from __future__ import annotations

from collections.abc import Callable
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
)
from services.issuer.domain.renewal import check_renewable, renewal_evidence
from services.issuer.registry import RegistryIndex
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.durations import PeriodError
from shared.errors import Conflict, DomainError, IdempotencyKeyReused
from shared.events import AchievementPublished, AssessmentPassed, CredentialIssued
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.learner_keys import LearnerKeys
from shared.logging import get_logger
from shared.policy_profiles import DEFAULT_PROFILE, award_gaps, has_award_rules
from shared.replica_wait import wait_for_record
from shared.web.metrics import Outcomes

_log = get_logger("issuer.awards")


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
    registry: RegistryIndex | None = None  # registrar search; renewals: is the renewed one revoked
    attempts: Attempts | None = None  # refusals recorded (issuer.attempts), None in some tests

    async def award(
        self,
        tenant: str,
        body: AwardIn,
        key: str | None,
        *,
        source: Source = "api",
        inbound: AssessmentPassed | None = None,
    ) -> tuple[CredentialIssued, bool]:
        """The credential for this award and whether it was made now (False: a
        replay). A refusal of the assessment is recorded before it is raised
        (`source`, `inbound`: where the award came from)."""
        try:
            return await self._award(tenant, body, key)
        except DomainError as error:
            if self.attempts is not None and refuses_the_assessment(error):
                await self.attempts.refused(
                    tenant, body, error.title, error.detail, source=source, key=key, inbound=inbound
                )
            raise

    async def _award(
        self, tenant: str, body: AwardIn, key: str | None
    ) -> tuple[CredentialIssued, bool]:
        self.require_caught_up()
        await self.store.state.require()  # also sees a wipe the consumer has not yet

        async def issue(key: str | None, request: str | None) -> CredentialIssued:
            return await self._issue(tenant, body, key, request)

        async def replay(credential_id: str) -> CredentialIssued:
            event = await self.store.credential(credential_id)
            assert event is not None, "the credential is stored before its key"
            self.outcomes.count("award", "replayed")
            return event

        return await self.store.award_idempotency.once(
            tenant, key, fingerprint(body), issue, replay
        )

    async def _achievement_for(self, tenant: str, body: AwardIn) -> AchievementPublished:
        achievement = await self.store.tenant_achievement(tenant, body.achievementId)
        if achievement.status != "active":
            raise AchievementRetired("this achievement is retired")
        if not mastery_met(body, achievement.mastery_threshold):
            self.outcomes.count("award", "below_threshold")
            raise BelowThreshold(
                f"score {body.score}/{body.maxScore} is below the mastery threshold "
                f"of {achievement.mastery_threshold:.0%}"
            )
        return achievement

    async def _with_endorsements(self, achievement: AchievementPublished) -> dict[str, Any]:
        """The achievement with its endorsers' signed EndorsementCredentials."""
        document = dict(achievement.achievement)
        endorsed = await self.store.endorsements.of_achievement(achievement.achievement_id)
        if endorsed:
            document["endorsement"] = [dict(e.credential_ldp) for e in endorsed]
        return document

    def _meets_policy(
        self,
        profile: str,
        body: AwardIn,
        subject: Subject,
        issuer_profile: dict[str, Any],
        achievement: dict[str, Any],
        now: datetime,
    ) -> None:
        """The award-time rules of the provider's policy profile
        (shared.policy_profiles), on the credential as it would be built."""
        if not has_award_rules(profile):
            return  # nothing to check: no draft to build
        draft = award_credential(
            body=body,
            subject=subject,
            issuer_profile=issuer_profile,
            achievement=achievement,
            entries=[],
            now=now,
        )
        gaps = award_gaps(profile, draft)
        if gaps:
            self.outcomes.count("award", "profile_unmet")
            raise ProfileRequirementsUnmet(
                [(_AWARD_PATHS.get(g.path, "$"), f"{profile} requires {g.element}") for g in gaps]
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

    async def _issue(
        self, tenant: str, body: AwardIn, key: str | None, request: str | None
    ) -> CredentialIssued:
        now = datetime.now(UTC).replace(microsecond=0)
        check_assessed_at(body, now)
        achievement = await self._achievement_for(tenant, body)
        identity = await self._signing_identity(tenant, achievement)
        # Everything that can refuse the award comes before any status entry is taken.
        subject = checked_subject(body)
        learner = learner_key(self.learner_keys, body.recipient)
        renewed = await self._renewed(tenant, body, learner)
        check_evidence(body)
        _check_validity(achievement, now)
        provider = await self.store.provider_of(identity.did)
        issuer_profile = await self.accreditations.profile_with(identity, provider, now)
        document = await self._with_endorsements(achievement)
        profile = provider.policy_profile if provider is not None else DEFAULT_PROFILE
        self._meets_policy(profile, body, subject, issuer_profile, document, now)
        entries, generation = await self.allocator.entries(identity.did)
        credential = award_credential(
            body=body,
            subject=subject,
            issuer_profile=issuer_profile,
            achievement=document,
            entries=entries,
            now=now,
            renewal=renewal_evidence(renewed) if renewed is not None else None,
        )
        assert identity.signing_key_id is not None
        signing_key = await self.signer.signing_key(
            identity.signing_key_id, identity.did_document, identity.signing_method_id
        )
        jwt, signed = await self.signer.sign(credential, signing_key)
        event = CredentialIssued(
            tenant=tenant,
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
            learner_key=learner,
            renews=renewed.credential_id if renewed is not None else None,
        )
        await self.allocator.still_current(generation)  # no wipe while we signed
        await self.publisher.publish(self.topic, event, key=event.credential_id)
        await self.store.save_credential(event)
        if self.registry is not None:  # searchable at once on this instance too
            await self.registry.issued(event)
        _log.info("credential.issued", credential_id=event.credential_id, issuer=identity.did)
        self.outcomes.count("award", "issued")
        return event

    async def _renewed(
        self, tenant: str, body: AwardIn, learner_key: str | None
    ) -> CredentialIssued | None:
        """The credential this award renews (domain/renewal.py), if it names one."""
        if body.renews is None:
            return None
        renews = body.renews
        # Issued a moment ago by another instance: still on its way through Kafka.
        previous = await wait_for_record(lambda: self.store.credential(renews))
        revoked = self.registry is not None and await self.registry.revoked(body.renews)
        return check_renewable(
            previous,
            tenant=tenant,
            achievement_id=body.achievementId,
            learner_key=learner_key,
            revoked=revoked,
        )


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
