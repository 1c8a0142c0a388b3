"""What the learner (the holder of a claim link) and the owning institution
can fetch and do with one credential: the downloads, the share link.

The claim link is private: the institution gets it in the award answer and
passes it on; it is an HMAC of the credential id (`shared.sharing.links`),
so nothing is stored for it. Publishing a share link is an event on the
compacted `credentials.shares` (keyed by share id) that the verifiers
replicate; it is answered after Kafka acknowledged it (acks=all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.issuer.domain.errors import CredentialNotFound, NotInForce, NotShared
from services.issuer.registry import RegistryIndex, Status
from services.issuer.store import IssuerStore
from shared.events import CredentialIssued, CredentialShared
from shared.kafka.producer import Publisher
from shared.logging import get_logger
from shared.sharing.facts import facts_of
from shared.sharing.linkedin import linkedin_add_url
from shared.sharing.links import LearnerLinks

_log = get_logger("issuer.learners")
DOWNLOADS = ("credential.json", "credential.jwt", "badge.png", "badge.svg")


def downloads_of(event: CredentialIssued) -> tuple[str, ...]:
    """The downloads this credential has: no `credential.json` for one with
    only a VC-JWT (an RSA key signs no Data Integrity proof)."""
    return DOWNLOADS if event.credential_ldp is not None else DOWNLOADS[1:]


@dataclass(frozen=True)
class Claimed:
    """A credential reached through its claim link, with its share state."""

    token: str
    credential: CredentialIssued
    share: CredentialShared | None
    status: Status = "active"  # revoked, suspended or expired: not advertised

    @property
    def shared(self) -> bool:
        return self.share is not None and self.share.status == "published"


@dataclass(frozen=True)
class Learners:
    store: IssuerStore
    registry: RegistryIndex  # each credential's status
    links: LearnerLinks
    publisher: Publisher
    topic: str  # credentials.shares, with the deployment's prefix
    require_caught_up: Callable[[], None]  # raises Rebuilding
    public_base_url: str  # this issuer service
    verifier_base_url: str  # where share links live

    # -- URLs ------------------------------------------------------------------

    def claim_url(self, credential_id: str) -> str:
        return f"{self.public_base_url}/claims/{self.links.claim_token(credential_id)}"

    def share_url(self, credential_id: str) -> str:
        return f"{self.verifier_base_url}/s/{self.links.share_id(credential_id)}"

    def award_links(self, event: CredentialIssued) -> dict[str, Any]:
        """What the award answer adds for the institution: the learner's claim
        link and the tenant-authenticated downloads."""
        base = f"{self.public_base_url}/credentials/{event.credential_id}"
        return {
            "claimUrl": self.claim_url(event.credential_id),
            "downloads": {name: f"{base}/{name}" for name in downloads_of(event)},
        }

    def claim_view(self, claimed: Claimed) -> dict[str, Any]:
        """The learner page's data: downloads, share state and controls,
        LinkedIn and the certificate (once shared: its QR code is the link)."""
        event = claimed.credential
        facts = facts_of(event.credential_ldp or event.credential_jwt)
        claim = f"{self.public_base_url}/claims/{claimed.token}"
        share_url = self.share_url(event.credential_id)
        view: dict[str, Any] = {
            "credentialId": event.credential_id,
            "status": claimed.status,
            "title": facts.title,
            "provider": facts.provider,
            "learner": facts.learner,
            "validFrom": facts.valid_from.isoformat() if facts.valid_from else None,
            "validUntil": facts.valid_until.isoformat() if facts.valid_until else None,
            "downloads": {name: f"{claim}/{name}" for name in downloads_of(event)},
            "share": {
                "status": "published" if claimed.shared else "unpublished",
                "control": f"{claim}/share",  # POST publishes, DELETE unpublishes
            },
        }
        if claimed.shared:
            view["share"].update(
                {"shareId": self.links.share_id(event.credential_id), "url": share_url}
            )
            if claimed.status == "active":  # a credential not in force is not advertised
                view["linkedin"] = linkedin_add_url(facts, share_url)
                view["downloads"]["certificate.pdf"] = f"{claim}/certificate.pdf"
        return view

    # -- reads -----------------------------------------------------------------

    async def _credential(self, credential_id: str) -> CredentialIssued | None:
        event = await self.store.credential(credential_id)
        if event is None:
            await self.store.state.require()  # missing only because of a rebuild: 503
        return event

    async def for_tenant(self, tenant: str, credential_id: str) -> CredentialIssued:
        event = await self._credential(credential_id)
        if event is None or event.tenant != tenant:
            raise CredentialNotFound("no such credential")
        return event

    async def claimed(self, token: str) -> Claimed:
        credential_id = self.links.credential_of(token)
        event = None if credential_id is None else await self._credential(credential_id)
        if event is None:
            raise CredentialNotFound("no credential for this claim link")
        share = await self.store.share_of(event.credential_id)
        status = await self.registry.status(event.credential_id, event.valid_until)
        return Claimed(token, event, share, status)

    def certified(self, claimed: Claimed) -> str:
        """The share URL for the certificate (its QR code), which needs the
        credential published and in force."""
        if not claimed.shared:
            raise NotShared("publish the share link first: the certificate's QR code points to it")
        if claimed.status != "active":
            raise NotInForce(f"the credential is {claimed.status}: no certificate")
        return self.share_url(claimed.credential.credential_id)

    # -- writes ----------------------------------------------------------------

    async def publish(self, claimed: Claimed) -> tuple[Claimed, bool]:
        """Publish the share link (stable: the same id every time); True when
        this call published it, False when it already was."""
        if claimed.shared:
            return claimed, False
        event = claimed.credential
        shared = await self._publish(event, "published", event.credential_jwt)
        return Claimed(claimed.token, event, shared, claimed.status), True

    async def unpublish(self, claimed: Claimed) -> Claimed:
        if not claimed.shared:
            return claimed
        shared = await self._publish(claimed.credential, "unpublished", None)
        return Claimed(claimed.token, claimed.credential, shared, claimed.status)

    async def _publish(
        self, credential: CredentialIssued, status: str, jwt: str | None
    ) -> CredentialShared:
        self.require_caught_up()
        shared = CredentialShared(
            share_id=self.links.share_id(credential.credential_id),
            credential_id=credential.credential_id,
            tenant=credential.tenant,
            status="published" if status == "published" else "unpublished",
            credential_jwt=jwt,
        )
        await self.publisher.publish(self.topic, shared, key=shared.share_id)
        await self.store.save_share(shared)  # read-your-writes on the learner page
        _log.info("credential." + status, credential_id=credential.credential_id)
        return shared
