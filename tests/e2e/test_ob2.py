"""Open Badges 2.0 through the real verifier (issue 11): hosted and signed
assertions made with openbadgeslib, their issuer's documents served by a web
site in this test (a trusted http origin of a verifier instance started for
it), judged as "Open Badges 2.0", revoked ones too."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openbadgeslib.baking import bake_png, bake_svg
from openbadgeslib.ob2 import OB2Signer
from openbadgeslib.ob2.models import (
    Assertion,
    BadgeClass,
    CryptographicKey,
    IdentityObject,
    Profile,
    RevocationList,
    Verification,
)

from shared.credentials.baking import unbake_ob2_png
from tests.e2e.client import Api, Json, check
from tests.e2e.harness import Stack
from tests.unit.credentials.test_baking import make_png

pytestmark = [pytest.mark.e2e]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _port()
ORIGIN = f"http://127.0.0.1:{PORT}"
ISSUER, BADGE, KEY = f"{ORIGIN}/issuer", f"{ORIGIN}/badge", f"{ORIGIN}/key"
REVOCATIONS = f"{ORIGIN}/revocations"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle r="3"/></svg>'
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DOCS: dict[str, Json] = {}


def _site() -> None:
    public_pem = PRIVATE.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    DOCS[ISSUER] = Profile(
        id=ISSUER, name="Old Badges Inc", public_key=[KEY], revocation_list=REVOCATIONS
    ).to_dict()
    DOCS[BADGE] = BadgeClass(
        id=BADGE,
        name="Spreadsheets",
        description="Builds spreadsheets.",
        image=f"{ORIGIN}/badge.png",
        criteria=f"{ORIGIN}/criteria",
        issuer=ISSUER,
    ).to_dict()
    DOCS[KEY] = CryptographicKey(id=KEY, owner=ISSUER, public_key_pem=public_pem.decode()).to_dict()
    DOCS[REVOCATIONS] = RevocationList(id=REVOCATIONS, issuer=ISSUER).to_dict()


@pytest.fixture(scope="module")
def verifier(stack: Stack) -> Iterator[str]:
    """A verifier instance that may fetch from this test's web site over http."""
    instance = stack.add_instance("verifier", "verifier-ob2")
    instance.env["MICROCRED_TRUSTED_FETCH_ORIGINS"] += f",{ORIGIN}"
    stack.start("verifier-ob2")
    try:
        yield instance.url
    finally:
        stack.stop("verifier-ob2")


@pytest.fixture
async def site() -> AsyncIterator[None]:
    _site()

    async def serve(request: web.Request) -> web.Response:
        doc = DOCS.get(f"{ORIGIN}{request.path}")
        if doc is None:
            return web.Response(status=404)
        # the verifier caches fetched documents as HTTP caching says (else 5 min)
        return web.json_response(doc, headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    try:
        yield
    finally:
        await runner.cleanup()


def _assertion(kind: str, assertion_id: str | None = None) -> Assertion:
    return Assertion(
        recipient=IdentityObject.create("holder@example.org", "pepper"),
        badge=BADGE,
        verification=Verification(type=kind, creator=KEY if kind == "SignedBadge" else None),
        id=assertion_id,
        issued_on=datetime.now(UTC) - timedelta(days=3),
    )


def _signer() -> OB2Signer:
    pem = PRIVATE.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return OB2Signer(pem, "RS256")


async def _verify(verifier: str, value: Any) -> tuple[int, Json]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{verifier}/credentials/verify", json={"verifiableCredential": value}) as r,
    ):
        return r.status, await r.json(content_type=None)


async def test_signed_and_baked(stack: Stack, verifier: str, site: None) -> None:
    badge = _assertion("SignedBadge")
    token = unbake_ob2_png(bake_png(make_png(), _signer().sign(badge)))
    code, report = await _verify(verifier, token)
    assert code == 200 and report["verified"], report
    assert check(report, "format")["reason"] == "Open Badges 2.0 (signed assertion)"
    assert report["verdict"] == "untrusted"  # an issuer URL our registry cannot accredit
    DOCS[REVOCATIONS] = RevocationList(
        id=REVOCATIONS, issuer=ISSUER, revoked_assertions=[badge.id]
    ).to_dict()
    code, report = await _verify(verifier, token)
    assert code == 400 and check(report, "status")["code"] == "revoked", report


async def test_hosted(stack: Stack, verifier: str, site: None, api: Api) -> None:
    url = f"{ORIGIN}/assertions/7"
    hosted = _assertion("HostedBadge", url).to_dict()
    DOCS[url] = hosted
    code, report = await _verify(verifier, hosted)
    assert code == 200 and report["verified"], report
    DOCS[url] = {**hosted, "revoked": True}
    code, report = await _verify(verifier, hosted)
    assert code == 400 and check(report, "status")["code"] == "revoked", report


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(stack, session)


async def _upload(verifier: str, image: bytes, media_type: str) -> tuple[int, Json]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{verifier}/credentials/verify", data=image, headers={"Content-Type": media_type}
        ) as r,
    ):
        return r.status, await r.json(content_type=None)


async def _batch(verifier: str, images: list[bytes]) -> list[Json]:
    lines = [
        json.dumps({"id": str(i), "image": base64.b64encode(image).decode()})
        for i, image in enumerate(images)
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{verifier}/credentials/verify/batch",
            data="\n".join(lines) + "\n",
            headers={"Content-Type": "application/x-ndjson"},
        ) as r,
    ):
        assert r.status == 200, await r.text()
        answers = [json.loads(raw) for raw in (await r.text()).splitlines() if raw.strip()]
    return sorted(answers, key=lambda a: int(a["id"]))


async def test_baked_ob2_images_through_the_intake(stack: Stack, verifier: str, site: None) -> None:
    """OB 2.0 Baking: a signed badge's JWS in a PNG's `openbadges` iTXt and in
    an SVG's `<openbadges:assertion verify>`; a hosted assertion's JSON in an
    SVG (its `verify` the URL): uploaded as images and sent as batch `image`s."""
    signed = _assertion("SignedBadge")
    token = _signer().sign(signed)
    png = bake_png(make_png(), token)
    svg = bake_svg(SVG, token)
    url = f"{ORIGIN}/assertions/baked"
    hosted = _assertion("HostedBadge", url).to_dict()
    DOCS[url] = hosted
    hosted_svg = bake_svg(SVG, json.dumps(hosted), as_text=True)
    for image, media_type, kind in (
        (png, "image/png", "signed"),
        (svg, "image/svg+xml", "signed"),
        (hosted_svg, "image/svg+xml", "hosted"),
    ):
        code, report = await _upload(verifier, image, media_type)
        assert code == 200 and report["verified"], (media_type, report)
        assert check(report, "format")["reason"] == f"Open Badges 2.0 ({kind} assertion)"
    answers = await _batch(verifier, [png, svg, hosted_svg])
    assert [a["report"]["verified"] for a in answers] == [True] * 3, answers
    # revoked: the signed badge on the issuer's list, the hosted one by its own flag
    DOCS[REVOCATIONS] = RevocationList(
        id=REVOCATIONS, issuer=ISSUER, revoked_assertions=[signed.id]
    ).to_dict()
    DOCS[url] = {**hosted, "revoked": True}
    for image, media_type in ((png, "image/png"), (svg, "image/svg+xml")):
        code, report = await _upload(verifier, image, media_type)
        assert code == 400 and check(report, "status")["code"] == "revoked", report
    answers = await _batch(verifier, [png, svg, hosted_svg])
    assert [a["report"]["state"] for a in answers] == ["revoked"] * 3, answers
