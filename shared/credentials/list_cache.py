"""Status lists verified once per version, decoded once per version.

A busy verifier reads the same few status lists for every credential. Their
proof (a VC-JWT signature, or RDFC-1.0 and a signature) and their GZIP
bitstring do not change until the list is published again, yet checking them
on every request cost 22% and 5% of the CPU (issue 7). So:

- `VerifiedLists` keeps a list credential that verified, by its URL and the
  exact secured form it came in (a new version is a different JWT string or
  JSON body), for at most `max_age` seconds (so a key later marked
  compromised is noticed within that time); the validity window is still
  checked on every use;
- `status_list.read_status` keeps the decoded bitstrings of the last lists
  read (`_decoded`, small lists only).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import orjson


def version_of(raw: dict[str, Any] | str) -> str:
    """What identifies one version of a list credential: its exact secured form."""
    return raw if isinstance(raw, str) else orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()


class VerifiedLists:
    """List credentials whose proof verified, by (URL, version)."""

    def __init__(self, max_age: float = 60.0, entries: int = 256) -> None:
        self.max_age = max_age
        self._entries = entries
        self._verified: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, url: str, raw: dict[str, Any] | str) -> dict[str, Any] | None:
        key = (url, version_of(raw))
        found = self._verified.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self._verified[key]
            return None
        self._verified.move_to_end(key)
        return found[1]

    def put(self, url: str, raw: dict[str, Any] | str, verified: dict[str, Any]) -> None:
        key = (url, version_of(raw))
        self._verified[key] = (time.monotonic() + self.max_age, verified)
        self._verified.move_to_end(key)
        while len(self._verified) > self._entries:
            self._verified.popitem(last=False)
