"""Awarding a micro-credential: gate, allocate, sign, publish, then answer.

Invariant 2: the credential is handed back only after its `CredentialIssued`
event is acknowledged by Kafka (acks=all). Invariant 6: a retry with the same
Idempotency-Key answers the first credential, never a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from services.issuer.allocation import AllocatorNotReady
from services.issuer.domain.awarding import (
    AwardIn,
    RecipientError,
    StatusSlot,
    Subject,
    award_credential,
    request_hash,
    subject_of,
    valid_until,
)
from services.issuer.domain.gate import ScoreError, meets_mastery
from services.issuer.keys import ALLOCATOR, ISSUER_SETTINGS, SIGNER, STORE
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity
from shared.durations import PeriodError
from shared.events import AchievementPublished, CredentialIssued, StatusEntryRef
from shared.kafka.topics import CREDENTIALS_ISSUED, topic_name
from shared.logging import get_logger
from shared.replica_wait import wait_for_record
from shared.service import PRODUCER
from shared.status_lists import PURPOSES, list_url
from shared.timestamps import TimestampError, past_instant
from shared.web.body import invalid_field
from shared.web.metrics import OUTCOMES
from shared.web.problems import Problem, problem_type

_log = get_logger("issuer.awards")


def issued_response(event: CredentialIssued) -> dict[str, Any]:
    return {
        "credentialId": event.credential_id,
        "jwt": event.credential_jwt,
        "credential": event.credential_ldp,
    }


async def award(
    app: web.Application, tenant: str, body: AwardIn, key: str | None
) -> tuple[CredentialIssued, bool]:
    """The credential for this award and whether it was made now (False: a replay)."""
    if key is None:
        return await _issue(app, tenant, body, None), True
    fingerprint = request_hash(body)
    store = app[STORE]
    async with store.exclusive(tenant, key):
        earlier = await store.replayed(tenant, key)
        if earlier is not None:
            credential_id, earlier_hash = earlier
            if earlier_hash != fingerprint:
                raise Problem(
                    422,
                    "this Idempotency-Key was used for a different request",
                    title="Idempotency-Key reused",
                    type=problem_type("idempotency-key-reused"),
                )
            event = await store.credential(credential_id)
            assert event is not None
            app[OUTCOMES].count("award", "replayed")
            return event, False
        return await _issue(app, tenant, body, key, fingerprint), True


async def _achievement_for(
    app: web.Application, tenant: str, body: AwardIn
) -> AchievementPublished:
    # A just-defined achievement may still be on its way from the catalog.
    achievement = await wait_for_record(lambda: app[STORE].achievement(body.achievementId))
    if achievement is None or achievement.tenant != tenant:
        raise Problem(404, f"no achievement {body.achievementId}", title="Achievement not found")
    if achievement.status != "active":
        raise Problem(409, "this achievement is retired", title="Achievement retired")
    try:
        passed = meets_mastery(body.score, body.maxScore, achievement.mastery_threshold)
    except ScoreError as error:
        raise Problem(422, str(error), title="Invalid score") from None
    if not passed:
        app[OUTCOMES].count("award", "below_threshold")
        raise Problem(
            422,
            f"score {body.score}/{body.maxScore} is below the mastery threshold "
            f"of {achievement.mastery_threshold:.0%}",
            title="Assessment below the mastery threshold",
            type=problem_type("assessment-below-threshold"),
        )
    return achievement


async def _slots(app: web.Application, issuer_did: str) -> list[tuple[StatusSlot, StatusEntryRef]]:
    base = app[ISSUER_SETTINGS].status_base_url
    slots = []
    for purpose in PURPOSES:
        try:
            claim = await app[ALLOCATOR].allocate(issuer_did, purpose)
        except AllocatorNotReady:
            _log.error("status_allocation.state_lost")
            raise Problem(
                503,
                "the issuer is rebuilding its state; retry shortly",
                headers={"Retry-After": "1"},
            ) from None
        url = list_url(base, claim.list_id)
        slots.append(
            (
                StatusSlot(purpose, url, claim.index),
                StatusEntryRef(
                    purpose=purpose, list_id=claim.list_id, list_url=url, index=claim.index
                ),
            )
        )
    return slots


async def _signing_identity(
    app: web.Application, tenant: str, achievement: AchievementPublished
) -> IssuerIdentity:
    identity = await app[STORE].issuer(achievement.issuer_did)
    if identity is None or identity.tenant != tenant or identity.signing_key_id is None:
        raise Problem(
            409, "the achievement's issuer has no signing key here", title="Issuer unavailable"
        )
    return identity


def _check_assessed_at(body: AwardIn, now: datetime) -> None:
    if body.assessedAt is None:
        return
    try:
        past_instant(body.assessedAt, now=now)
    except TimestampError as error:
        raise invalid_field("$.assessedAt", str(error)) from None


def _check_validity(achievement: AchievementPublished, now: datetime) -> None:
    # The catalog refuses such periods; one stored before it did must not
    # cost status entries or a 500.
    try:
        valid_until(dict(achievement.achievement), now)
    except PeriodError as error:
        raise Problem(
            409,
            f"the achievement's validityPeriod is unusable: {error}",
            title="Invalid achievement",
        ) from None


def _subject(body: AwardIn) -> Subject:
    try:
        return subject_of(body.recipient)
    except RecipientError as error:
        raise Problem(422, str(error), title="Invalid recipient") from None


async def _issue(
    app: web.Application,
    tenant: str,
    body: AwardIn,
    key: str | None,
    fingerprint: str | None = None,
) -> CredentialIssued:
    now = datetime.now(UTC).replace(microsecond=0)
    _check_assessed_at(body, now)
    achievement = await _achievement_for(app, tenant, body)
    identity = await _signing_identity(app, tenant, achievement)
    # Everything that can refuse the award comes before any status entry is taken.
    subject = _subject(body)
    _check_validity(achievement, now)
    slots = await _slots(app, identity.did)
    credential = award_credential(
        body=body,
        subject=subject,
        issuer_profile=identity.profile,
        achievement=dict(achievement.achievement),
        slots=[slot for slot, _ in slots],
        now=now,
    )
    assert identity.signing_key_id is not None
    signing_key = await app[SIGNER].signing_key(identity.signing_key_id, identity.did_document)
    jwt, signed = Signer.sign(credential, signing_key)
    event = CredentialIssued(
        tenant=tenant,
        credential_id=credential["id"],
        issuer_did=identity.did,
        achievement_id=achievement.achievement_id,
        credential_jwt=jwt,
        status_entries=[ref for _, ref in slots],
        idempotency_key=key,
        request_hash=fingerprint,
        valid_until=credential.get("validUntil"),
        credential_ldp=signed,
    )
    settings = app[ISSUER_SETTINGS]
    await app[PRODUCER].publish(
        topic_name(settings.common, CREDENTIALS_ISSUED), event, key=event.credential_id
    )
    await app[STORE].save_credential(event)
    _log.info("credential.issued", credential_id=event.credential_id, issuer=identity.did)
    app[OUTCOMES].count("award", "issued")
    return event
