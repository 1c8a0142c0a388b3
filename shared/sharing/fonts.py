"""The fonts badge images and certificates draw text with.

DejaVu Sans (Debian's `fonts-dejavu-core`, which `make up` installs) covers
Latin with every accent, Greek, Cyrillic, Arabic (with its presentation
forms) and Hebrew (laid out right to left by Pillow's libraqm in PNGs, and
by `certificate.py` for the PDF);
when it is not installed, ReportLab's bundled Bitstream Vera (Latin) is
used, so a badge never depends on the system. A text with characters
DejaVu has no glyph for, such as Chinese, Japanese or Korean, is drawn
with WenQuanYi Micro Hei (Debian's `fonts-wqy-microhei`, also installed by
`make up`; a TrueType collection ReportLab can embed, with Latin too, so
a mixed title needs no switching of fonts within a line) when it lacks
fewer of them; it has no bold face. Pillow's default font, used before, has no glyph
beyond ASCII: "Sécurité" came out as "S?curit?".
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import reportlab
from PIL import ImageFont
from reportlab.pdfbase.ttfonts import TTFontFile

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).with_name("fonts")
_NONCHARS = "\ufffe\uffff"  # not characters (XML 1.0 §2.2)
_FILES = {
    False: (_DEJAVU / "DejaVuSans.ttf", _VERA / "Vera.ttf"),
    True: (_DEJAVU / "DejaVuSans-Bold.ttf", _VERA / "VeraBd.ttf"),
}


_WIDE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@cache
def _base_file(bold: bool) -> Path:
    return next(path for path in _FILES[bold] if path.is_file())


@cache
def _coverage(path: Path) -> frozenset[int]:
    """The code points `path` (its first face) has glyphs for."""
    return frozenset(TTFontFile(str(path), subfontIndex=0).charToGlyph)


def font_file(bold: bool = False, text: str = "") -> Path:
    """The TrueType file to draw `text` with: DejaVu Sans (or its bold),
    else Vera; WenQuanYi Micro Hei when the first lacks glyphs `text` needs
    and it lacks fewer (a sign neither has, such as an emoji, does not turn
    a whole Chinese title into boxes)."""
    base = _base_file(bold)
    needed = {ord(c) for c in text if not c.isspace()}
    missing = needed - _coverage(base)
    if not missing or not _WIDE.is_file() or len(needed - _coverage(_WIDE)) >= len(missing):
        return base
    return _WIDE


def pillow_font(size: int, bold: bool = False, text: str = "") -> ImageFont.FreeTypeFont:
    """The Pillow font to draw `text` with, at `size` pixels (`font_file`)."""
    return _pillow_font(size, font_file(bold, text))


@cache
def _pillow_font(size: int, path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def cells(text: str) -> int:
    """How wide `text` is in character cells: East Asian wide and full-width
    characters take two (Unicode Standard Annex #11)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def drawable(text: str) -> str:
    """`text` without control characters (XML 1.0 forbids most of them, and
    no font draws them) and with its characters composed (NFC: an accent
    typed as a separate mark becomes one glyph)."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(
        c for c in composed if unicodedata.category(c) != "Cc" and c not in "\ufffe\uffff"
    )
