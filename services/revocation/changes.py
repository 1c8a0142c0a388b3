"""Changing a credential's status: record it on Kafka, then publish the list.

Invariant 4: the caller hears back only after both the `StatusChanged` event
(the record) and the new signed list snapshot (what verifiers read) were
acknowledged by Kafka. Setting an entry to the value it has is a no-op, so a
retried request never makes a second change (invariant 6); a retry with the
same Idempotency-Key gets the first answer even after a later change.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from services.revocation.idempotency import KeyedChange, StatusKeys
from services.revocation.keys import LISTS, REVOCATION_SETTINGS
from services.revocation.lists import EntryRecord, ListInfo
from services.revocation.publishing import publish_list
from shared.events import StatusChanged
from shared.kafka.topics import STATUS_CHANGES, topic_name
from shared.logging import get_logger
from shared.replica_wait import wait_for_record
from shared.service import PRODUCER, REDIS
from shared.web.metrics import OUTCOMES
from shared.web.problems import Problem, problem_type

_log = get_logger("revocation.changes")


def _status_keys(app: web.Application) -> StatusKeys:
    return StatusKeys(app[REDIS], app[REVOCATION_SETTINGS].common.redis_prefix)


async def _first_answer(
    keys: StatusKeys, tenant: str, key: str | None, request: KeyedChange
) -> bool | None:
    """The first answer given to this Idempotency-Key, if it was used before."""
    earlier = await keys.first_use(tenant, key) if key is not None else None
    if earlier is None:
        return None
    if not earlier.same_request(request.credential_id, request.purpose, request.value):
        raise Problem(
            422,
            "this Idempotency-Key was used for a different request",
            title="Idempotency-Key reused",
            type=problem_type("idempotency-key-reused"),
        )
    return earlier.changed


async def _entry(
    app: web.Application, tenant: str, credential_id: str, purpose: str
) -> tuple[EntryRecord, ListInfo]:
    """The credential's entry for `purpose` and its list, for this tenant only."""
    lists = app[LISTS]
    # A credential awarded a moment ago may still be on its way through Kafka.
    record = await wait_for_record(lambda: lists.credential(credential_id))
    if record is None or record.tenant != tenant:  # invariant 7: others' look unknown
        raise Problem(404, "no such credential for this tenant", title="Credential not found")
    entry = record.entry_for(purpose)
    if entry is None:
        raise Problem(422, f"the credential has no {purpose} status entry")
    info = await lists.list_info(entry.list_id)
    assert info is not None, "lists are recorded with their credentials"
    return entry, info


async def _record_change(app: web.Application, change: StatusChanged) -> None:
    """Kafka first (the record, acks=all), then the local bitmap."""
    settings = app[REVOCATION_SETTINGS]
    topic = topic_name(settings.common, STATUS_CHANGES)
    await app[PRODUCER].publish(topic, change, key=change.list_id)
    await app[LISTS].set_bit(change.list_id, change.index, change.value)
    await app[LISTS].mark_dirty(change.list_id)
    _log.info(
        "credential.status_changed",
        credential_id=change.credential_id,
        purpose=change.purpose,
        value=change.value,
    )


async def change_status(
    app: web.Application,
    tenant: str,
    credential_id: str,
    purpose: str,
    status: bool,
    key: str | None = None,
) -> bool:
    """Set the credential's `purpose` entry; True when it changed. A request
    repeating an earlier one's Idempotency-Key gets that one's answer."""
    lists = app[LISTS]
    entry, info = await _entry(app, tenant, credential_id, purpose)
    value = int(status)
    keys, request = _status_keys(app), KeyedChange(credential_id, purpose, value, changed=False)
    async with lists.changing(entry.list_id):
        first = await _first_answer(keys, tenant, key, request)
        if first is not None:
            return first
        current = await lists.get_bit(entry.list_id, entry.index)
        if purpose == "revocation" and current == 1 and value == 0:
            # Bitstring Status List v1.0 §2.1: revocation cannot be reversed.
            raise Problem(
                409, "a revoked credential cannot be reinstated", title="Revocation is permanent"
            )
        changed = current != value
        if changed:
            await _record_change(
                app,
                StatusChanged(
                    tenant=tenant,
                    list_id=info.list_id,
                    list_url=info.list_url,
                    issuer_did=info.issuer_did,
                    purpose=purpose,
                    index=entry.index,
                    value=value,
                    credential_id=credential_id,
                    idempotency_key=key,
                ),
            )
        if key is not None:
            await keys.remember(tenant, key, replace(request, changed=changed))
    if changed or await lists.is_dirty(info.list_id):
        await publish_list(app, info)
    outcome = (purpose if value else f"{purpose}_lifted") if changed else "unchanged"
    app[OUTCOMES].count("status_change", outcome)
    return changed
