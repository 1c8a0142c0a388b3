"""Key rotation and compromise of a platform-hosted did:web issuer.

Rotation: a new key from the key store signs from now on; the DID document
keeps the old verification methods under `assertionMethod`, so credentials
they signed keep verifying. Compromise: the method gets a `revoked` time
(`shared.credentials.did_documents`); proofs it made at or after that time
no longer verify. Marking the current key compromised rotates in the same
step, so a compromised key never signs again. Each change is a new revision
of `IssuerProfilePublished` on `issuer.profiles`, which issuer, revocation
and verifier replay. did:key identities cannot do either: their document is
their DID.

Idempotent by Idempotency-Key: the request's key, fingerprint and answer
travel on the event (`key_writes`), so a replay rebuilds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from services.issuer.domain.errors import (
    IssuerNotFound,
    KeyAlreadyCompromised,
    KeyNotFound,
    RotationUnsupported,
)
from services.issuer.signing import Signer
from services.issuer.store import IssuerStore
from shared.credentials.builders import format_datetime
from shared.credentials.did_documents import add_method, current_method_id, revoke_method
from shared.credentials.dids import absolute_id
from shared.errors import InvalidField
from shared.events import IssuerProfilePublished, KeyedWrite, utc_now
from shared.idempotency import fingerprint
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.timestamps import Timestamp, TimestampError, past_instant

_log = get_logger("issuer.rotation")

Scope = Literal["keys", "compromise"]


class CompromiseIn(msgspec.Struct, forbid_unknown_fields=True):
    # When the key was (or may have been) compromised: RFC 3339 with an offset,
    # not after the issuer's clock beyond the skew of shared.timestamps.
    compromisedAt: Timestamp


@dataclass(frozen=True)
class KeyChange:
    """The issuer after a change: which method it concerned, and the document."""

    did: str
    method_id: str  # the new method (rotation) or the compromised one
    signing_method_id: str
    did_document: dict[str, Any]
    compromised_at: str | None = None


@dataclass(frozen=True)
class KeyRotation:
    store: IssuerStore
    signer: Signer
    publisher: Publisher
    topic: str  # issuer.profiles, with the deployment's prefix
    require_caught_up: Callable[[], None]  # raises Rebuilding

    async def rotate(self, tenant: str, did: str, key: str | None) -> tuple[KeyChange, bool]:
        """A new signing key for `did` (and whether it was made now)."""
        request = fingerprint({"did": did})
        return await self._write("keys", tenant, did, key, request, self._rotate)

    async def compromise(
        self, tenant: str, did: str, method: str, body: CompromiseIn, key: str | None
    ) -> tuple[KeyChange, bool]:
        """Mark `method` (a DID URL or its fragment) compromised since `body.compromisedAt`."""
        try:
            since = past_instant(body.compromisedAt, now=datetime.now(UTC))
        except TimestampError as error:
            raise InvalidField("$.compromisedAt", str(error)) from None
        vm_id = method if method.startswith("did:") else absolute_id(f"#{method.lstrip('#')}", did)
        at = format_datetime(since)
        request = fingerprint({"did": did, "method": vm_id, "compromisedAt": at})

        def mark(event: IssuerProfilePublished) -> _Change:
            return self._mark(event, vm_id, at)

        return await self._write("compromise", tenant, did, key, request, mark)

    async def _write(
        self,
        scope: Scope,
        tenant: str,
        did: str,
        key: str | None,
        request: str,
        change: Callable[[IssuerProfilePublished], _Change],
    ) -> tuple[KeyChange, bool]:
        self.require_caught_up()
        await self.store.state.require()

        async def apply(key: str | None, _: str | None) -> KeyChange:
            return await self._apply(scope, tenant, did, key, request, change)

        async def replay(answer: str) -> KeyChange:
            return _answer(await self._own(tenant, did), answer)

        return await self.store.key_idempotency[scope].once(tenant, key, request, apply, replay)

    async def _own(self, tenant: str, did: str) -> IssuerProfilePublished:
        event = await self.store.issuer_event(did)
        if event is None:
            await self.store.state.require()
        if event is None or event.tenant != tenant:
            raise IssuerNotFound("no such issuer")
        return event

    async def _apply(
        self,
        scope: Scope,
        tenant: str,
        did: str,
        key: str | None,
        request: str,
        change: Callable[[IssuerProfilePublished], _Change],
    ) -> KeyChange:
        async with self.store.issuer_lease(did):
            event = await self._own(tenant, did)
            if not did.startswith("did:web:"):
                raise RotationUnsupported(
                    "a did:key identity cannot rotate keys or mark one compromised: its "
                    "DID is its only key. Register a did:web issuer (didMethod: web) for that"
                )
            made = change(event)
            document, signing_key_id, signing_method = made.document, made.key_id, made.signing
            if made.needs_new_key:
                old = event.signing_key_id
                kind = await self.signer.kind_of(old) if old else "Ed25519"
                signing_key_id, public_key = await self.signer.new_key(tenant, kind)
                document, signing_method = add_method(document, public_key)
            answer = made.method_id or signing_method
            writes = list(event.key_writes)
            if key is not None:
                writes.append(
                    KeyedWrite(
                        scope=scope, idempotency_key=key, request_hash=request, answer=answer
                    )
                )
            published = msgspec.structs.replace(
                event,
                id=str(uuid.uuid4()),
                occurred_at=utc_now(),
                did_document=document,
                signing_key_id=signing_key_id,
                signing_method_id=signing_method,
                revision=event.revision + 1,
                key_writes=writes,
            )
            await self.publisher.publish(self.topic, published, key=did)
            await self.store.save_issuer(published)
        _log.info(f"issuer.{'key_rotated' if scope == 'keys' else 'key_compromised'}", issuer=did)
        return _answer(published, answer)

    @staticmethod
    def _rotate(event: IssuerProfilePublished) -> _Change:
        return _Change(dict(event.did_document), event.signing_key_id, "", None, True)

    @staticmethod
    def _mark(event: IssuerProfilePublished, vm_id: str, at: str) -> _Change:
        document = dict(event.did_document)
        methods = {absolute_id(str(m.get("id")), event.did): m for m in _methods(document)}
        if vm_id not in methods:
            raise KeyNotFound(f"{vm_id} is not a verification method of this issuer")
        if "revoked" in methods[vm_id]:
            raise KeyAlreadyCompromised(
                f"{vm_id} was already marked compromised at {methods[vm_id]['revoked']}"
            )
        current = event.signing_method_id or current_method_id(document)
        document = revoke_method(document, vm_id, at)
        return _Change(document, event.signing_key_id, current, vm_id, vm_id == current)


@dataclass(frozen=True)
class _Change:
    document: dict[str, Any]
    key_id: str | None
    signing: str
    method_id: str | None  # the method concerned, if not the new one
    needs_new_key: bool


def _answer(event: IssuerProfilePublished, method_id: str) -> KeyChange:
    document = dict(event.did_document)
    marked = [m.get("revoked") for m in _methods(document) if m.get("id") == method_id]
    revoked = str(marked[0]) if marked and marked[0] is not None else None
    return KeyChange(
        did=event.did,
        method_id=method_id,
        signing_method_id=event.signing_method_id or current_method_id(document),
        did_document=document,
        compromised_at=revoked,
    )


def _methods(document: dict[str, Any]) -> list[dict[str, Any]]:
    methods = document.get("verificationMethod")
    return [m for m in methods if isinstance(m, dict)] if isinstance(methods, list) else []
