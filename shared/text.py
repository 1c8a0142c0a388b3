"""Names people read: a name must show something.

A name made only of spaces, control characters or invisible format
characters (zero-width spaces, bidirectional marks) passes a length check
but reads as nothing, or as another name, on a verification page and in
the trust list.
"""

from __future__ import annotations

import unicodedata

# Unicode general categories that draw nothing: separators (Z*), controls
# (Cc), format characters such as U+200B or U+202E (Cf), unassigned (Cn).
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn"})


def has_visible_character(text: str) -> bool:
    """Whether `text` has at least one character that draws something."""
    return any(unicodedata.category(c) not in _INVISIBLE for c in text)
