"""VC-API `POST /credentials/issue` (W3C VCALM §3.3 "Issue Credential").

The caller (a tenant) sends an unsigned credential naming one of its
issuers; the answer is exactly `201 {"verifiableCredential": ...}`:

- an Open Badge (`OpenBadgeCredential`/`AchievementCredential`) about one of
  our achievements is an award: the same mastery gate as `POST /awards`
  (`options.assessment`), and the credential is the one the award builds;
- any other VC 2.0 or VC 1.1 credential is signed as given, only for an
  issuer whose provider the operator enabled for generic issuance
  (`PUT /providers/{key}/generic-issuance` on the catalog).

Signed with `eddsa-rdfc-2022` (VC Data Integrity; the Data Integrity context
is added to VC 1.1 input), or as a VC-JWT (VC-JOSE-COSE, VC 2.0 only) in an
`EnvelopedVerifiableCredential` when `options.securingMechanism` is
`VC-JWT`. `options.credentialStatus` adds `BitstringStatusListEntry`s of the
issuer's own lists (the allocation `/awards` uses), served by the revocation
service. Like an award, the answer comes after `CredentialIssued` is
acknowledged by Kafka, and an Idempotency-Key makes a retry answer the same
credential.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from services.issuer.allocation import StatusAllocator
from services.issuer.awards import Issuance
from services.issuer.domain.awarding import AwardIn, RecipientIn
from services.issuer.domain.errors import IssuerNotFound
from services.issuer.domain.vc_input import (
    BITSTRING_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    InvalidCredential,
    IssueCredentialIn,
    IssueOptions,
    achievement_id,
    check_credential_id_option,
    checked_credential,
    is_open_badge,
    is_vc1,
    with_context,
)
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.data_integrity import (
    issuer_id,
    sign_data_integrity,
    signs_data_integrity,
)
from shared.credentials.errors import CredentialError
from shared.credentials.jsonld import ContextRegistry, default_registry
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.status_list import status_entry
from shared.errors import Conflict, DomainError
from shared.events import AchievementPublished, CredentialIssued, StatusEntryRef
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.web.metrics import Outcomes

_log = get_logger("issuer.vc_api")
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class GenericIssuanceNotEnabled(DomainError):
    """Only Open Badges of the tenant's own achievements, unless the operator
    enabled the issuer's provider for other credential types."""

    status = 403
    title = "Generic issuance not enabled"
    problem = "generic-issuance-not-enabled"


class AssessmentRequired(DomainError):
    title = "Assessment required"
    problem = "assessment-required"


class CredentialIdTaken(Conflict):
    """Credential ids name one credential: the status API finds it by its id."""

    title = "Credential id already issued"
    problem = "credential-id-taken"


class CannotSign(DomainError):
    """The credential cannot be secured as asked (e.g. a term no context defines)."""

    title = "Credential cannot be signed"
    problem = "invalid-credential"


@dataclass(frozen=True)
class VcApiIssuance:
    """The VC-API issue use case, with its dependencies made explicit."""

    store: IssuerStore
    allocator: StatusAllocator
    signer: Signer
    publisher: Publisher
    topic: str  # credentials.issued
    awards: Issuance
    outcomes: Outcomes
    require_caught_up: Callable[[], None]
    # The bundled contexts (with the W3C example ones only when
    # MICROCRED_JSONLD_EXAMPLE_CONTEXTS is on: settings.py).
    contexts: ContextRegistry = field(default_factory=default_registry)

    async def issue(self, tenant: str, body: IssueCredentialIn, key: str | None) -> dict[str, Any]:
        """The `verifiableCredential` to answer."""
        self.require_caught_up()
        await self.store.state.require()
        achievement = await self._our_achievement(tenant, body.credential)
        if achievement is not None:
            award = _award_in(body.credential, achievement, body)
            event, _ = await self.awards.award(tenant, award, key, source="vc-api")
            return _answer(event, body.options)
        check_credential_id_option(body.options)
        credential = checked_credential(body.credential)
        identity = await self._issuer(tenant, credential)
        await self._generic_allowed(identity)

        async def issue(key: str | None, request: str | None) -> CredentialIssued:
            return await self._sign(tenant, identity, credential, body.options, key, request)

        event, _ = await self.store.award_idempotency.once(
            tenant, key, fingerprint(["vc-api", body]), issue, self.store.credential
        )
        return _answer(event, body.options)

    async def _issuer(self, tenant: str, credential: dict[str, Any]) -> IssuerIdentity:
        did = issuer_id(credential) or ""
        identity = await self.store.issuer(did)
        if identity is None:
            await self.store.state.require()
        if identity is None or identity.tenant != tenant or identity.signing_key_id is None:
            raise IssuerNotFound(f"no issuer {did} of this tenant signs here")
        return identity

    async def _our_achievement(
        self, tenant: str, credential: dict[str, Any]
    ) -> AchievementPublished | None:
        """The achievement when this is an Open Badge of one of the tenant's
        own: an award. Another tenant's is refused, also for generic issuance:
        such a badge would pass itself off as that issuer's (our verifier flags
        it as an impersonation). Achievements are public (`GET /achievements/
        {key}` on the catalog), so saying so tells nothing new."""
        found = achievement_id(credential)
        if not is_open_badge(credential) or found is None:
            return None
        achievement = await self.store.achievement(found)
        if achievement is not None and achievement.tenant != tenant:
            raise InvalidCredential(
                f"the achievement {found} is another issuer's on this platform",
                [
                    {
                        "path": "$.credential.credentialSubject.achievement.id",
                        "message": "another issuer's achievement",
                    }
                ],
            )
        return achievement

    async def _generic_allowed(self, identity: IssuerIdentity) -> None:
        provider = await self.store.provider_of(identity.did)
        if provider is None or not provider.generic_issuance or provider.status != "active":
            raise GenericIssuanceNotEnabled(
                "this issuer may issue only Open Badges of its own achievements here: the "
                "platform operator has not enabled its provider for other credentials"
            )

    async def _sign(
        self,
        tenant: str,
        identity: IssuerIdentity,
        credential: dict[str, Any],
        options: IssueOptions,
        key: str | None,
        request: str | None,
    ) -> CredentialIssued:
        vc1 = is_vc1(credential)
        if vc1 and options.securingMechanism == "VC-JWT":
            raise CannotSign("VC-JWT (VC-JOSE-COSE) secures VC 2.0 credentials only")
        if vc1:
            with_context(credential, DATA_INTEGRITY_CONTEXT)
        if options.credentialId is not None and "id" not in credential:
            credential["id"] = options.credentialId
        credential_id = credential.get("id")
        async with self._unique_id(credential_id):
            entries, generation = await self._entries(identity.did, options)
            if entries:
                if vc1:
                    with_context(credential, BITSTRING_CONTEXT)
                if not isinstance(credential_id, str):
                    # The status API names a credential by its id (VCALM §3.5).
                    credential["id"] = credential_id = f"urn:uuid:{uuid.uuid4()}"
                listed = [status_entry(e.list_url, e.index, e.purpose) for e in entries]
                credential["credentialStatus"] = listed[0] if len(listed) == 1 else listed
            assert identity.signing_key_id is not None
            signing_key = await self.signer.signing_key(
                identity.signing_key_id, identity.did_document, identity.signing_method_id
            )
            jwt_only = options.securingMechanism == "VC-JWT"
            if not signs_data_integrity(signing_key) and (vc1 or not jwt_only):
                raise CannotSign(
                    f"this issuer's key signs {signing_key.alg} VC-JWTs only (there is no "
                    "RSA Data Integrity cryptosuite): ask for securingMechanism VC-JWT"
                )
            try:
                signed = (
                    sign_data_integrity(credential, signing_key, contexts=self.contexts)
                    if signs_data_integrity(signing_key)
                    else None
                )
                jwt = sign_vc_jwt(credential, signing_key) if not vc1 else ""
            except CredentialError as error:
                raise CannotSign(f"{error.detail} (at {error.path or '$'})") from None
            await self.store.still_signing_with(identity)
            event = CredentialIssued(
                tenant=tenant,
                credential_id=credential_id
                if isinstance(credential_id, str)
                else f"urn:uuid:{uuid.uuid4()}",
                issuer_did=identity.did,
                achievement_id="",  # not an award
                credential_jwt=jwt,
                status_entries=entries,
                idempotency_key=key,
                request_hash=request,
                valid_until=credential.get("validUntil") or credential.get("expirationDate"),
                credential_ldp=signed,
            )
            if generation is not None:
                await self.allocator.still_current(generation)  # no wipe while we signed
            await self.publisher.publish(self.topic, event, key=event.credential_id)
            await self.store.save_credential(event)
            _log.info("credential.issued", credential_id=event.credential_id, issuer=identity.did)
            self.outcomes.count("vc_api_issue", "issued")
            return event

    @contextlib.asynccontextmanager
    async def _unique_id(self, credential_id: object) -> AsyncIterator[None]:
        """Holds a caller-given credential id from the check that it is free
        until its credential is stored: one credential per id, also for
        requests naming it at the same moment (a lease across instances)."""
        if not isinstance(credential_id, str):
            yield
            return
        async with self.store.credential_id_lease(credential_id):
            if await self.store.credential(credential_id):
                raise CredentialIdTaken(f"a credential {credential_id} was issued here already")
            yield

    async def _entries(
        self, did: str, options: IssueOptions
    ) -> tuple[list[StatusEntryRef], str | None]:
        asked = options.credentialStatus
        if asked is None:
            return [], None
        if asked.statusPurpose is None:
            return await self.allocator.entries(did)
        entry, generation = await self.allocator.allocate(did, asked.statusPurpose)
        return [entry], generation


def _award_in(
    credential: dict[str, Any],
    achievement: AchievementPublished,
    body: IssueCredentialIn,
) -> AwardIn:
    """The award an Open Badge of one of our achievements stands for: the
    award builds the credential (our achievement, our issuer profile); the
    request names the issuer, the learner and the assessment."""
    if issuer_id(credential) != achievement.issuer_did:
        raise InvalidCredential(
            f"the achievement {achievement.achievement_id} is not this issuer's",
            [{"path": "$.credential.issuer", "message": "not the achievement's issuer"}],
        )
    named = [
        path
        for path, given in (
            ("$.credential.id", credential.get("id")),
            ("$.options.credentialId", body.options.credentialId),
        )
        if given is not None
    ]
    if named:  # it would not be the id of what we sign (nor the status API's)
        raise InvalidCredential(
            "an award's credential id is made by the award (the answer names it)",
            [{"path": path, "message": "leave out for an award"} for path in named],
        )
    assessment = body.options.assessment
    if assessment is None:
        raise AssessmentRequired(
            "an Open Badge of one of our achievements is an award: give "
            "options.assessment {score, maxScore?, assessedAt?} (the mastery gate)"
        )
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if not isinstance(subject_id, str):
        raise AssessmentRequired("the learner is credentialSubject.id (a DID or URI)")
    return AwardIn(
        achievementId=achievement.achievement_id,
        recipient=RecipientIn(id=subject_id),
        score=assessment.score,
        maxScore=assessment.maxScore,
        assessedAt=assessment.assessedAt,
    )


def _answer(event: CredentialIssued, options: IssueOptions) -> dict[str, Any]:
    # An RSA issuer's award has no Data Integrity form: its VC-JWT answers.
    jwt_only = event.credential_ldp is None
    if (options.securingMechanism == "VC-JWT" or jwt_only) and event.credential_jwt:
        envelope = {
            "@context": [VC_V2_CONTEXT],
            "type": "EnvelopedVerifiableCredential",
            "id": f"data:application/vc+jwt,{event.credential_jwt}",
        }
        return {"verifiableCredential": envelope}
    return {"verifiableCredential": event.credential_ldp}
