"""The verifier's intake: every input form becomes a credential or a JWT, and
anything else a 4xx domain error naming why (`services/verifier/intake.py`)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from services.verifier.intake import Intake, UnreadableSubmission, UrlNotFetched
from shared.credentials.baking import bake_png, bake_svg
from shared.credentials.crypto_keys import generate_ed25519
from shared.credentials.dids import did_key_for
from shared.credentials.jwt import sign_vc_jwt
from shared.web.safe_fetch import FetchPolicy, SafeFetcher
from tests.unit.credentials.test_baking import make_png
from tests.unit.credentials.vc_samples import ob3_credential

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'


@pytest.fixture
def intake() -> Intake:
    return Intake(SafeFetcher(FetchPolicy(timeout_seconds=1)))


def signed() -> tuple[dict[str, Any], str]:
    key = generate_ed25519()
    credential = ob3_credential(did_key_for(key.public_key))
    return credential, sign_vc_jwt(credential, key)


async def test_text_forms(intake: Intake) -> None:
    _, jwt = signed()
    assert await intake.decode_item(f"  {jwt}\n") == (jwt, "jwt")
    assert await intake.decode_item(f'"{jwt}"') == (jwt, "jwt")
    item, source = await intake.decode_item(b'{"@context": [], "id": "x"}')
    assert (item, source) == ({"@context": [], "id": "x"}, "json")
    envelope, _ = await intake.decode_item(f"data:application/vc+jwt,{jwt}")
    assert isinstance(envelope, dict) and envelope["type"] == "EnvelopedVerifiableCredential"


async def test_baked_images(intake: Intake) -> None:
    credential, jwt = signed()
    assert await intake.decode_item(bake_png(make_png(), jwt), "image/png") == (jwt, "png")
    assert await intake.decode_item(bake_png(make_png(), credential)) == (credential, "png")
    assert await intake.decode_item(bake_svg(SVG, jwt), "image/svg+xml") == (jwt, "svg")
    assert (await intake.decode_item(bake_svg(SVG, credential)))[1] == "svg"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"hello world", "not a credential"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"[1, 2]", "not a credential"),
        (b'{"id": "no context"}', "@context"),
        (b"{not json", "not valid JSON"),
        (make_png(), "holds no credential"),
        (SVG, "holds no credential"),
    ],
)
async def test_unreadable_input_says_why(intake: Intake, data: bytes, why: str) -> None:
    with pytest.raises(UnreadableSubmission, match=why) as caught:
        await intake.decode_item(data)
    assert caught.value.status == 422


async def test_a_fetched_document_naming_another_url_is_not_followed(intake: Intake) -> None:
    with pytest.raises(UnreadableSubmission, match="not followed"):
        await intake.decode_item("https://example.org/vc", follow_urls=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/vc.json",  # not https
        "https://127.0.0.1/vc",
        "https://10.1.2.3/vc",
        "https://[::1]/vc",
        "https://user:pw@example.org/vc",
        "https://[::1/vc",  # not even a URL
        "https://" + "a" * 70 + ".example/vc",  # an IDNA label too long
        "ftp://example.org/vc",
    ],
)
async def test_urls_the_guard_refuses_are_a_422(intake: Intake, url: str) -> None:
    with pytest.raises(UrlNotFetched) as caught:
        await intake.decode_item(url)
    assert caught.value.status == 422 and caught.value.problem == "url-not-fetched"


async def test_batch_entries(intake: Intake) -> None:
    credential, jwt = signed()
    assert (await intake.decode_entry(jwt)).item == jwt
    plain = await intake.decode_entry(credential)
    assert (plain.item, plain.id) == (credential, None)  # a credential's own id is not a tag
    tagged = await intake.decode_entry({"id": 7, "jwt": jwt, "options": {"recipient": "a@b.c"}})
    assert (tagged.item, tagged.id, tagged.options) == (jwt, 7, {"recipient": "a@b.c"})
    image = base64.b64encode(bake_png(make_png(), jwt)).decode()
    assert (await intake.decode_entry({"image": image})).source == "png"
    urlsafe = base64.urlsafe_b64encode(bake_png(make_png(), jwt)).decode().rstrip("=")
    assert (await intake.decode_entry({"image": urlsafe})).item == jwt
    with pytest.raises(UnreadableSubmission, match="exactly one"):
        await intake.decode_entry({"jwt": jwt, "url": "https://example.org"})
    with pytest.raises(UnreadableSubmission):
        await intake.decode_entry(42)
    with pytest.raises(UnreadableSubmission):
        await intake.decode_entry({"image": "%%%"})
