"""Field-level rules shared by the OB 3.0 shape checks in ``model.py``.

A ``Checker`` collects ``ShapeError``s; each method checks one member of one
object and records what is wrong with it, so a check reports every problem
in a document, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

from shared.credentials.errors import ShapeError

# XSD 1.1 dateTime / dateTimeStamp (the timezone is required in the latter).
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)
# XSD duration, as ISO 8601 without weeks; at least one component, T needs one.
_DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_FORBIDDEN_IN_URI = frozenset(' "<>\\^`{|}')
# Controls, space, DEL and the characters above, as one regex (a hot path:
# every URI of every credential verified).
_NOT_IN_URI = re.compile("[\x00-\x20\x7f" + re.escape("".join(sorted(_FORBIDDEN_IN_URI))) + "]")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")  # BCP 47, simplified
_EXT_TERM = re.compile(r"^ext:[A-Za-z0-9._-]+$")  # extensible enumerations


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_uri(value: str) -> bool:
    """An absolute URI/IRI: a scheme, no whitespace, controls or excluded characters."""
    if not _SCHEME.match(value) or len(value) <= value.index(":") + 1:
        return False
    return _NOT_IN_URI.search(value) is None


def is_url(value: str) -> bool:
    """An absolute http(s) URL with a host."""
    if not is_uri(value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_datetime(value: str, *, stamp: bool) -> datetime | None:
    """The instant an XSD dateTime (``stamp``: dateTimeStamp) names, else None."""
    match = _DATETIME.match(value)
    if match is None or (stamp and match.group(8) is None):
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        tz = _timezone(match.group(8))
        micro = int((match.group(7) or ".0")[1:7].ljust(6, "0"))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _timezone(text: str | None) -> timezone | None:
    """XSD timezone: Z or +hh:mm within ±14:00; ValueError otherwise."""
    if text is None:
        return None
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes > 59 or hours * 60 + minutes > 14 * 60:
        raise ValueError("timezone offset out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(offset if text[0] == "+" else -offset)


def is_duration(value: str) -> bool:
    return bool(_DURATION.match(value))


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checker:
    """Collects shape errors; one method per kind of member."""

    def __init__(self) -> None:
        self.errors: list[ShapeError] = []

    def fail(self, code: str, detail: str, path: str) -> None:
        self.errors.append(ShapeError(code, detail, path))

    def obj(self, value: object, path: str, what: str) -> Mapping[str, object] | None:
        if isinstance(value, Mapping):
            return value
        self.fail("wrong_type", f"{what} must be an object", path)
        return None

    def present(self, doc: Mapping[str, object], key: str, path: str, required: bool) -> bool:
        if key in doc and doc[key] is not None:
            return True
        if required:
            self.fail("missing_field", f"{key} is required", join(path, key))
        return False

    def string(
        self,
        doc: Mapping[str, object],
        key: str,
        path: str,
        *,
        required: bool = False,
        nonempty: bool = False,
    ) -> str | None:
        if not self.present(doc, key, path, required):
            return None
        value = doc[key]
        if not isinstance(value, str):
            self.fail("wrong_type", f"{key} must be a string", join(path, key))
            return None
        if nonempty and not value.strip():
            self.fail("empty_value", f"{key} must not be empty", join(path, key))
        return value

    def uri(
        self, doc: Mapping[str, object], key: str, path: str, *, required: bool = False
    ) -> str | None:
        value = self.string(doc, key, path, required=required)
        if value is not None and not is_uri(value):
            self.fail("bad_uri", f"{key} must be an absolute URI", join(path, key))
            return None
        return value

    def url(
        self, doc: Mapping[str, object], key: str, path: str, *, required: bool = False
    ) -> str | None:
        value = self.string(doc, key, path, required=required)
        if value is not None and not is_url(value):
            self.fail("bad_url", f"{key} must be an absolute http(s) URL", join(path, key))
            return None
        return value

    def number(
        self, doc: Mapping[str, object], key: str, path: str, *, minimum: float | None = None
    ) -> None:
        if not self.present(doc, key, path, False):
            return
        value = doc[key]
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail("wrong_type", f"{key} must be a number", join(path, key))
        elif minimum is not None and value < minimum:
            self.fail("out_of_range", f"{key} must be at least {minimum}", join(path, key))

    def datetime(
        self, doc: Mapping[str, object], key: str, path: str, *, required: bool = False, stamp: bool
    ) -> None:
        value = self.string(doc, key, path, required=required)
        if value is not None and parse_datetime(value, stamp=stamp) is None:
            kind = "xsd:dateTimeStamp (with a timezone)" if stamp else "xsd:dateTime"
            self.fail("bad_datetime", f"{key} must be an {kind}", join(path, key))

    def duration(self, doc: Mapping[str, object], key: str, path: str) -> None:
        value = self.string(doc, key, path)
        if value is not None and not is_duration(value):
            self.fail(
                "bad_duration", f"{key} must be an ISO 8601 duration such as P2Y", join(path, key)
            )

    def language(self, doc: Mapping[str, object], key: str, path: str) -> None:
        value = self.string(doc, key, path)
        if value is not None and not _LANGUAGE.match(value):
            self.fail("bad_language", f"{key} must be a BCP 47 language tag", join(path, key))

    def enum(
        self,
        doc: Mapping[str, object],
        key: str,
        path: str,
        values: Collection[str],
        *,
        required: bool = False,
        extensible: bool = True,
    ) -> None:
        value = self.string(doc, key, path, required=required)
        if value is None or value in values:
            return
        if extensible and _EXT_TERM.match(value):
            return
        hint = " or an 'ext:' term" if extensible else ""
        self.fail("bad_enum", f"{key} {value!r} is not a defined value{hint}", join(path, key))

    def types(self, doc: Mapping[str, object], key: str, path: str, needed: str) -> frozenset[str]:
        """``type``: an IRI or a set of IRIs that must include ``needed``."""
        p = join(path, key)
        value = doc.get(key)
        if value is None:
            self.fail("missing_field", f"{key} is required (must include {needed!r})", p)
            return frozenset()
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            self.fail("wrong_type", f"{key} must be a string or a non-empty array of strings", p)
            return frozenset()
        found = frozenset(n for n in names if isinstance(n, str))
        if needed not in found:
            self.fail("bad_type", f"{key} must include {needed!r}", p)
        return found

    def items(self, doc: Mapping[str, object], key: str, path: str) -> list[tuple[str, object]]:
        """(path, item) for an array member; a single value counts as one item."""
        if key not in doc or doc[key] is None:
            return []
        value = doc[key]
        p = join(path, key)
        if isinstance(value, list):
            return [(f"{p}[{i}]", item) for i, item in enumerate(value)]
        return [(p, value)]

    def strings(
        self, doc: Mapping[str, object], key: str, path: str, *, uris: bool = False
    ) -> None:
        for p, item in self.items(doc, key, path):
            if not isinstance(item, str):
                self.fail("wrong_type", f"{key} items must be strings", p)
            elif uris and not is_uri(item):
                self.fail("bad_uri", f"{key} items must be absolute URIs", p)

    def require_type_member(self, doc: object, path: str) -> None:
        entry = self.obj(doc, path, "this member")
        if entry is not None and not isinstance(entry.get("type"), str | list):
            self.fail("missing_field", "type is required", join(path, "type"))
