"""Parse JSON that must be an object: one rule, each caller its own error."""

from __future__ import annotations

from typing import Any

import orjson


class NotAJsonObject(ValueError):
    """Malformed JSON, or JSON that is not an object (the message says which)."""


def parse_object(raw: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise NotAJsonObject(f"malformed JSON: {error}") from None
    if not isinstance(value, dict):
        raise NotAJsonObject(f"not a JSON object but {type(value).__name__}")
    return value
