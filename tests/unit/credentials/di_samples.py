"""Sample documents and a local key resolver for the Data Integrity tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from shared.credentials.crypto_keys import PublicKey, SigningKey, generate_ed25519

VC2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def did_of(key: SigningKey) -> str:
    """The DID that controls ``key`` (its kid without the fragment)."""
    return key.kid.partition("#")[0]


def badge(issuer: str, *, subject_name: str = "Ada Lovelace") -> dict[str, Any]:
    """An OpenBadgeCredential exercising nested nodes, arrays and blank nodes."""
    return {
        "@context": [VC2, OB3],
        "id": "urn:uuid:0b0c6f1e-4a59-4b8e-9d38-2d3f6a1c7e42",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Data Analysis Basics",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": "2025-01-15T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-7",
            "type": ["AchievementSubject"],
            "name": subject_name,
            "achievement": {
                "id": "https://example.edu/achievements/data-101",
                "type": ["Achievement"],
                "name": "Data Analysis Basics",
                "description": "Completed the course and passed the assessment.",
                "criteria": {"narrative": "Score at least 70% in the final exam."},
                "achievementType": "Course",
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "analyse data",
                        "targetUrl": "http://data.europa.eu/esco/skill/S2.7",
                        "targetFramework": "ESCO",
                    }
                ],
            },
            "result": [{"type": ["Result"], "value": "84"}],
        },
    }


def fresh_badge(key: SigningKey | None = None, **kwargs: Any) -> tuple[SigningKey, dict[str, Any]]:
    """A new Ed25519 key and an unsigned badge issued by its did:key."""
    key = key or generate_ed25519()
    return key, badge(did_of(key), **kwargs)


def mutate(doc: dict[str, Any], path: str | tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with ``path`` (dotted, or a tuple of keys) set to ``value``."""
    out = copy.deepcopy(doc)
    node: Any = out
    *parents, last = path.split(".") if isinstance(path, str) else path
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


class StaticResolver:
    """A resolver stand-in for verification methods that are not DIDs we resolve
    (the W3C vectors use https URLs): vm id -> (key, purposes)."""

    def __init__(self, methods: dict[str, tuple[PublicKey, tuple[str, ...]]]) -> None:
        self.methods = methods
        self.calls: list[tuple[str, str]] = []

    async def verification_key(self, vm_id: str, purpose: str) -> PublicKey:
        from shared.credentials.errors import DidError

        self.calls.append((vm_id, purpose))
        entry = self.methods.get(vm_id)
        if entry is None:
            raise DidError("not_found", f"verification method {vm_id} not found")
        if purpose not in entry[1]:
            raise DidError("key_not_authorized", f"{vm_id} is not listed under {purpose}")
        return entry[0]
