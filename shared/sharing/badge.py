"""Badge images for credentials, baked per OB 3.0 §5.3 (`shared.credentials.baking`).

An achievement whose `image` is a PNG or SVG `data:` URI keeps its own
picture. Any other (an http URL, or none) gets a generated design: a disc
with the title wrapped on up to four lines, the provider and the level. We
never fetch an image URL here: an award must not depend on a third party's
server, and a fetch from the issuer would be an SSRF path.

The PNG is drawn with Pillow from the same layout as the SVG (`fonts.py`:
DejaVu Sans, else ReportLab's bundled Vera, and WenQuanYi Micro Hei for
Chinese, Japanese and Korean; no native SVG renderer to install). Control
characters are left out of both (`fonts.drawable`): an SVG with them is not
well-formed XML.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import textwrap
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from shared.credentials.baking import MAX_IMAGE_BYTES, PNG_SIGNATURE, bake_png, bake_svg
from shared.credentials.errors import CredentialError
from shared.sharing.facts import CredentialFacts
from shared.sharing.fonts import cells, drawable, pillow_font

SIZE = 512
ImageKind = Literal["png", "svg"]
MEDIA_TYPES: dict[ImageKind, str] = {"png": "image/png", "svg": "image/svg+xml"}
# Dark backgrounds: white text on each has a contrast ratio above 7:1 (WCAG AAA).
_PALETTE = ("#1f3a5f", "#5b2a86", "#0b5d3b", "#7a2e0e", "#23395b")
_TITLE_LINES, _TITLE_WIDTH = 4, 16
_PROVIDER_LINES, _PROVIDER_WIDTH = 2, 28


@dataclass(frozen=True)
class Line:
    text: str
    y: int
    size: int
    bold: bool = False


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """`text` on at most `lines` lines of `width` cells (`fonts.cells`: a
    Chinese character takes two), the last one cut with an ellipsis."""
    wrapped = (
        textwrap.wrap(text, width=width, break_long_words=True)
        if cells(text) == len(text)
        else _wrap_wide(text, width)
    ) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1]
        while last and cells(last) > width - 1:
            last = last[:-1]
        wrapped[-1] = last.rstrip() + "…"
    return wrapped


def _wrap_wide(text: str, width: int) -> list[str]:
    """Lines of at most `width` cells, broken between any two characters
    (Chinese and Japanese are written without spaces between words)."""
    lines, line = [], ""
    for character in text:
        if cells(line + character) > width:
            lines.append(line.strip())
            line = ""
        line += character
    return [kept for kept in (*lines, line.strip()) if kept]


def layout(facts: CredentialFacts) -> tuple[str, list[Line]]:
    """The background colour and the text lines (centred at x = SIZE / 2)."""
    colour = _PALETTE[hashlib.sha256(facts.title.encode()).digest()[0] % len(_PALETTE)]
    title = _wrap(drawable(facts.title), _TITLE_WIDTH, _TITLE_LINES)
    lines: list[Line] = []
    if facts.level:
        lines.append(Line(drawable(facts.level), 120, 26, bold=True))
    top = 256 - (len(title) - 1) * 22
    lines += [Line(text, top + i * 44, 38, bold=True) for i, text in enumerate(title)]
    provider = _wrap(drawable(facts.provider or ""), _PROVIDER_WIDTH, _PROVIDER_LINES)
    lines += [Line(text, 384 + i * 28, 22) for i, text in enumerate(provider) if text]
    return colour, lines


def design_svg(facts: CredentialFacts) -> bytes:
    colour, lines = layout(facts)
    bold = ' font-weight="bold"'
    texts = "".join(
        f'<text x="{SIZE // 2}" y="{line.y}" font-size="{line.size}"'
        f"{bold if line.bold else ''}>{escape(line.text)}</text>"
        for line in lines
    )
    title = drawable(facts.title)
    label = escape(f"{title}, {drawable(facts.provider or '')}", {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{label}">'
        f"<title>{escape(title)}</title>"
        f'<circle cx="256" cy="256" r="248" fill="{colour}"/>'
        '<circle cx="256" cy="256" r="228" fill="none" stroke="#ffffff" stroke-width="6"/>'
        '<g fill="#ffffff" font-family="DejaVu Sans, Arial, sans-serif" '
        f'text-anchor="middle" dominant-baseline="middle">{texts}</g></svg>'
    ).encode()


def design_png(facts: CredentialFacts) -> bytes:
    colour, lines = layout(facts)
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=colour)
    draw.ellipse((28, 28, SIZE - 28, SIZE - 28), outline="#ffffff", width=6)
    for line in lines:
        draw.text(
            (SIZE // 2, line.y),
            line.text,
            fill="#ffffff",
            font=pillow_font(line.size, line.bold, line.text),
            anchor="mm",
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _data_uri(uri: str | None, media_type: str) -> bytes | None:
    prefix = f"data:{media_type};base64,"
    if uri is None or not uri.startswith(prefix):
        return None
    try:
        data = base64.b64decode(uri[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if len(data) <= MAX_IMAGE_BYTES else None


def badge_image(facts: CredentialFacts, kind: ImageKind) -> bytes:
    """The achievement's own PNG/SVG (a data: URI), else the generated design."""
    own = _data_uri(facts.image, MEDIA_TYPES[kind])
    if kind == "png":
        return own if own is not None and own.startswith(PNG_SIGNATURE) else design_png(facts)
    return own if own is not None and b"<svg" in own[:4096] else design_svg(facts)


def baked_badge(facts: CredentialFacts, kind: ImageKind, credential_jwt: str) -> bytes:
    """The badge with the VC-JWT baked in (PNG iTXt `openbadgecredential`, or
    SVG `openbadges:credential verify=...`; OB 3.0 §5.3)."""
    image = badge_image(facts, kind)
    try:
        return bake_png(image, credential_jwt) if kind == "png" else bake_svg(image, credential_jwt)
    except CredentialError:  # the achievement's own image is unusable: use the design
        design = design_png(facts) if kind == "png" else design_svg(facts)
        return (
            bake_png(design, credential_jwt) if kind == "png" else bake_svg(design, credential_jwt)
        )
