"""The verifier's own view of the world, built only from Kafka.

Each verifier instance keeps its replica in memory and rebuilds it by
replaying the compacted topics at start-up, so it scales out statelessly and
keeps verifying while issuer, catalog and revocation are down (architecture
invariant 5). Applying an event twice gives the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.verifier.impostors import Named, NameIndex
from shared.events import (
    AchievementPublished,
    EndorsementPublished,
    Event,
    IssuerProfilePublished,
    PathwayPublished,
    ProviderPublished,
    StatusChanged,
    StatusListPublished,
)


@dataclass(frozen=True)
class KnownIssuer:
    did: str
    tenant: str
    profile: dict[str, Any]
    did_document: dict[str, Any]
    role: str = "issuer"  # or the platform "operator", or an "endorser"


@dataclass(frozen=True)
class KnownStatusList:
    url: str
    issuer_did: str
    purpose: str
    sequence: int
    credential_jwt: str


@dataclass
class Replica:
    issuers: dict[str, KnownIssuer] = field(default_factory=dict)
    achievements: dict[str, AchievementPublished] = field(default_factory=dict)
    pathways: dict[str, PathwayPublished] = field(default_factory=dict)
    status_lists: dict[str, KnownStatusList] = field(default_factory=dict)
    # DID documents of the issuers on our bus, handed by reference to the resolver.
    did_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: dict[str, ProviderPublished] = field(default_factory=dict)
    provider_of_did: dict[str, str] = field(default_factory=dict)
    # Endorsements their endorsers withdrew (`issuer.endorsements`).
    withdrawn_endorsements: set[str] = field(default_factory=set)
    # Registered names (providers' legal names, issuers' names) for look-alikes.
    names: NameIndex = field(default_factory=NameIndex)
    # (list URL, index) -> when the entry was last set, for entries set now
    # (from the history topic `status.changes`): a revoked report says since when.
    status_set_at: dict[tuple[str, int], str] = field(default_factory=dict)
    # (list URL, index) -> the reason of the change that set it, only when the
    # institution made it public (shared.status_reasons); never a private one.
    public_reasons: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        match event:
            case IssuerProfilePublished():
                self.issuers[event.did] = KnownIssuer(
                    event.did,
                    event.tenant,
                    dict(event.profile),
                    dict(event.did_document),
                    event.role,
                )
                if not event.self_hosted:
                    self.did_documents[event.did] = dict(event.did_document)
                else:
                    # The institution hosts it (did:web §3.2): resolved from its
                    # domain behind the SSRF guard, as any other platform's.
                    self.did_documents.pop(event.did, None)
                if event.role == "issuer":
                    self.names.put(Named("issuer", event.did), event.profile.get("name"))
            case AchievementPublished():
                current = self.achievements.get(event.achievement_id)
                if current is None or current.revision <= event.revision:
                    self.achievements[event.achievement_id] = event
            case PathwayPublished():
                known = self.pathways.get(event.pathway_id)
                if known is None or known.revision <= event.revision:
                    self.pathways[event.pathway_id] = event
            case StatusListPublished():
                self._apply_status_list(event)
            case ProviderPublished():
                self._apply_provider(event)
            case StatusChanged():
                self._apply_status_change(event)
            case EndorsementPublished() if event.status == "withdrawn":
                self.withdrawn_endorsements.add(event.endorsement_id)
            case _:
                pass  # other event types on shared topics are not ours to keep

    def provider_for(self, did: str) -> ProviderPublished | None:
        """The provider that lists `did`, when `did` really is one of its
        tenant's issuers (on `issuer.profiles`): a record alone proves nothing."""
        provider = self.providers.get(self.provider_of_did.get(did, ""))
        issuer = self.issuers.get(did)
        if provider is None or issuer is None or issuer.tenant != provider.tenant:
            return None
        return provider

    def _apply_provider(self, event: ProviderPublished) -> None:
        current = self.providers.get(event.provider_id)
        if current is not None and current.revision > event.revision:
            return
        for did in current.issuer_dids if current else ():
            if self.provider_of_did.get(did) == event.provider_id:
                del self.provider_of_did[did]
        self.providers[event.provider_id] = event
        for did in event.issuer_dids:
            self.provider_of_did[did] = event.provider_id
        self.names.put(Named("provider", event.provider_id), event.legal_name)

    def status_since(self, list_url: str, index: int) -> str | None:
        """When the entry was set (revoked, suspended), if it is set and we saw it."""
        return self.status_set_at.get((list_url, index))

    def public_reason(self, list_url: str, index: int) -> dict[str, str] | None:
        """Why the entry was set, when the institution made that public."""
        return self.public_reasons.get((list_url, index))

    def _apply_status_change(self, event: StatusChanged) -> None:
        # One partition per list (the topic's key), so changes of an entry
        # arrive in order; a replay applies the same sequence again.
        entry = (event.list_url, event.index)
        if event.value:
            self.status_set_at[entry] = event.occurred_at
            if event.reason_public and (event.reason_code or event.reason):
                reason = {"code": event.reason_code or "other", "text": event.reason or ""}
                self.public_reasons[entry] = reason
            else:
                self.public_reasons.pop(entry, None)
        else:
            self.status_set_at.pop(entry, None)
            self.public_reasons.pop(entry, None)

    def _apply_status_list(self, event: StatusListPublished) -> None:
        current = self.status_lists.get(event.list_url)
        # Snapshots carry a strictly increasing sequence: never go back in time.
        if current is not None and current.sequence >= event.sequence:
            return
        self.status_lists[event.list_url] = KnownStatusList(
            event.list_url, event.issuer_did, event.purpose, event.sequence, event.credential_jwt
        )
