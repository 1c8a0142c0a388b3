"""Changing a credential's status: record it on Kafka, then publish the list.

Invariant 4: the caller hears back only after both the `StatusChanged` event
(the record) and the new signed list snapshot (what verifiers read) were
acknowledged by Kafka. Setting an entry to the value it has is a no-op, so a
retried request never makes a second change (invariant 6); a retry with the
same Idempotency-Key gets the first answer even after a later change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.revocation.history import StatusHistory
from services.revocation.lists import CredentialRecord, ListInfo, StatusListStore
from services.revocation.publishing import ListPublisher
from shared.errors import Conflict, DomainError, NotFound
from shared.events import StatusChanged, StatusEntryRef
from shared.idempotency import IdempotencyRecords, fingerprint
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.replica_wait import DEFAULT_WAIT_SECONDS, wait_for_record, wait_for_records
from shared.status_reasons import StatusReason
from shared.web.metrics import Outcomes

_log = get_logger("revocation.changes")
CHANGED, UNCHANGED = "changed", "unchanged"


class CredentialNotFound(NotFound):
    title = "Credential not found"


class NoSuchEntry(DomainError):
    title = "No such status entry"


class RevocationIsPermanent(Conflict):
    title = "Revocation is permanent"


def change_fingerprint(credential_id: str, purpose: str, value: int) -> str:
    """What an Idempotency-Key of a status change stands for (also on replay)."""
    return fingerprint([credential_id, purpose, value])


@dataclass(frozen=True)
class Requester:
    """Who asks for a change, for the audit trail: the tenant, a fingerprint
    of its bearer token and the request id."""

    tenant: str
    actor: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class StatusChanges:
    lists: StatusListStore
    keys: IdempotencyRecords
    publishing: ListPublisher
    publisher: Publisher
    topic: str  # status.changes, with the deployment's prefix
    outcomes: Outcomes
    require_caught_up: Callable[[], None]  # raises Rebuilding
    history: StatusHistory
    # How long a look-up waits for a credential still on its way through Kafka.
    record_wait_seconds: float = DEFAULT_WAIT_SECONDS

    async def change(
        self,
        who: Requester | str,
        credential_id: str,
        purpose: str,
        status: bool,
        key: str | None,
        reason: StatusReason | None = None,
        *,
        wait: bool = True,
    ) -> bool:
        """Set the credential's `purpose` entry; True when it changed. A request
        repeating an earlier one's Idempotency-Key gets that one's answer.
        `wait=False`: an unknown credential is refused at once (the caller
        waited for it already, `wait_for_arrival`)."""
        who = who if isinstance(who, Requester) else Requester(who)
        tenant = who.tenant
        self.require_caught_up()
        await self.lists.state.require()
        record, entry, info = await self._entry(tenant, credential_id, purpose, wait)
        value = int(status)
        request = change_fingerprint(credential_id, purpose, value)
        async with self.lists.changing(*self._locked(record, entry, value)):
            if key is None:
                changed = await self._apply(who, record, entry, info, value, None, reason)
            else:
                async with self.keys.claim(tenant, key, request) as earlier:
                    if earlier is not None:
                        return earlier == CHANGED
                    changed = await self._apply(who, record, entry, info, value, key, reason)
                    answer = CHANGED if changed else UNCHANGED
                    await self.keys.remember(tenant, key, request, answer)
        if changed or await self.lists.is_dirty(info.list_id):
            await self.publishing.publish(info)
        outcome = (purpose if value else f"{purpose}_lifted") if changed else "unchanged"
        self.outcomes.count("status_change", outcome)
        return changed

    async def wait_for_arrival(self, tenant: str, credential_ids: list[str]) -> None:
        """Until the tenant's credentials among `credential_ids` are known, at
        most one deadline for them all (then `change(wait=False)` each).
        Another tenant's credential waits the same as a missing one
        (invariant 7: no timing side channel)."""

        async def own(ids: list[str]) -> dict[str, CredentialRecord]:
            found = await self.lists.credentials(ids)
            return {i: r for i, r in found.items() if r.tenant == tenant}

        await wait_for_records(own, credential_ids, self.record_wait_seconds)

    async def audit_trail(self, tenant: str, credential_id: str) -> list[dict[str, Any]]:
        """The audit trail of the tenant's credential (404 for anyone else's)."""
        self.require_caught_up()
        record = await wait_for_record(
            lambda: self._own_credential(tenant, credential_id), self.record_wait_seconds
        )
        if record is None:
            await self.lists.state.require()
            raise CredentialNotFound("no such credential for this tenant")
        return await self.history.of(credential_id)

    async def _entry(
        self, tenant: str, credential_id: str, purpose: str, wait: bool = True
    ) -> tuple[CredentialRecord, StatusEntryRef, ListInfo]:
        """The credential, its entry for `purpose` and that entry's list, for
        this tenant only."""
        # A credential awarded a moment ago may still be on its way through
        # Kafka; another tenant's waits the same (invariant 7: no timing side channel).
        record = await wait_for_record(
            lambda: self._own_credential(tenant, credential_id),
            self.record_wait_seconds if wait else 0,
        )
        if record is None:
            await self.lists.state.require()  # missing only because of a rebuild: 503
            raise CredentialNotFound("no such credential for this tenant")
        entry = record.entry_for(purpose)
        if entry is None:
            raise NoSuchEntry(f"the credential has no {purpose} status entry")
        info = await self.lists.list_info(entry.list_id)
        if info is None:  # recorded with the credential
            await self.lists.state.missing(f"status list {entry.list_id}")
        return record, entry, info

    @staticmethod
    def _locked(record: CredentialRecord, entry: StatusEntryRef, value: int) -> list[str]:
        """The lists a change holds: its own, and for a suspension's lift the
        revocation list too, so no revocation can land between the lift's
        check that the credential is not revoked and the lift itself."""
        revocation = record.entry_for("revocation")
        if entry.purpose == "suspension" and value == 0 and revocation is not None:
            return [entry.list_id, revocation.list_id]
        return [entry.list_id]

    async def _revoked(self, record: CredentialRecord) -> bool:
        entry = record.entry_for("revocation")
        return entry is not None and await self.lists.get_bit(entry.list_id, entry.index) == 1

    async def _own_credential(self, tenant: str, credential_id: str) -> CredentialRecord | None:
        record = await self.lists.credential(credential_id)
        return record if record is not None and record.tenant == tenant else None

    async def _apply(
        self,
        who: Requester,
        record: CredentialRecord,
        entry: StatusEntryRef,
        info: ListInfo,
        value: int,
        key: str | None,
        reason: StatusReason | None,
    ) -> bool:
        current = await self.lists.get_bit(entry.list_id, entry.index)
        # Bitstring Status List v1.0 §2.1: revocation cannot be reversed; nor
        # is a revoked credential reinstated by lifting its suspension.
        if entry.purpose == "revocation" and current == 1 and value == 0:
            raise RevocationIsPermanent("a revoked credential cannot be reinstated")
        if current == value:
            return False
        if entry.purpose == "suspension" and value == 0 and await self._revoked(record):
            raise RevocationIsPermanent("a revoked credential cannot be reinstated")
        change = StatusChanged(
            tenant=who.tenant,
            list_id=info.list_id,
            list_url=info.list_url,
            issuer_did=info.issuer_did,
            purpose=entry.purpose,
            index=entry.index,
            value=value,
            credential_id=record.credential_id,
            idempotency_key=key,
            reason=reason.text if reason is not None else None,
            reason_code=reason.code if reason is not None else None,
            reason_public=reason.public if reason is not None else False,
            actor=who.actor,
            request_id=who.request_id,
        )
        # Kafka first (the record, acks=all), then the local bitmap.
        await self.publisher.publish(self.topic, change, key=change.list_id)
        await self.lists.set_bit(change.list_id, change.index, change.value)
        await self.lists.mark_dirty(change.list_id)
        await self.history.record(change)
        _log.info(
            "credential.status_changed",
            credential_id=record.credential_id,
            purpose=entry.purpose,
            value=value,
        )
        return True
