"""Public share links: `GET /s/{share_id}` answers the shared credential and a
live verification report (re-verified on every view, so a revocation shows at
once), with its baked badge and printable certificate.

The shares reach the verifier over Kafka (compacted `credentials.shares`,
keyed by share id) into Redis, under a generation like every replica kept
there (`shared.kafka.offsets`): after a wipe the consumer replays the topic
and share links answer 503 until it caught up, never a wrong 404. Only Kafka
and Redis are needed: issuer, catalog and revocation may all be down
(architecture invariant 5). The shares consumer does not gate the verifier's
readiness: `/credentials/verify` does not need Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from aiohttp import web

from services.verifier.verification import Verifier
from shared.credentials.report import VerificationReport
from shared.errors import Conflict, DomainError, NotFound
from shared.events import CredentialShared, Event
from shared.kafka.consumer import ConsumerLoop, Handler
from shared.kafka.offsets import RedisOffsetStore, ReplayedState
from shared.kafka.topics import CREDENTIALS_SHARES, topic_name
from shared.redis_events import EventHash
from shared.redis_keys import SHARES, redis_key
from shared.service import PRODUCER, REDIS, CleanupContext
from shared.settings import CommonSettings
from shared.sharing.badge import MEDIA_TYPES, ImageKind, baked_badge
from shared.sharing.certificate import certificate_language, certificate_pdf
from shared.sharing.facts import CredentialFacts, facts_of
from shared.sharing.linkedin import linkedin_add_url
from shared.sharing.links import SHARE_ID
from shared.web.body import json_response
from shared.web.consumers import serve_consumer
from shared.web.metrics import OUTCOMES
from shared.web.negotiation import prefers_json


class ShareNotFound(NotFound):
    title = "Share link not found"


class ShareUnpublished(DomainError):
    """The learner unpublished it: gone for good from this link (RFC 9110 §15.5.11)."""

    status = 410
    title = "Share link unpublished"
    problem = "share-unpublished"


class ShareStore:
    """Share id -> the newest CredentialShared (the verifier's Redis replica)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.state = ReplayedState(client, prefix)
        self._shares = EventHash(client, redis_key(prefix, SHARES), CredentialShared)

    async def save(self, event: CredentialShared) -> None:
        await self._shares.put_newest(event.share_id, event, CredentialShared.moment_ms)

    async def get(self, share_id: str) -> CredentialShared | None:
        return await self._shares.get(share_id)


def on_share_event(store: ShareStore) -> Handler:
    async def handle(event: Event, record: Any) -> None:
        if isinstance(event, CredentialShared):
            await store.save(event)

    return handle


IN_FORCE = frozenset({"valid", "untrusted"})


class NotInForce(Conflict):
    """A certificate asked for a credential that is not in force."""

    title = "Credential not in force"
    problem = "credential-not-in-force"


@dataclass(frozen=True)
class SharedCredential:
    """What a share page shows; the `people-page` HTML renders this too."""

    share_id: str
    share_url: str
    credential_jwt: str
    facts: CredentialFacts
    report: VerificationReport
    badge_url: str  # the baked PNG (Open Graph / Twitter card image)
    linkedin_url: str
    certificate_url: str

    @property
    def in_force(self) -> bool:
        """Genuine and in force (`valid`, or `untrusted`: the issuer is not
        vouched for): only then are the LinkedIn button and the certificate
        offered. A revoked, suspended or expired credential is shown as such,
        never advertised."""
        return self.report.state in IN_FORCE

    def to_json(self) -> dict[str, Any]:
        return {
            "shareId": self.share_id,
            "url": self.share_url,
            "credentialId": self.facts.credential_id,
            "title": self.facts.title,
            "provider": self.facts.provider,
            "learner": self.facts.learner,
            "credential": self.report.credential,
            "jwt": self.credential_jwt,
            "verification": self.report.to_vc_api(),
            "badge": {"png": self.badge_url, "svg": self.badge_url.removesuffix("png") + "svg"},
            "linkedin": self.linkedin_url if self.in_force else None,
            "certificate": self.certificate_url if self.in_force else None,
        }


@dataclass(frozen=True)
class Shares:
    """The share-link use case, its dependencies explicit."""

    store: ShareStore
    verifier: Verifier
    base_url: str  # this verifier's public base URL
    require_caught_up: Callable[[], None]  # raises Rebuilding
    cache_seconds: int = 0  # s-maxage for shared caches (a CDN); 0: no-cache

    async def published(self, share_id: str) -> CredentialShared:
        if not SHARE_ID.match(share_id):
            raise ShareNotFound("no such share link")
        self.require_caught_up()
        await self.store.state.require()  # a wipe the consumer has not noticed yet
        event = await self.store.get(share_id)
        if event is None:
            raise ShareNotFound("no such share link")
        if event.status != "published" or event.credential_jwt is None:
            raise ShareUnpublished("the learner unpublished this credential")
        return event

    async def view(self, share_id: str) -> SharedCredential:
        """The shared credential with a fresh verification report."""
        event = await self.published(share_id)
        jwt = event.credential_jwt
        assert jwt is not None  # published() checked it
        report = await self.verifier.verify(jwt)
        facts = facts_of(report.credential or jwt)
        url = f"{self.base_url}/s/{share_id}"
        return SharedCredential(
            share_id=share_id,
            share_url=url,
            credential_jwt=jwt,
            facts=facts,
            report=report,
            badge_url=f"{url}/badge.png",
            linkedin_url=linkedin_add_url(facts, url),
            certificate_url=f"{url}/certificate.pdf",
        )


SHARES_APP: web.AppKey[Shares] = web.AppKey("verifier.shares", Shares)
# The HTML share page (OG/Twitter meta tags...), set by the page module when
# there is one: `GET /s/{id}` answers it to clients that prefer HTML, also
# for a link that is unknown (404) or unpublished (410).
SharePage = Callable[
    [web.Request, SharedCredential | ShareNotFound | ShareUnpublished],
    Awaitable[web.StreamResponse],
]
SHARE_PAGE: web.AppKey[SharePage] = web.AppKey("verifier.share_page")
share_routes = web.RouteTableDef()


def shares_context(
    settings: CommonSettings, verifier: Verifier, base_url: str, cache_seconds: int
) -> CleanupContext:
    """The shares replica (Redis, fed by `credentials.shares`) and the use case."""

    async def shares_ctx(app: web.Application) -> AsyncIterator[None]:
        client = app[REDIS]
        store = ShareStore(client, settings.redis_prefix)
        topic = topic_name(settings, CREDENTIALS_SHARES)
        loop = ConsumerLoop(
            settings.kafka_bootstrap,
            [topic],
            on_share_event(store),
            dlq=app[PRODUCER],
            offsets=RedisOffsetStore(client, settings.redis_prefix),
            compacted=[topic],
            client_id=f"{settings.service}-shares",
        )
        app[SHARES_APP] = Shares(store, verifier, base_url, loop.require_caught_up, cache_seconds)
        async with serve_consumer(app, "shares", loop, gates_readiness=False):
            yield

    return shares_ctx


def _public(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Re-verified on every request at the origin; a CDN may keep it briefly."""
    cache_seconds = request.app[SHARES_APP].cache_seconds
    response.headers["Cache-Control"] = (
        f"public, max-age=0, s-maxage={cache_seconds}" if cache_seconds else "no-cache"
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    return response


@share_routes.get("/s/{share_id}")
async def get_share(request: web.Request) -> web.StreamResponse:
    """The share page (HTML, at `SHARE_PAGE`: `pages.py`), or its JSON when
    the client prefers it."""
    page = request.app.get(SHARE_PAGE)
    # HTML unless JSON is asked for: link-preview crawlers (Open Graph) send
    # `*/*` or no Accept at all, and must get the page with its meta tags.
    html = page is not None and not prefers_json(request.headers.get("Accept", ""))
    try:
        view = await request.app[SHARES_APP].view(request.match_info["share_id"])
    except (ShareNotFound, ShareUnpublished) as error:
        if page is None or not html:
            raise
        return await page(request, error)
    request.app[OUTCOMES].count("share_view", view.report.verdict)
    if page is not None and html:
        return _public(request, await page(request, view))
    return _public(request, json_response(view.to_json()))


@share_routes.get("/s/{share_id}/badge.png")
@share_routes.get("/s/{share_id}/badge.svg")
async def get_share_badge(request: web.Request) -> web.StreamResponse:
    event = await request.app[SHARES_APP].published(request.match_info["share_id"])
    jwt = event.credential_jwt or ""
    kind: ImageKind = "png" if request.path.endswith(".png") else "svg"
    body = await asyncio.to_thread(baked_badge, facts_of(jwt), kind, jwt)
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    return _public(
        request, web.Response(body=body, content_type=MEDIA_TYPES[kind], headers=headers)
    )


@share_routes.get("/s/{share_id}/certificate.pdf")
async def get_share_certificate(request: web.Request) -> web.StreamResponse:
    """The printable certificate, only while the credential is in force (re-verified)."""
    view = await request.app[SHARES_APP].view(request.match_info["share_id"])
    if not view.in_force:
        raise NotInForce(f"the credential is {view.report.state.replace('_', ' ')}: no certificate")
    lang = certificate_language(request)
    body = await asyncio.to_thread(certificate_pdf, view.facts, view.share_url, lang)
    response = web.Response(body=body, content_type="application/pdf")
    response.headers["Content-Language"] = lang
    return _public(request, response)
