"""Issue 10, learners: the award answer's claim link and downloads (baked
badges read back by openbadgeslib and by our verifier), publishing a share
link that the verifier serves from Kafka alone (issuer, catalog and revocation
stopped), a revocation shown on the next view once it arrives, unpublishing
(410), the certificate."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pypdf
import pytest
from openbadgeslib.ob3.verifier import OB3Verifier

from shared.credentials.baking import unbake
from shared.kafka.topics import topic_partitions
from tests.e2e.client import Api, check, produce_raw, read_topic, until
from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e]

OTHERS = ("issuer", "catalog", "revocation")
LEARNER = {"id": "did:example:ada", "name": "Ada  Lovelace"}
AS_JSON = {"Accept": "application/json"}  # a browser (Accept: text/html) gets the HTML page


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def fetch(
    api: Api, method: str, url: str, **kwargs: Any
) -> tuple[int, str, bytes, aiohttp.typedefs.LooseHeaders]:
    async with api.session.request(method, url, allow_redirects=False, **kwargs) as answer:
        return answer.status, answer.content_type, await answer.read(), answer.headers


async def share_answer(api: Api, url: str, expected: int) -> Any:
    """The verifier's answer for a share link once it is `expected` (it
    arrives over Kafka), or the last answer."""

    async def now() -> Any:
        status, body = await api.call("GET", url, headers=AS_JSON)
        return (status, body) if status == expected else None

    found = await until(now, within=15)
    assert found, await api.call("GET", url, headers=AS_JSON)
    return found[1]


async def test_learner_downloads_share_link_linkedin_and_certificate(
    stack: Stack, api: Api
) -> None:
    achievement_id = await api.achievement(await api.accredited_issuer())
    await api.issuer_knows(achievement_id)
    kept, revoked, withdrawn = [
        await api.issue(achievement_id, recipient=LEARNER) for _ in range(3)
    ]

    # The institution's downloads (tenant token), and the learner's claim link.
    assert set(kept["downloads"]) == {"credential.json", "credential.jwt", "badge.png", "badge.svg"}
    for name, url in kept["downloads"].items():
        assert (await fetch(api, "GET", url))[0] == 401, name
        other = {"Authorization": "Bearer other-token"}
        assert (await fetch(api, "GET", url, headers=other))[0] == 404, name
        status, media, body, _ = await fetch(api, "GET", url, headers=stack.auth)
        assert status == 200, (name, body[:300])
        if name.startswith("badge"):
            assert media == ("image/png" if name.endswith("png") else "image/svg+xml")
            assert unbake(body) == kept["jwt"]
            read = (
                OB3Verifier.extract_token_from_png(body)
                if name.endswith("png")
                else OB3Verifier.extract_token_from_svg(body)
            )
            assert read == kept["jwt"]  # openbadgeslib, an independent reader
            OB3Verifier.for_issuer_did(kept["credential"]["issuer"]["id"]).verify(read)
            # valid once the accreditation and the achievement reach the verifier over Kafka
            assert await api.trusted_report(read), await api.verify(read)
        elif name == "credential.jwt":
            assert body.decode() == kept["jwt"]

    claim = kept["claimUrl"]
    status, view = await api.call("GET", claim)
    assert status == 200 and view["share"]["status"] == "unpublished", view
    assert view["learner"] == "Ada Lovelace" and "linkedin" not in view
    assert (await fetch(api, "GET", f"{claim}/badge.png"))[0] == 200
    status, problem = await api.call("GET", f"{claim}/certificate.pdf")
    assert status == 409 and problem["type"].endswith("not-shared"), problem
    status, media, page, _ = await fetch(api, "GET", claim, headers={"Accept": "text/html"})
    assert status == 200 and media == "text/html" and b"Publish a share link" in page
    forged = claim[:-4] + ("AAAA" if not claim.endswith("AAAA") else "BBBB")
    assert (await api.call("GET", forged))[0] == 404
    # a learner's browser gets a page saying what to do, not a problem document
    status, media, page, _ = await fetch(api, "GET", forged, headers={"Accept": "text/html"})
    assert status == 404 and media == "text/html", page
    assert b"This link does not open a credential" in page

    # Publishing: stable link, idempotent.
    status, view = await api.call("POST", f"{claim}/share")
    assert status == 201, view
    share_url = view["share"]["url"]
    assert share_url.startswith(stack.url("verifier") + "/s/")
    again_status, again = await api.call("POST", f"{claim}/share")
    assert again_status == 200 and again["share"]["url"] == share_url
    linkedin = dict(parse_qsl(urlsplit(view["linkedin"]).query))
    assert linkedin["certUrl"] == share_url and linkedin["certId"] == kept["credentialId"]
    assert linkedin["startTask"] == "CERTIFICATION_NAME"

    shared = await share_answer(api, share_url, 200)
    assert shared["verification"]["verdict"] == "valid", shared
    assert shared["credentialId"] == kept["credentialId"] and shared["jwt"] == kept["jwt"]
    assert shared["learner"] == "Ada Lovelace" and shared["url"] == share_url
    assert shared["linkedin"] == view["linkedin"]
    _, metrics = await api.call("GET", f"{stack.url('verifier')}/metrics")
    assert 'microcred_outcomes_total{operation="share_view",outcome="valid"}' in metrics
    status, media, png, _ = await fetch(api, "GET", shared["badge"]["png"])
    assert status == 200 and media == "image/png" and unbake(png) == kept["jwt"]

    # The certificate: the title, the learner, the share link.
    for url in (f"{claim}/certificate.pdf", shared["certificate"]):
        status, media, pdf, _ = await fetch(api, "GET", url)
        assert status == 200 and media == "application/pdf", pdf[:200]
        text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert shared["title"] in text and "Ada Lovelace" in text and share_url in text
        assert "This certifies that" in text
        # in French when the reader's browser asks for it, or the link says so
        for asked in (
            {"headers": {"Accept-Language": "fr-CA, en;q=0.5"}},
            {"params": {"lang": "fr"}},
        ):
            status, _, pdf, headers = await fetch(api, "GET", url, **asked)
            text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
            assert status == 200 and headers["Content-Language"] == "fr", headers
            assert "Nous certifions que" in text and "Ada Lovelace" in text, text

    # A revocation shows on the share page as soon as the status list reaches
    # the verifier over Kafka (milliseconds): the page is re-verified each view.
    revoked_claim = revoked["claimUrl"]
    status, revoked_view = await api.call("POST", f"{revoked_claim}/share")
    assert status == 201
    revoked_url = revoked_view["share"]["url"]
    assert (await share_answer(api, revoked_url, 200))["verification"]["verdict"] == "valid"
    assert (await api.set_status(revoked["credentialId"]))[0] == 200

    async def shown_revoked() -> Any:
        report = (await api.call("GET", revoked_url, headers=AS_JSON))[1]["verification"]
        return report if report["verdict"] == "invalid" else None

    report = await until(shown_revoked, within=5, interval=0.02)
    assert report and check(report, "status")["outcome"] == "failed", report
    # ...and it is no longer advertised: no LinkedIn button, no certificate,
    # and a link preview says it is revoked.
    revoked_json = (await api.call("GET", revoked_url, headers=AS_JSON))[1]
    assert revoked_json["linkedin"] is None and revoked_json["certificate"] is None
    status, _, page, _ = await fetch(api, "GET", revoked_url, headers={"Accept": "text/html"})
    assert status == 200 and b"linkedin.com" not in page and b"certificate.pdf" not in page
    preview = re.search(rb'og:description" content="([^"]*)"', page)
    assert preview and b"Revoked" in preview.group(1), page[:2000]
    status, problem = await api.call("GET", f"{revoked_url}/certificate.pdf")
    assert status == 409 and problem["type"].endswith("credential-not-in-force"), problem

    # The learner's own page says it too, and advertises it no more.
    async def claim_says_revoked() -> Any:
        view = (await api.call("GET", revoked_claim))[1]
        return view if view.get("status") == "revoked" else None

    view = await until(claim_says_revoked, within=10, interval=0.05)
    assert view and "linkedin" not in view and "certificate.pdf" not in view["downloads"], view
    status, problem = await api.call("GET", f"{revoked_claim}/certificate.pdf")
    assert status == 409 and problem["type"].endswith("credential-not-in-force"), problem

    # Unpublished: 410, and the credential is gone from the answer.
    status, withdrawn_view = await api.call("POST", f"{withdrawn['claimUrl']}/share")
    withdrawn_url = withdrawn_view["share"]["url"]
    await share_answer(api, withdrawn_url, 200)
    status, after = await api.call("DELETE", f"{withdrawn['claimUrl']}/share")
    assert status == 200 and after["share"]["status"] == "unpublished", after
    gone = await share_answer(api, withdrawn_url, 410)
    assert gone["type"].endswith("share-unpublished") and "jwt" not in gone
    assert (await api.call("GET", f"{withdrawn_url}/badge.png"))[0] == 410
    unknown = stack.url("verifier") + "/s/" + "x" * 32
    assert (await api.call("GET", unknown))[0] == 404
    assert (await api.call("GET", stack.url("verifier") + "/s/..%2f"))[0] == 404

    # Issuer, catalog and revocation stopped, the verifier restarted: share
    # links still answer and verify from Kafka and Redis alone.
    stack.stop(*OTHERS, "verifier")
    stack.start("verifier")
    for name in OTHERS:
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.call("GET", f"{stack.url(name)}/healthz")
    shared = await share_answer(api, share_url, 200)
    assert shared["verification"]["verdict"] == "valid", shared
    for name in ("proof", "status", "trust"):
        assert check(shared["verification"], name)["outcome"] == "ok", shared
    report = (await share_answer(api, revoked_url, 200))["verification"]
    assert check(report, "status")["outcome"] == "failed", report
    await share_answer(api, withdrawn_url, 410)
    assert (await fetch(api, "GET", f"{share_url}/certificate.pdf"))[0] == 200
    stack.start(*OTHERS)


BAD_JSON = b'{"type": "CredentialShared", "version": 1, "id": '
WRONG_SHARE = b'{"type": "CredentialShared", "version": 1, "id": "p-1", "status": "maybe"}'


async def test_poison_is_dead_lettered_and_a_wiped_redis_rebuilds(stack: Stack, api: Api) -> None:
    topic = stack.topic("credentials.shares")
    partitions = (await topic_partitions(stack.kafka_bootstrap, [topic]))[topic]
    for partition in partitions:
        records = [("poison-json", BAD_JSON), ("poison-schema", WRONG_SHARE)]
        await produce_raw(stack.kafka_bootstrap, topic, records, partition=partition)

    achievement_id = await api.achievement(await api.accredited_issuer("Poison Polytechnic"))
    await api.issuer_knows(achievement_id)
    award = await api.issue(achievement_id, recipient=LEARNER)
    # The HTML page's form (no JavaScript): a 303 back to the claim page.
    claim = award["claimUrl"]
    status, _, _, headers = await fetch(api, "POST", f"{claim}/share", data={"action": "publish"})
    assert status == 303 and claim.endswith(headers["Location"]), headers
    status, view = await api.call("GET", claim)
    assert view["share"]["status"] == "published", view
    url = view["share"]["url"]
    # The share and the new provider's accreditation reach the verifier over
    # Kafka on two consumers of its own: trusted first, then shown as such.
    assert await api.trusted_report(award["jwt"]), await api.verify(award["jwt"])
    assert (await share_answer(api, url, 200))["verification"]["verdict"] == "valid"
    # A form must say publish or unpublish, readably: else a 422, nothing changed.
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    for data, headers in [
        ({"action": "bogus"}, None),
        (b"\xff\xfe=%%%", urlencoded),
        (b"action=unpublish", {"Content-Type": "application/x-www-form-urlencoded; charset=bogus"}),
    ]:
        status, media, body, _ = await fetch(
            api, "POST", f"{claim}/share", data=data, headers=headers
        )
        assert status == 422 and media == "application/problem+json", (data, body)
    assert (await api.call("GET", claim))[1]["share"]["status"] == "published"
    multipart = aiohttp.FormData({"action": "unpublish"}, default_to_multipart=True)
    status, _, _, _ = await fetch(api, "POST", f"{claim}/share", data=multipart)
    assert status == 303 and (await api.call("GET", claim))[1]["share"]["status"] == "unpublished"
    await fetch(api, "POST", f"{claim}/share", data={"action": "publish"})

    # Each poison record dead-lettered by both consumers (issuer, verifier), with its reason.
    async def dead() -> list[Any]:
        found = await read_topic(stack.kafka_bootstrap, topic + ".dlq")
        return found if len(found) >= 4 * len(partitions) else []

    letters = await until(dead, within=15)
    assert len(letters) == 4 * len(partitions), letters
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["dlq.reason"] and headers["dlq.topic"].decode() == topic

    # A wiped Redis: 503 while the verifier replays, never a wrong 404, then 200.
    assert stack.wipe_redis("verifier") > 0
    seen: set[int] = set()

    async def back() -> bool:
        status, _ = await api.call("GET", url)
        seen.add(status)
        return (status == 200 and len(seen) > 1) or (status == 200 and 503 in seen)

    assert await until(back, within=20, interval=0.01), seen
    assert seen <= {200, 503}, seen
