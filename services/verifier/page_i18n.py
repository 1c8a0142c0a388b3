"""The verification page's languages: one JSON catalogue per language.

A plain dict catalogue rather than Babel/gettext: the page has about a
hundred strings in two languages, no plurals that vary by language, and no
translator tooling to feed; JSON files need no extraction or compile step and
a unit test keeps every catalogue's keys identical.  Dates are written in
ISO 8601 (`2026-03-01`), which reads the same in both languages.

The language comes from `?lang=` (the visible switch), else from
`Accept-Language` (RFC 9110 §12.5.4, quality values honoured), else English.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "fr")
DEFAULT = "en"
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


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """`?lang=` when it names a language we have, else the best match in
    `Accept-Language` (a primary subtag match: `fr-CA` is `fr`), else English."""
    if query_lang in LANGUAGES:
        return str(query_lang)
    best, best_q = DEFAULT, 0.0
    for position, item in enumerate((accept_language or "").split(",")[:20]):
        tag, *parameters = item.split(";")
        primary = tag.strip().lower().split("-")[0]
        q = _quality(parameters) - position * 1e-6  # earlier wins a tie
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best
