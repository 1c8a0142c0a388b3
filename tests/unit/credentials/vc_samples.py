"""Builders for sample OB 3.0 credentials used by the core-B tests (no assertions here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """XSD dateTimeStamp with a Z suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ob3_credential(
    issuer: str,
    *,
    subject: str = "did:example:learner-1",
    name: str = "Data Analysis Basics",
    valid_from: datetime = NOW - timedelta(days=1),
    valid_until: datetime | None = None,
    status: list[dict[str, Any]] | dict[str, Any] | None = None,
    cred_id: str = "urn:uuid:6c1b8a62-0b53-4c35-9f3b-2b6f7b9d0c11",
) -> dict[str, Any]:
    """A minimal valid OpenBadgeCredential (VC 2.0 shape, no proof)."""
    credential: dict[str, Any] = {
        "@context": [VC2, OB3],
        "id": cred_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": iso(valid_from),
        "credentialSubject": {
            "id": subject,
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.edu/achievements/data-101",
                "type": ["Achievement"],
                "name": name,
                "description": "Completed the data analysis basics course.",
                "criteria": {"narrative": "Pass the final assessment."},
            },
        },
    }
    if valid_until is not None:
        credential["validUntil"] = iso(valid_until)
    if status is not None:
        credential["credentialStatus"] = status
    return credential
