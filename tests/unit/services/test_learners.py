"""Learners (issuer) and Shares (verifier) on their real stores over fakeredis:
claim links, publishing once, unpublishing, the rebuild gate, 404 vs 410.
The `issuer` fixture is test_application's (conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from services.issuer.domain.awarding import AwardIn, RecipientIn
from services.issuer.domain.errors import CredentialNotFound, NotInForce, NotShared
from services.issuer.learner_page import claim_page
from services.issuer.learners import Learners
from services.issuer.registry import RegistryIndex
from services.verifier.shares import ShareNotFound, Shares, ShareStore, ShareUnpublished
from shared.errors import Rebuilding
from shared.events import CredentialShared, StatusChanged
from shared.learner_keys import LearnerKeys
from shared.sharing.links import LearnerLinks
from shared.web.negotiation import prefers_html
from tests.unit.services import test_application
from tests.unit.services.fakes import replayed
from tests.unit.services.test_application import ACHIEVEMENT_ID, TENANT, IssuerWorld

# The issuer world of the application tests, registered here under its own name `issuer`.
issuer_fixture = test_application.issuer

LINKS = LearnerLinks.from_master_key(b"m" * 32)


def learners_of(world: IssuerWorld) -> Learners:
    return Learners(
        store=world.issuance.store,
        registry=RegistryIndex(world.redis, test_application.PREFIX, LearnerKeys(bytes(32))),
        links=LINKS,
        publisher=world.published,
        topic="credentials.shares",
        require_caught_up=world.gate.require_caught_up,
        public_base_url="https://issuer.example",
        verifier_base_url="https://verify.example",
    )


async def award(world: IssuerWorld) -> Any:
    body = AwardIn(
        achievementId=ACHIEVEMENT_ID,
        recipient=RecipientIn(id="did:example:ada", name=" Ada   Lovelace "),
        score=95,
    )
    event, _ = await world.issuance.award(TENANT, body, None)
    return event


async def test_the_award_links_lead_the_learner_to_the_credential(issuer: IssuerWorld) -> None:
    learners, event = learners_of(issuer), await award(issuer)
    links = learners.award_links(event)
    assert links["downloads"]["badge.png"] == (
        f"https://issuer.example/credentials/{event.credential_id}/badge.png"
    )
    token = links["claimUrl"].rsplit("/", 1)[-1]
    claimed = await learners.claimed(token)
    assert claimed.credential == event and not claimed.shared
    view = learners.claim_view(claimed)
    assert view["learner"] == "Ada Lovelace" and view["share"]["status"] == "unpublished"
    assert "linkedin" not in view and "certificate.pdf" not in view["downloads"]
    assert "Publish a share link" in claim_page(view)
    with pytest.raises(NotShared):
        learners.certified(claimed)
    with pytest.raises(CredentialNotFound):
        await learners.claimed(token[:-1] + ("B" if token[-1] == "A" else "A"))
    with pytest.raises(CredentialNotFound):
        await learners.for_tenant("another-tenant", event.credential_id)


async def test_publishing_is_once_and_unpublishing_drops_the_credential(
    issuer: IssuerWorld,
) -> None:
    learners, event = learners_of(issuer), await award(issuer)
    claimed = await learners.claimed(LINKS.claim_token(event.credential_id))
    shared, created = await learners.publish(claimed)
    assert created and shared.shared
    again, created_again = await learners.publish(await learners.claimed(claimed.token))
    assert not created_again and again.share == shared.share
    events = issuer.published.of(CredentialShared)
    assert len(events) == 1
    first = events[0]
    assert isinstance(first, CredentialShared)
    assert first.share_id == LINKS.share_id(event.credential_id)
    assert first.credential_jwt == event.credential_jwt and first.status == "published"
    view = learners.claim_view(again)
    assert view["share"]["url"] == f"https://verify.example/s/{first.share_id}"
    assert "certUrl=https%3A%2F%2Fverify.example%2Fs%2F" in view["linkedin"]
    assert learners.certified(again) == view["share"]["url"]

    gone = await learners.unpublish(await learners.claimed(claimed.token))
    assert not gone.shared
    await learners.unpublish(await learners.claimed(claimed.token))  # again: nothing
    events = issuer.published.of(CredentialShared)
    assert len(events) == 2
    last = events[1]
    assert isinstance(last, CredentialShared)
    assert last.status == "unpublished" and last.credential_jwt is None


async def test_no_publishing_while_the_state_is_rebuilding(issuer: IssuerWorld) -> None:
    learners, event = learners_of(issuer), await award(issuer)
    claimed = await learners.claimed(LINKS.claim_token(event.credential_id))
    issuer.gate.open = False
    with pytest.raises(Rebuilding):
        await learners.publish(claimed)
    assert issuer.published.of(CredentialShared) == []


async def test_share_links_404_410_and_the_newest_record_wins(issuer: IssuerWorld) -> None:
    client, prefix = issuer.redis, "verifier"
    store = ShareStore(client, prefix)
    shares = Shares(store, None, "https://verify.example", lambda: None)  # type: ignore[arg-type]
    await replayed(client, prefix)
    share_id = LINKS.share_id("urn:uuid:6c1b8a62-0b53-4c35-9f3b-2b6f7b9d0c11")
    with pytest.raises(ShareNotFound):
        await shares.published(share_id)
    with pytest.raises(ShareNotFound):
        await shares.published("../../x")
    published = CredentialShared(
        share_id=share_id,
        credential_id="urn:uuid:6c1b8a62-0b53-4c35-9f3b-2b6f7b9d0c11",
        tenant=TENANT,
        status="published",
        credential_jwt="a.b.c",
        occurred_at="2026-12-01T10:00:00.000Z",
    )
    unpublished = CredentialShared(
        share_id=share_id,
        credential_id=published.credential_id,
        tenant=TENANT,
        status="unpublished",
        occurred_at="2026-12-01T10:00:01.000Z",
    )
    await store.save(published)
    assert (await shares.published(share_id)).credential_jwt == "a.b.c"
    await store.save(unpublished)
    await store.save(published)  # an older record replayed late changes nothing
    with pytest.raises(ShareUnpublished):
        await shares.published(share_id)
    await client.flushall()  # a wiped Redis: 503, not a wrong 404
    with pytest.raises(Rebuilding):
        await shares.published(share_id)


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json", False),
        ("", False),
        ("*/*", False),
        ("application/json;q=0.5, text/html;q=0.9", True),
        ("text/html;q=0.1, application/json", False),
        ("text/html;q=bogus", False),
        ("text/html;q=0.5, application/problem+json", False),  # RFC 9457
    ],
)
def test_prefers_html_reads_accept(accept: str, html: bool) -> None:
    assert prefers_html(accept) is html


async def test_a_credential_not_in_force_is_not_advertised(issuer: IssuerWorld) -> None:
    """Revoked (or suspended, or expired): the learner's page says so, and
    offers neither LinkedIn nor the certificate, as the share page does."""
    learners, event = learners_of(issuer), await award(issuer)
    claimed, _ = await learners.publish(
        await learners.claimed(LINKS.claim_token(event.credential_id))
    )
    view = learners.claim_view(claimed)
    assert view["status"] == "active" and "linkedin" in view
    assert learners.certified(claimed).startswith("https://verify.example/s/")
    revocation = next(e for e in event.status_entries if e.purpose == "revocation")
    await learners.registry.status_changed(
        StatusChanged(
            tenant=TENANT,
            credential_id=event.credential_id,
            list_id=revocation.list_id,
            list_url=revocation.list_url,
            issuer_did=event.issuer_did,
            index=revocation.index,
            purpose="revocation",
            value=1,
        )
    )
    revoked = await learners.claimed(claimed.token)
    view = learners.claim_view(revoked)
    assert view["status"] == "revoked" and "linkedin" not in view
    assert "certificate.pdf" not in view["downloads"]
    assert "revoked" in claim_page(view)
    with pytest.raises(NotInForce):
        learners.certified(revoked)
