"""Changing a credential's status: record it on Kafka, then publish the list.

Invariant 4: the caller hears back only after both the `StatusChanged` event
(the record) and the new signed list snapshot (what verifiers read) were
acknowledged by Kafka. Setting an entry to the value it has is a no-op, so a
retried request never makes a second change (invariant 6).
"""

from __future__ import annotations

from aiohttp import web

from services.revocation.keys import LISTS, REVOCATION_SETTINGS
from services.revocation.publishing import publish_list
from shared.events import StatusChanged
from shared.kafka.topics import STATUS_CHANGES, topic_name
from shared.logging import get_logger
from shared.replica_wait import wait_for_record
from shared.service import PRODUCER
from shared.web.problems import Problem

_log = get_logger("revocation.changes")


async def change_status(
    app: web.Application, tenant: str, credential_id: str, purpose: str, status: bool
) -> bool:
    """Set the credential's `purpose` entry; True when it changed."""
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
    value = int(status)
    async with lists.changing(entry.list_id):
        current = await lists.get_bit(entry.list_id, entry.index)
        if purpose == "revocation" and current == 1 and value == 0:
            # Bitstring Status List v1.0 §2.1: revocation cannot be reversed.
            raise Problem(
                409, "a revoked credential cannot be reinstated", title="Revocation is permanent"
            )
        if current != value:
            event = StatusChanged(
                tenant=tenant,
                list_id=info.list_id,
                list_url=info.list_url,
                issuer_did=info.issuer_did,
                purpose=purpose,
                index=entry.index,
                value=value,
                credential_id=credential_id,
            )
            settings = app[REVOCATION_SETTINGS]
            topic = topic_name(settings.common, STATUS_CHANGES)
            await app[PRODUCER].publish(topic, event, key=info.list_id)
            await lists.set_bit(entry.list_id, entry.index, value)
            await lists.mark_dirty(entry.list_id)
            _log.info(
                "credential.status_changed",
                credential_id=credential_id,
                purpose=purpose,
                value=value,
            )
    if current != value or await lists.is_dirty(info.list_id):
        await publish_list(app, info)
    return current != value
