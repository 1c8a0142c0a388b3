"""The verification page's languages: one JSON catalogue per language.

A plain dict catalogue rather than Babel/gettext: the page has about a
hundred strings in two languages, no plurals that vary by language, and no
translator tooling to feed; JSON files need no extraction or compile step and
a unit test keeps every catalogue's keys identical.  Dates are written in
ISO 8601 (`2026-03-01`), which reads the same in both languages.

The language comes from `?lang=` (the visible switch), else from
`Accept-Language` (`shared.web.negotiation.negotiate_language`), else English.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "fr")  # the first is the default
_CATALOGUES = Path(__file__).with_name("i18n")


@dataclass(frozen=True)
class Catalogue:
    """One language's strings; a missing key shows as the key (caught by tests)."""

    lang: str
    strings: Mapping[str, str]

    def __call__(self, key: str) -> str:
        return self.strings.get(key, key)

    def has(self, key: str) -> bool:
        return key in self.strings

    @property
    def other(self) -> str:
        """The language the switch leads to."""
        return next(code for code in LANGUAGES if code != self.lang)


@cache
def catalogue(lang: str) -> Catalogue:
    """The catalogue of `lang` (one of LANGUAGES), read once."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for {lang!r}")
    strings = json.loads((_CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return Catalogue(lang, strings)
