"""Webhooks, the pure part: which bus events are notified and how, the
request body, the signature and the backoff (services/issuer/webhooks.py
delivers them)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.issuer.settings import WebhookSettings
from shared.events import (
    AttemptRecorded,
    CredentialIssued,
    Event,
    StatusChanged,
    StatusJobRecorded,
)

EventType = Literal[
    "credential.issued",
    "credential.refused",
    "credential.revoked",
    "credential.suspended",
    "credential.reinstated",
    "credential.expiring",
    "job.finished",
    "attempt.recorded",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
SIGNATURE_HEADER = "Microcred-Signature"


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    """`POST /webhooks`."""

    url: str
    events: list[EventType] | None = None  # None: every event type


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The `Microcred-Signature` header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff_ms(settings: WebhookSettings, attempts: int) -> int:
    """The wait after the `attempts`-th failed attempt (1, 2, ...)."""
    return int(min(settings.retry_cap_ms, settings.retry_base_ms * 2 ** (attempts - 1)))


def outbound(event: Event) -> tuple[str, str, dict[str, Any]] | None:
    """(tenant, webhook event type, data) for a bus event we notify, else None."""
    match event:
        case CredentialIssued():
            return (
                event.tenant,
                "credential.issued",
                {
                    "credentialId": event.credential_id,
                    "achievementId": event.achievement_id,
                    "revision": event.achievement_revision,
                    "issuerDid": event.issuer_did,
                    "validUntil": event.valid_until,
                    "renews": event.renews,
                },
            )
        case StatusChanged():
            kind = {
                ("revocation", 1): "credential.revoked",
                ("suspension", 1): "credential.suspended",
                ("suspension", 0): "credential.reinstated",
            }.get((event.purpose, event.value))
            if kind is None:
                return None
            reason = (
                {"code": event.reason_code, "text": event.reason, "public": event.reason_public}
                if event.reason_code
                else None
            )
            return event.tenant, kind, {"credentialId": event.credential_id, "reason": reason}
        case AttemptRecorded(kind="refused"):
            data: dict[str, Any] = {
                "attemptId": event.id,
                "source": event.source,
                "eventId": event.inbound_event_id,
                "idempotencyKey": event.idempotency_key,
                "achievementId": event.achievement_id,
                "reason": {"title": event.reason_title, "detail": event.reason_detail},
            }
            return event.tenant, "credential.refused", data
        case AttemptRecorded():
            data = {
                "attemptId": event.id,
                "source": event.source,
                "achievementId": event.achievement_id,
                "score": event.score,
                "maxScore": event.max_score,
                "metThreshold": event.met_threshold,
            }
            return event.tenant, "attempt.recorded", data
        case StatusJobRecorded() if event.state == "finished":
            outcomes = list((event.results or {}).values())
            return (
                event.tenant,
                "job.finished",
                {
                    "jobId": event.job_id,
                    "action": event.action,
                    "total": len(event.credential_ids),
                    "changed": outcomes.count("changed"),
                    "unchanged": outcomes.count("unchanged"),
                    "refused": sum(1 for o in outcomes if o.startswith("refused")),
                },
            )
        case _:
            return None


@dataclass(frozen=True)
class WebhookSecrets:
    key: bytes = field(repr=False)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> WebhookSecrets:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"microcred webhooks v1")
        return cls(hkdf.derive(master_key))

    def of(self, webhook_id: str) -> bytes:
        return hmac.new(self.key, webhook_id.encode(), hashlib.sha256).digest()
