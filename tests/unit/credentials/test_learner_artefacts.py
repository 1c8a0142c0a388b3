"""shared/sharing: links, baked badge designs (read back by openbadgeslib and
by us), the LinkedIn URL's exact encoding and the certificate PDF."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pypdf
import pytest
import segno
from defusedxml.minidom import parseString
from openbadgeslib.ob3.verifier import OB3Verifier
from PIL import Image, ImageDraw, ImageFont

from shared.credentials.baking import unbake, unbake_png, unbake_svg
from shared.credentials.dids import DidResolver
from shared.credentials.jwt import sign_vc_jwt
from shared.credentials.verify import verify_credential
from shared.sharing.badge import badge_image, baked_badge, design_png, design_svg, layout
from shared.sharing.certificate import QR_BORDER, certificate_pdf, drawn_order, joined
from shared.sharing.facts import CredentialFacts, facts_of
from shared.sharing.fonts import font_file, pillow_font
from shared.sharing.linkedin import linkedin_add_url
from shared.sharing.links import LearnerLinks
from tests.unit.credentials.test_verify import Issuer, MemoryLists
from tests.unit.credentials.vc_samples import ob3_credential

CREDENTIAL_ID = "urn:uuid:6c1b8a62-0b53-4c35-9f3b-2b6f7b9d0c11"
SHARE_URL = "https://verify.example/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def facts(**changes: Any) -> CredentialFacts:
    base: dict[str, Any] = {
        "credential_id": CREDENTIAL_ID,
        "title": "Applied Data Protection & GDPR for SMEs",
        "description": "Apply GDPR in an SME",
        "provider": "École Polytechnique d'Été",
        "issuer_id": "did:key:z6Mk",
        "level": "EQF 5",
        "learner": "Ada Lovelace",
        "valid_from": datetime(2026, 3, 9, 10, 0, tzinfo=UTC),
        "valid_until": datetime(2028, 11, 1, tzinfo=UTC),
        "image": None,
    }
    return CredentialFacts(**{**base, **changes})


# --- links ----------------------------------------------------------------------


def test_claim_tokens_find_their_credential_and_cannot_be_forged() -> None:
    links = LearnerLinks.from_master_key(b"k" * 32)
    token = links.claim_token(CREDENTIAL_ID)
    assert links.credential_of(token) == CREDENTIAL_ID
    assert links.claim_token(CREDENTIAL_ID) == token  # stable
    other = LearnerLinks.from_master_key(b"o" * 32)
    assert other.credential_of(token) is None  # another deployment's key
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert links.credential_of(flipped) is None
    assert links.credential_of("../../etc/passwd") is None
    assert links.credential_of(token[:32] + "x" * 32) is None


def test_share_ids_are_stable_distinct_and_say_nothing_of_the_credential() -> None:
    links = LearnerLinks.from_master_key(b"k" * 32)
    share = links.share_id(CREDENTIAL_ID)
    assert share == links.share_id(CREDENTIAL_ID) and len(share) == 32
    assert share != links.share_id("urn:uuid:00000000-0000-4000-8000-000000000000")
    assert CREDENTIAL_ID.removeprefix("urn:uuid:").replace("-", "") not in share
    assert share not in links.claim_token(CREDENTIAL_ID)


# --- facts ----------------------------------------------------------------------


def test_facts_of_a_credential_and_its_jwt() -> None:
    issuer = Issuer()
    credential = ob3_credential(issuer.did)
    subject = credential["credentialSubject"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Ada Lovelace",
        }
    ]
    subject["achievement"]["eqfLevel"] = 6
    from_json = facts_of(credential)
    assert from_json == facts_of(sign_vc_jwt(credential, issuer.key))
    assert from_json.title == subject["achievement"]["name"]
    assert from_json.learner == "Ada Lovelace" and from_json.level == "EQF 6"
    assert from_json.credential_id == credential["id"]


# --- badges ---------------------------------------------------------------------


def test_the_design_wraps_a_long_title_and_shows_provider_and_level() -> None:
    long = facts(
        title="A very long micro-credential title that would never fit on one line "
        "of a badge however small the font is"
    )
    _, lines = layout(long)
    texts = [line.text for line in lines]
    assert texts[0] == "EQF 5"
    assert 2 <= len([t for t in texts if t not in ("EQF 5",)]) <= 6
    assert all(len(t) <= 28 for t in texts)
    assert texts[4].endswith("…")  # four title lines at most
    assert "École Polytechnique d'Été" in " ".join(texts)
    image = Image.open(io.BytesIO(design_png(long)))
    assert image.size == (512, 512)
    assert image.getpixel((256, 30))[3] == 255 and image.getpixel((2, 2))[3] == 0


def test_an_achievement_data_uri_image_is_kept() -> None:
    own = Image.new("RGB", (8, 8), "red")
    out = io.BytesIO()
    own.save(out, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    assert badge_image(facts(image=uri), "png") == out.getvalue()
    assert badge_image(facts(image="https://uni.example/b.png"), "png") == design_png(facts())


@pytest.mark.parametrize("kind", ["png", "svg"])
async def test_baked_badges_read_back_by_openbadgeslib_and_by_our_verifier(kind: str) -> None:
    issuer = Issuer()
    credential = ob3_credential(issuer.did, valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    jwt = sign_vc_jwt(credential, issuer.key)
    baked = baked_badge(facts_of(jwt), kind, jwt)  # type: ignore[arg-type]
    # openbadgeslib, an independent implementation, finds and verifies it.
    if kind == "png":
        token = OB3Verifier.extract_token_from_png(baked)
        assert unbake_png(baked) == jwt
    else:
        token = OB3Verifier.extract_token_from_svg(baked)
        assert unbake_svg(baked) == jwt
    assert token == jwt
    OB3Verifier.for_issuer_did(issuer.did).verify(token)
    report = await verify_credential(
        unbake(baked), resolver=DidResolver(), status_lists=MemoryLists()
    )
    assert report.verified, report.checks


# --- LinkedIn -------------------------------------------------------------------


def test_linkedin_url_exact_encoding() -> None:
    url = linkedin_add_url(facts(), SHARE_URL)
    assert url == (
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME"
        "&name=Applied+Data+Protection+%26+GDPR+for+SMEs"
        "&organizationName=%C3%89cole+Polytechnique+d%27%C3%89t%C3%A9"
        "&issueYear=2026&issueMonth=3&expirationYear=2028&expirationMonth=11"
        "&certUrl=https%3A%2F%2Fverify.example%2Fs%2FAbCdEfGhIjKlMnOpQrStUvWxYz012345"
        "&certId=urn%3Auuid%3A6c1b8a62-0b53-4c35-9f3b-2b6f7b9d0c11"
    )
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["certUrl"] == SHARE_URL and query["name"] == facts().title


def test_linkedin_url_with_an_organization_id_and_no_expiry() -> None:
    url = linkedin_add_url(facts(valid_until=None), SHARE_URL, organization_id="1337")
    query = parse_qsl(urlsplit(url).query)
    names = [name for name, _ in query]
    assert ("organizationId", "1337") in query and "organizationName" not in names
    assert "expirationYear" not in names and "expirationMonth" not in names


# --- certificate ----------------------------------------------------------------


def _qr_matrix_from_png(png: bytes) -> list[list[int]]:
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    return [
        [1 if image.getpixel((x, y)) < 128 else 0 for x in range(QR_BORDER, width - QR_BORDER)]
        for y in range(QR_BORDER, height - QR_BORDER)
    ]


def test_certificate_pdf_has_title_learner_and_a_qr_code_of_the_share_url() -> None:
    pdf = pypdf.PdfReader(io.BytesIO(certificate_pdf(facts(), SHARE_URL)))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())  # lines wrapped as they fit
    for expected in ("Applied Data Protection & GDPR for SMEs", "Ada Lovelace", SHARE_URL, "EQF 5"):
        assert expected in text
    images = list(pdf.pages[0].images)
    assert len(images) == 1
    found = _qr_matrix_from_png(images[0].data)
    expected = [[1 if bit else 0 for bit in row] for row in segno.make(SHARE_URL, error="m").matrix]
    assert found == expected
    other = [[1 if b else 0 for b in r] for r in segno.make(SHARE_URL + "x", error="m").matrix]
    assert found != other


def test_a_french_certificate_speaks_french() -> None:
    pdf = certificate_pdf(facts(valid_from=datetime(2026, 12, 1, tzinfo=UTC)), SHARE_URL, "fr")
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    for expected in (
        "Nous certifions que",
        "a obtenu la micro-certification",
        "délivrée par École Polytechnique d'Été",
        "le 1er décembre 2026, valable jusqu'au 1er novembre 2028",
        "Vérifiez-la en ligne",
    ):
        assert expected in text, text
    english = " ".join(
        pypdf.PdfReader(io.BytesIO(certificate_pdf(facts(), SHARE_URL)))
        .pages[0]
        .extract_text()
        .split()
    )
    assert "on 9 March 2026, valid until 1 November 2028" in english, english


def starts_of_text(pdf: bytes) -> tuple[float, list[float], str]:
    """The page width, where each drawn string starts, and the page's text."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    found: list[float] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append(float(tm[4]))

    text = page.extract_text(visitor_text=visit)
    return float(page.mediabox.width), found, text


def test_names_in_any_script_print_and_a_long_word_breaks_inside_the_page() -> None:
    """Accents, Greek and Cyrillic print as themselves (PDF's Helvetica had
    no glyph beyond Latin-1); a 200-character name without a space (Chinese
    is written so) is broken between characters, not drawn off the page."""
    learner = "Zoë Ñúñez Ψυχή Жанна"
    width, starts, text = starts_of_text(certificate_pdf(facts(learner=learner), SHARE_URL))
    assert learner in text and "■" not in text
    unbroken = "x" * 200
    width, starts, text = starts_of_text(certificate_pdf(facts(learner=unbroken), SHARE_URL))
    assert starts and all(0 <= x < width for x in starts)
    assert "x" * 40 in text


def test_the_png_badge_draws_accented_letters() -> None:
    """Pillow's default font drew every non-ASCII character as the same box."""
    font = pillow_font(38, bold=True)

    def drawn(text: str) -> bytes:
        image = Image.new("L", (64, 64))
        ImageDraw.Draw(image).text((8, 8), text, font=font, fill=255)
        return image.tobytes()

    box = drawn("\ue000")  # private use: no glyph in any font
    for letter in "éñØЖΨ":
        assert drawn(letter) != box, letter
    assert design_png(facts(title="Sécurité réseau")).startswith(b"\x89PNG")


def test_chinese_japanese_and_korean_are_drawn_not_boxed() -> None:
    """DejaVu has no CJK glyph: such a text is drawn with WenQuanYi Micro
    Hei (installed by `make`), in the PNG and in the certificate, and a
    title without spaces wraps by width (a Chinese character is two cells)."""

    def drawn(text: str) -> bytes:
        image = Image.new("L", (64, 64))
        font = pillow_font(38, bold=True, text=text)
        ImageDraw.Draw(image).text((8, 8), text, font=font, fill=255)
        return image.tobytes()

    box = drawn("\ue000")
    for letter in "网络日本語한국":
        assert drawn(letter) != box, letter
    assert drawn("网") != drawn("络")
    title = "网络安全基础与实践之数据保护和隐私"  # 17 characters, 34 cells
    lines = [line.text for line in layout(facts(title=title))[1] if line.size == 38]
    assert "".join(lines) == title and len(lines) == 3, lines
    pdf = certificate_pdf(facts(title=title, learner="김민준 Kim"), SHARE_URL)
    _, _, text = starts_of_text(pdf)
    assert title in text and "김민준 Kim" in text
    fonts = {
        str(font["/BaseFont"]).split("+", 1)[-1]
        for font in pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
    }
    assert any(name.startswith("WenQuanYi") for name in fonts), fonts
    # a sign neither font has (an emoji) keeps the Chinese drawn, not boxed
    assert font_file(text="基礎〜応用 😀") == font_file(text="基礎")
    assert all(line.text for line in layout(facts(title="\u3000" * 12 + "x"))[1])


def test_arabic_and_hebrew_read_right_to_left_with_joined_letters() -> None:
    """Arabic letters join (initial, medial and final forms) and right-to-left
    text runs from the right: Pillow lays the PNG out with libraqm (FriBiDi
    installed by `make`); the certificate's text is joined and reordered
    before ReportLab draws it glyph by glyph."""
    assert pillow_font(38, bold=True).layout_engine == ImageFont.Layout.RAQM
    assert drawn_order(joined("שלום")) == "םולש"  # Hebrew: no joining, right to left
    assert drawn_order(joined("بيت")) == "\ufe96\ufef4\ufe91"  # final, medial, initial
    assert drawn_order(joined("EQF 5, جامعة")) == "EQF 5, \ufe94\ufecc\ufee3\ufe8e\ufe9f"
    assert joined("Ada") == drawn_order("Ada") == "Ada"
    pdf = certificate_pdf(facts(title="أمن الشبكات", learner="ليلى"), SHARE_URL)
    _, _, text = starts_of_text(pdf)
    arabic = [line for line in text.splitlines() if any("\u0600" <= c <= "\ufeff" for c in line)]
    assert len(arabic) == 2, text
    for line in arabic:  # drawn in joined forms only, never as unjoined letters
        assert all("\ufe70" <= c <= "\ufeff" for c in line if not c.isspace()), line


def test_control_characters_never_reach_the_svg() -> None:
    """A title the catalog took with control characters: the SVG stays
    well-formed XML and the badge bakes."""
    odd = facts(title="Safety \u0001\u000b first\ufffe", provider="A\u0007B")
    parseString(design_svg(odd))
    assert unbake_svg(baked_badge(odd, "svg", "a.b.c")) == "a.b.c"


def test_the_svg_design_escapes_what_the_institution_typed() -> None:
    hostile = facts(title='<script>alert("x")</script> & Co', provider="A&B <Ltd>")
    svg = design_svg(hostile)
    parsed = parseString(svg)  # well-formed XML, nothing injected
    assert parsed.getElementsByTagName("script") == []
    assert "<script>" not in svg.decode() and "&amp;" in svg.decode()
    baked = baked_badge(hostile, "svg", "a.b.c")
    assert unbake_svg(baked) == "a.b.c"


def test_a_long_title_wraps_inside_the_page() -> None:
    title = "Advanced interdisciplinary methods " * 8  # cut at 300 characters by facts_of
    pdf = pypdf.PdfReader(io.BytesIO(certificate_pdf(facts(title=title.strip()), SHARE_URL)))
    page = pdf.pages[0]
    width = float(page.mediabox.width)
    found: list[float] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append(float(tm[4]))

    page.extract_text(visitor_text=visit)
    assert found and all(0 <= x < width for x in found)
    text = page.extract_text()
    assert "Advanced interdisciplinary methods" in text and "…" in text
