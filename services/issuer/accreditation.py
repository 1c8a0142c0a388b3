"""Accreditation travels with the credential, signed by the operator.

The platform operator has one identity: a did:key whose key is in the
issuer's key store (keys never leave it, architecture §5), created the first
time it is needed and announced on `issuer.profiles` with role `operator`,
so the verifier learns which DID the operator's endorsements come from.
A did:key, not a did:web: a verifier that knows nothing about us can check
the endorsement offline.

For every accreditation in force of the provider that lists an issuer, the
issuer profile of each credential carries an OB 3.0 EndorsementCredential
(§B.1.6) signed by the operator (eddsa-rdfc-2022), and lists the
accreditors with the Issuer Accreditation Extension 2.0. The endorsement is
a pure function of the provider's record, the operator's key and its status
entry (ids, dates and the proof's `created` all come from the accreditation;
Ed25519 and RDFC-1.0 are deterministic), so every issuer replica produces
the same bytes. A withdrawn or suspended accreditation (or provider) is no
longer embedded.

The endorsement carries a `credentialStatus` (Bitstring Status List v1.0
§2.1, purpose `revocation`) in the operator's own status lists, so a
verifier that knows nothing about us sees a withdrawal too: the entry is
claimed once per endorsement (under a lease, like any status index, and
never handed out again: invariant 1) and published as
`AccreditationStatusAssigned` on `issuer.endorsements`; the revocation
service sets it when the operator withdraws the accreditation or the
provider.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from services.issuer.allocation import StatusAllocator
from services.issuer.signing import Signer
from services.issuer.store import IssuerIdentity, IssuerStore
from shared.credentials.builders import build_profile, format_datetime
from shared.credentials.crypto_keys import SigningKey
from shared.credentials.data_integrity import sign_data_integrity
from shared.credentials.endorsements import (
    accredited_profile,
    build_accreditation_profile,
    build_endorsement,
)
from shared.credentials.status_list import status_entry
from shared.events import (
    AccreditationStatusAssigned,
    IssuerProfilePublished,
    ProviderAccreditation,
    ProviderPublished,
    StatusEntryRef,
)
from shared.kafka.producer import Publisher
from shared.logging import get_logger

OPERATOR_TENANT = "@operator"  # no API token names a tenant with an "@"
_NAMESPACE = uuid.UUID("5b0c3f0e-4c1a-4a55-9a53-6d1f3c0de7a1")
_log = get_logger("issuer.accreditation")


def in_force(accreditation: ProviderAccreditation, now: str) -> bool:
    if accreditation.status != "active" or now < accreditation.valid_from:
        return False
    return accreditation.valid_until is None or now < accreditation.valid_until


def _scope_text(accreditation: ProviderAccreditation) -> str:
    scope = accreditation.scope
    parts = [
        f"EQF levels {', '.join(map(str, scope.eqf_levels))}" if scope.eqf_levels else "",
        f"fields {', '.join(scope.fields_of_study)}" if scope.fields_of_study else "",
        f"achievement types {', '.join(scope.achievement_types)}"
        if scope.achievement_types
        else "",
    ]
    return "; ".join(p for p in parts if p) or "any level, field and type"


def endorsement_comment(provider: ProviderPublished, accreditation: ProviderAccreditation) -> str:
    """Only what the operator recorded: the provider edits its own name and
    country after accreditation, so they stay out of the operator's signature."""
    until = f" until {accreditation.valid_until}" if accreditation.valid_until else ""
    return (
        f"The provider {provider.provider_id} is accredited by "
        f"{accreditation.quality_assurance_body} (accreditation {accreditation.accreditation_id}) "
        f"for {_scope_text(accreditation)}, from {accreditation.valid_from}{until}, "
        "as recorded by the platform operator in its provider registry."
    )


def endorsement_id(
    provider: ProviderPublished, accreditation: ProviderAccreditation, issuer_did: str
) -> str:
    """The id of the operator's endorsement of `issuer_did` for this accreditation."""
    name = f"{provider.provider_id}|{accreditation.accreditation_id}|{issuer_did}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def accreditation_endorsement(
    provider: ProviderPublished,
    accreditation: ProviderAccreditation,
    issuer_did: str,
    operator: dict[str, Any],
    key: SigningKey,
    status: StatusEntryRef,
    memo: SignedOnce | None = None,
) -> dict[str, Any]:
    """The operator's signed EndorsementCredential about `issuer_did`, with
    its revocation entry (`memo`: signed once per content)."""
    unsigned = build_endorsement(
        id=endorsement_id(provider, accreditation, issuer_did),
        issuer=operator,
        subject_id=issuer_did,
        comment=endorsement_comment(provider, accreditation),
        valid_from=accreditation.valid_from,
        valid_until=accreditation.valid_until,
        name=f"Accreditation by {accreditation.quality_assurance_body}",
        credential_status=status_entry(status.list_url, status.index, status.purpose),
    )
    created = datetime.fromisoformat(accreditation.valid_from.replace("Z", "+00:00"))
    if memo is not None:
        return memo.sign(unsigned, key, created)
    return sign_data_integrity(unsigned, key, created=created)


class SignedOnce:
    """Endorsements signed before, by content: an eddsa-rdfc-2022 proof over
    the same document with the same key and `created` is the same bytes
    (Ed25519 signatures are deterministic, RFC 8032 §5.1.6), so each is
    signed once, not on every award of an accredited provider (RDFC-1.0 and
    the signature took about 4 ms of the issuer's event loop per award).
    A new key (rotation, compromise) or any change to the document is a new
    entry; the `entries` most recent are kept."""

    def __init__(self, entries: int = 256) -> None:
        self._entries = entries
        self._signed: OrderedDict[bytes, bytes] = OrderedDict()

    def sign(self, unsigned: dict[str, Any], key: SigningKey, created: datetime) -> dict[str, Any]:
        what = [unsigned, key.kid, created.isoformat()]
        name = hashlib.sha256(orjson.dumps(what, option=orjson.OPT_SORT_KEYS)).digest()
        found = self._signed.get(name)
        if found is None:
            found = orjson.dumps(sign_data_integrity(unsigned, key, created=created))
            self._signed[name] = found
            while len(self._signed) > self._entries:
                self._signed.popitem(last=False)
        else:
            self._signed.move_to_end(name)
        return dict(orjson.loads(found))  # a copy of its own for each credential


def accreditor(accreditation: ProviderAccreditation) -> dict[str, Any]:
    body = accreditation.quality_assurance_body
    return build_accreditation_profile(
        id=accreditation.quality_assurance_body_url
        or f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'qa-body|' + body)}",
        name=body,
        url=accreditation.quality_assurance_body_url,
        accreditation_date=accreditation.valid_from,
    )


@dataclass(frozen=True)
class Accreditations:
    store: IssuerStore
    signer: Signer
    publisher: Publisher
    topic: str  # issuer.profiles, with the deployment's prefix
    operator_name: str
    operator_url: str
    allocator: StatusAllocator
    endorsements_topic: str  # issuer.endorsements, with the deployment's prefix
    signed_once: SignedOnce = field(default_factory=SignedOnce)

    async def profile_for(self, identity: IssuerIdentity, now: datetime) -> dict[str, Any]:
        """The issuer's profile with its accreditations in force, each with
        the operator's endorsement; unchanged when there are none."""
        return await self.profile_with(identity, await self.store.provider_of(identity.did), now)

    async def profile_with(
        self, identity: IssuerIdentity, provider: ProviderPublished | None, now: datetime
    ) -> dict[str, Any]:
        """`profile_for`, with the provider listing the issuer already read."""
        if provider is None or provider.tenant != identity.tenant or provider.status != "active":
            return identity.profile
        moment = format_datetime(now)
        current = [a for a in provider.accreditations if in_force(a, moment)]
        if not current:
            return identity.profile
        operator, key = await self.operator_key()
        endorsements = [
            accreditation_endorsement(
                provider,
                a,
                identity.did,
                operator.profile,
                key,
                await self._status(provider, a, identity.did, operator.did),
                self.signed_once,
            )
            for a in current
        ]
        return accredited_profile(identity.profile, [accreditor(a) for a in current], endorsements)

    async def _status(
        self,
        provider: ProviderPublished,
        accreditation: ProviderAccreditation,
        issuer_did: str,
        operator_did: str,
    ) -> StatusEntryRef:
        """The endorsement's revocation entry, claimed the first time (one
        claim per endorsement across issuer instances: under its lease)."""
        key = endorsement_id(provider, accreditation, issuer_did)
        found = await self.store.accreditation_status(key)
        if found is not None:
            return found.entry
        async with self.store.issuer_lease(key):
            found = await self.store.accreditation_status(key)
            if found is not None:
                return found.entry
            entry, generation = await self.allocator.allocate(operator_did, "revocation")
            event = AccreditationStatusAssigned(
                endorsement_id=key,
                operator_did=operator_did,
                provider_id=provider.provider_id,
                accreditation_id=accreditation.accreditation_id,
                issuer_did=issuer_did,
                entry=entry,
            )
            await self.allocator.still_current(generation)  # no wipe since the claim
            await self.publisher.publish(self.endorsements_topic, event, key=key)
            await self.store.save_accreditation_status(event)
            return entry

    async def operator_key(self) -> tuple[IssuerIdentity, SigningKey]:
        """The operator's identity and its signing key (from the key store)."""
        operator = await self.operator()
        assert operator.signing_key_id is not None
        key = await self.signer.signing_key(
            operator.signing_key_id, operator.did_document, operator.signing_method_id
        )
        return operator, key

    async def operator(self) -> IssuerIdentity:
        """The operator's identity, created once (under a lease shared by
        every issuer instance) and announced on `issuer.profiles`."""
        identity = await self._current_operator()
        if identity is not None:
            return identity
        async with self.store.issuer_lease(OPERATOR_TENANT):
            return await self._current_operator() or await self._create_operator()

    async def _current_operator(self) -> IssuerIdentity | None:
        did = await self.store.operator_did()
        return None if did is None else await self.store.issuer(did)

    async def _create_operator(self) -> IssuerIdentity:
        key_id, did, did_document = await self.signer.create_identity(OPERATOR_TENANT)
        profile = build_profile(did, self.operator_name, url=self.operator_url)
        event = IssuerProfilePublished(
            tenant=OPERATOR_TENANT,
            did=did,
            profile=profile,
            did_document=did_document,
            signing_key_id=key_id,
            role="operator",
        )
        await self.publisher.publish(self.topic, event, key=did)
        await self.store.save_issuer(event)
        _log.info("operator.identity_created", issuer=did)
        return IssuerIdentity(did, OPERATOR_TENANT, key_id, profile, did_document)
