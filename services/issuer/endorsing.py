"""Employer endorsements: an endorser (its own token, its own DID) signs an
OB 3.0 EndorsementCredential about an achievement, saying why the skill
matters. The endorser's did:key is created on its first endorsement, with
the key in the issuer's key store (keys never leave it), and announced on
`issuer.profiles` with role `endorser`; the endorsement is published on
`issuer.endorsements`, from which the issuer embeds it in every credential
awarding the achievement and the catalog shows it with the achievement.
One endorsement per endorser and achievement: a newer one supersedes (and
withdraws) the earlier; a credential carries the newest
`MAX_EMBEDDED_ENDORSEMENTS` (shared.endorsement_index). Idempotent by
Idempotency-Key like every write.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import msgspec

from services.issuer.domain.errors import AchievementNotFound
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore, endorser_tenant
from shared.credentials.builders import build_profile, format_datetime
from shared.credentials.endorsements import build_endorsement
from shared.errors import NotFound
from shared.events import EndorsementPublished, IssuerProfilePublished, KeyedWrite, next_record
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.replica_wait import wait_for_record

_log = get_logger("issuer.endorsing")


class EndorsementNotFound(NotFound):
    title = "Endorsement not found"


class EndorsementIn(msgspec.Struct, forbid_unknown_fields=True):
    achievementId: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    # Why the skill matters to the labour market: the endorsementComment.
    claim: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


@dataclass(frozen=True)
class Endorsing:
    store: IssuerStore
    signer: Signer
    publisher: Publisher
    profiles_topic: str  # issuer.profiles, with the deployment's prefix
    topic: str  # issuer.endorsements, with the deployment's prefix
    require_caught_up: Callable[[], None]  # raises Rebuilding

    async def endorse(
        self, endorser: str, body: EndorsementIn, key: str | None
    ) -> tuple[EndorsementPublished, bool]:
        self.require_caught_up()
        await self.store.state.require()

        async def create(key: str | None, request: str | None) -> EndorsementPublished:
            return await self._create(endorser, body, key, request)

        tenant = endorser_tenant(endorser)
        records = self.store.endorsement_idempotency
        return await records.once(
            tenant, key, fingerprint(body), create, self.store.endorsements.get
        )

    async def withdraw(
        self, endorser: str, endorsement_id: str, key: str | None
    ) -> tuple[EndorsementPublished, bool]:
        """The endorser withdraws its own endorsement (another's: 404): no
        longer shown with the achievement nor put in new credentials."""
        self.require_caught_up()
        await self.store.state.require()
        tenant = endorser_tenant(endorser)

        async def create(key: str | None, request: str | None) -> EndorsementPublished:
            current = await self.store.endorsements.get(endorsement_id)
            if current is None or current.endorser != endorser:
                raise EndorsementNotFound(f"no endorsement {endorsement_id} of yours")
            if current.status == "withdrawn":
                return current
            return await self._withdrawn(current, key, request)

        records = self.store.withdrawal_idempotency
        request = fingerprint(["withdraw", endorsement_id])
        return await records.once(tenant, key, request, create, self.store.endorsements.get)

    async def _create(
        self, endorser: str, body: EndorsementIn, key: str | None, request: str | None
    ) -> EndorsementPublished:
        achievement = await wait_for_record(lambda: self.store.achievement(body.achievementId))
        if achievement is None or achievement.status != "active":
            await self.store.state.require()
            raise AchievementNotFound(f"no active achievement {body.achievementId}")
        identity = await self.identity(endorser)
        assert identity.signing_key_id is not None
        signing_key = await self.signer.signing_key(
            identity.signing_key_id, identity.did_document, identity.signing_method_id
        )
        name = achievement.achievement.get("name")
        unsigned = build_endorsement(
            id=f"urn:uuid:{uuid.uuid4()}",
            issuer=identity.profile,
            subject_id=achievement.achievement_id,
            comment=body.claim,
            valid_from=format_datetime(datetime.now(UTC)),
            name=f"{endorser} endorses {name}",
        )
        jwt, signed = await self.signer.sign(unsigned, signing_key)
        assert signed is not None, "endorser keys are Ed25519 (create_identity's default)"
        event = EndorsementPublished(
            endorser=endorser,
            endorser_did=identity.did,
            endorsement_id=str(unsigned["id"]),
            achievement_id=achievement.achievement_id,
            credential_ldp=signed,
            credential_jwt=jwt,
            idempotency_key=key,
            request_hash=request,
        )
        await self.publisher.publish(self.topic, event, key=event.endorsement_id)
        await self.store.save_endorsement(event)
        _log.info("endorsement.published", issuer=identity.did)
        await self._supersede(event)
        return event

    async def _supersede(self, newer: EndorsementPublished) -> None:
        """One endorsement per endorser and achievement: its earlier ones are
        withdrawn (until they are, `current_endorsements` leaves them out)."""
        for earlier in await self.store.endorsements.active(newer.achievement_id):
            if (
                earlier.endorser == newer.endorser
                and earlier.endorsement_id != newer.endorsement_id
            ):
                await self._withdrawn(earlier, None, None)

    async def _withdrawn(
        self, current: EndorsementPublished, key: str | None, request: str | None
    ) -> EndorsementPublished:
        """Publish the endorsement's withdrawal (under `key`, if any)."""
        writes = list(current.writes)
        if key is not None and request is not None:
            writes.append(
                KeyedWrite(scope="withdrawals", idempotency_key=key, request_hash=request)
            )
        event = next_record(current, status="withdrawn", writes=writes)
        await self.publisher.publish(self.topic, event, key=current.endorsement_id)
        await self.store.save_endorsement(event)
        return event

    async def identity(self, endorser: str) -> IssuerIdentity:
        """The endorser's identity, created once (under a lease)."""
        tenant = endorser_tenant(endorser)
        found = await self._current(endorser)
        if found is not None:
            return found
        async with self.store.issuer_lease(tenant):
            found = await self._current(endorser)
            if found is not None:
                return found
            key_id, did, did_document = await self.signer.create_identity(tenant)
            profile = build_profile(did, endorser)
            event = IssuerProfilePublished(
                tenant=tenant,
                did=did,
                profile=profile,
                did_document=did_document,
                signing_key_id=key_id,
                role="endorser",
            )
            await self.publisher.publish(self.profiles_topic, event, key=did)
            await self.store.save_issuer(event)
            return IssuerIdentity(did, tenant, key_id, profile, did_document)

    async def _current(self, endorser: str) -> IssuerIdentity | None:
        did = await self.store.endorser_did(endorser_tenant(endorser))
        return None if did is None else await self.store.issuer(did)
