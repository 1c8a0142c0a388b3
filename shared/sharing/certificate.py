"""A printable certificate (PDF, A4 landscape) with a QR code to the share link.

reportlab draws the page (the long-standing PDF library for Python, pure
Python apart from optional accelerators, no system libraries) and segno makes
the QR code (pure Python, no dependencies, ISO/IEC 18004 with error
correction level M here). The QR code is embedded as a PNG image with one
pixel per module, scaled up by the PDF, so it stays sharp in print. Text
is set in the badge's fonts (`fonts.py`: DejaVu Sans, else Vera; WenQuanYi
Micro Hei for Chinese, Japanese and Korean), embedded: PDF's standard
Helvetica has no glyph beyond Latin-1. A word too long for
the line (a long name without spaces, as Chinese is written) is broken
between characters. ReportLab draws each character's own glyph, in the
order given: Arabic is set in its joined forms (arabic-reshaper, to the
Arabic Presentation Forms DejaVu Sans has; vowel marks, optional in
Arabic script, are left out) and each line of right-to-left text is put in
the order it is drawn (python-bidi, the Unicode Bidirectional Algorithm of
UAX #9). ReportLab's own shaping needs its `rlbidi`, which PyPI does not
serve. Badge PNGs need neither: Pillow lays text out with libraqm.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path

import arabic_reshaper
import segno
from aiohttp import web
from bidi import get_display
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from shared.sharing.facts import CredentialFacts
from shared.sharing.fonts import drawable, font_file
from shared.web.negotiation import negotiate_language

QR_BORDER = 4  # quiet zone, in modules (ISO/IEC 18004 §7.3.8)
_TITLE_SIZE = 30
MAX_LINES = 2  # per text; a longer one is cut


def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG, one pixel per module, with its quiet zone."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=1, border=QR_BORDER)
    return out.getvalue()


# The certificate's own words, in the languages of the verification page.
CERTIFICATE_LANGUAGES = ("en", "fr")  # the first is the default
_WORDS = {
    "en": {
        "certifies": "This certifies that",
        "holder": "the holder of this credential",
        "awarded": "has been awarded the micro-credential",
        "issued_by": "issued by {}",
        "on": "on {}",
        "valid_until": "valid until {}",
        "check": "Check it online:",
    },
    "fr": {
        "certifies": "Nous certifions que",
        "holder": "le ou la titulaire de cette certification",
        "awarded": "a obtenu la micro-certification",
        "issued_by": "délivrée par {}",
        "on": "le {}",
        "valid_until": "valable jusqu'au {}",
        "check": "Vérifiez-la en ligne :",
    },
}
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}


def certificate_language(request: web.Request) -> str:
    """The certificate's language: `?lang=`, else `Accept-Language`, else English."""
    return negotiate_language(
        request.query.get("lang"), request.headers.get("Accept-Language"), CERTIFICATE_LANGUAGES
    )


def _day(value: datetime | None, lang: str) -> str | None:
    """A date as people write it: 4 December 2026, le 1er décembre 2026."""
    if value is None:
        return None
    day = "1er" if lang == "fr" and value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[lang][value.month - 1]} {value.year}"


def _font(text: str, bold: bool = False) -> str:
    """The name of the font to set `text` in (`font_file`), registered with
    reportlab once."""
    return _registered(font_file(bold, text))


@cache
def _registered(path: Path) -> str:
    name = f"microcred-{path.stem}"
    pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    return name


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def joined(text: str) -> str:
    """Arabic letters in their joined forms (others as they are), still in
    logical order: lines are measured and broken on this."""
    return arabic_reshaper.reshape(text) if _right_to_left(text) else text


def drawn_order(line: str) -> str:
    """One line in the order its characters are drawn, left to right."""
    return get_display(line) if _right_to_left(line) else line


def _split(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` in lines of at most `width`: between words, and between the
    characters of a word wider than a line."""
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width):
        while stringWidth(line, font, size) > width and len(line) > 1:
            fits = (n for n in range(1, len(line)) if stringWidth(line[:n], font, size) <= width)
            cut = max(fits, default=1)
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def _fit(text: str, font: str, size: float, width: float) -> tuple[float, list[str]]:
    """The largest font size down to 2/3 of `size` at which `text` fits
    `width` on at most MAX_LINES lines, and those lines (the last one cut)."""
    smallest = size * 2 / 3
    while True:
        lines = _split(text, font, size, width)
        if len(lines) <= MAX_LINES or size <= smallest:
            break
        size -= 1
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = lines[-1][:-1].rstrip() + "…"
    return size, lines


def certificate_pdf(facts: CredentialFacts, share_url: str, lang: str = "en") -> bytes:
    """The certificate, in `lang` (one of CERTIFICATE_LANGUAGES)."""
    words = _WORDS[lang]
    out = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(out, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(f"{facts.title}: certificate")
    pdf.setAuthor(facts.provider or "microcred")
    pdf.setSubject(share_url)
    pdf.setStrokeColorRGB(0.12, 0.23, 0.37)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    centre, text_width = width / 2, width - 70 * mm
    lines: list[tuple[bool, str, float]] = [(False, words["certifies"], 16)]  # (bold, ...)
    lines.append((True, facts.learner or words["holder"], 26))
    lines.append((False, words["awarded"], 16))
    lines.append((True, facts.title, _TITLE_SIZE))
    issued_by = words["issued_by"].format(facts.provider) if facts.provider else None
    lines.append((False, ", ".join(d for d in (facts.level, issued_by) if d), 16))
    dates = [words["on"].format(_day(facts.valid_from, lang)) if facts.valid_from else None]
    if facts.valid_until is not None:
        dates.append(words["valid_until"].format(_day(facts.valid_until, lang)))
    lines.append((False, ", ".join(d for d in dates if d), 14))
    y = height - 45 * mm
    for bold, text, wanted in lines:
        if not text:
            continue
        text = joined(drawable(text))
        font = _font(text, bold)
        size, wrapped = _fit(text, font, wanted, text_width)
        pdf.setFont(font, size)
        for part in wrapped:
            pdf.drawCentredString(centre, y, drawn_order(part))
            y -= size * 1.25
        y -= size * 0.65
    qr_size = 42 * mm
    pdf.drawImage(ImageReader(io.BytesIO(qr_png(share_url))), 22 * mm, 20 * mm, qr_size, qr_size)
    pdf.setFont(_font(share_url + (facts.credential_id or "")), 10)
    pdf.drawString(22 * mm + qr_size + 6 * mm, 20 * mm + qr_size / 2 + 4, words["check"])
    pdf.drawString(22 * mm + qr_size + 6 * mm, 20 * mm + qr_size / 2 - 10, share_url)
    if facts.credential_id:
        pdf.drawString(22 * mm + qr_size + 6 * mm, 20 * mm + qr_size / 2 - 24, facts.credential_id)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
