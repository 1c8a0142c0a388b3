"""Look-alikes of registered providers (architecture invariant 9).

An issuer that is not accredited but carries the name of a registered
provider or issuer of another tenant, or claims an achievement from our
catalog that is not its own, gets a failed `impersonation` check naming the
real one and its DIDs. Names are compared after `normalise_name`: Unicode
compatibility decomposition, accents dropped, case folded, punctuation
dropped, and the legal-form and institution-kind words that a look-alike
varies at will ("University", "Inc", "Ltd", "GmbH", "College"...) removed;
word order is ignored ("University of Oxford" = "Oxford University").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Words that do not tell two institutions apart (accents already dropped).
GENERIC_WORDS = frozenset(
    {
        "the", "of", "and", "for", "at", "de", "der", "la", "le", "du", "des", "di", "del",
        "university", "universities", "univ", "uni", "universitat", "universite",
        "universidad", "universita", "universiteit", "universidade", "college", "colleges",
        "inc", "incorporated", "ltd", "limited", "llc", "plc", "gmbh", "ag", "sa", "sarl",
        "srl", "spa", "bv", "nv", "co", "corp", "corporation", "company",
    }
)  # fmt: skip
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_name(name: str) -> str:
    """The comparable form of an institution's name ("" when nothing distinctive is left)."""
    return _normalise_recent(name) if len(name) <= _MEMO_MAX_LENGTH else _normalise(name)


def _normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = {w for w in _NON_WORD.split(plain) if w and w not in GENERIC_WORDS}
    return " ".join(sorted(words))


# Every verification looks its issuer's name up: a pure, bounded memo (issue 7).
_normalise_recent = functools.lru_cache(maxsize=4096)(_normalise)
_MEMO_MAX_LENGTH = 256


@dataclass(frozen=True)
class Named:
    """Who holds a name: a provider (by id) or a registered issuer (by DID)."""

    kind: str  # "provider" or "issuer"
    id: str


@dataclass
class NameIndex:
    """Normalised name -> who holds it; a renamed holder leaves its old name."""

    holders: dict[str, set[Named]] = field(default_factory=dict)
    names: dict[Named, str] = field(default_factory=dict)

    def put(self, holder: Named, name: object) -> None:
        old = self.names.pop(holder, None)
        if old is not None:
            self.holders.get(old, set()).discard(holder)
        key = normalise_name(name) if isinstance(name, str) else ""
        if key:
            self.names[holder] = key
            self.holders.setdefault(key, set()).add(holder)

    def find(self, name: object) -> Iterable[Named]:
        key = normalise_name(name) if isinstance(name, str) else ""
        return sorted(self.holders.get(key, ()), key=lambda h: (h.kind != "provider", h.id))
