"""The fonts badge images and certificates draw text with.

DejaVu Sans (Debian's `fonts-dejavu-core`, which `make up` installs) covers
Latin with every accent, Greek and Cyrillic (and has Arabic and Hebrew
letters, drawn unjoined and left to right: there is no text shaping here);
when it is not installed, ReportLab's bundled Bitstream Vera (Latin) is
used, so a badge never depends on the system. No font here covers Chinese,
Japanese or Korean: those characters are drawn as boxes. Pillow's default
font, used before, has no glyph beyond ASCII: "Sécurité" came out as
"S?curit?".
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import reportlab
from PIL import ImageFont

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).with_name("fonts")
_NONCHARS = "\ufffe\uffff"  # not characters (XML 1.0 §2.2)
_FILES = {
    False: (_DEJAVU / "DejaVuSans.ttf", _VERA / "Vera.ttf"),
    True: (_DEJAVU / "DejaVuSans-Bold.ttf", _VERA / "VeraBd.ttf"),
}


@cache
def font_file(bold: bool = False) -> Path:
    """The TrueType file for body text (or bold): DejaVu Sans, else Vera."""
    return next(path for path in _FILES[bold] if path.is_file())


@cache
def pillow_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_file(bold)), size)


def drawable(text: str) -> str:
    """`text` without control characters (XML 1.0 forbids most of them, and
    no font draws them) and with its characters composed (NFC: an accent
    typed as a separate mark becomes one glyph)."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(
        c for c in composed if unicodedata.category(c) != "Cc" and c not in "\ufffe\uffff"
    )
