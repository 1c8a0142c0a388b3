"""Listing and searching a tenant's achievements (pure: filters and pages).

`GET /achievements` reads the current revision of every achievement from
the replica and keeps the tenant's own that match every given filter:
`provider`, `issuer`, `type` (achievementType), `level` (EQF), `status`,
`q` (every word in the name, description, tags or field of study),
`skill` (an alignment's `targetUrl`, or its start: an ESCO concept or the
whole ESCO skill scheme), `language` (BCP 47, `en` matches `en-GB`).
Results are ordered by id; `cursor` is where the next page starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

import msgspec

from shared.events import AchievementPublished

MAX_LIMIT = 100
_WORD = re.compile(r"\w+")


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The query string of `GET /achievements`."""

    provider: str | None = None
    issuer: str | None = None
    type: str | None = None
    level: Annotated[int, msgspec.Meta(ge=1, le=8)] | None = None
    status: Literal["active", "retired"] | None = None
    q: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    skill: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=35)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)] = 20
    cursor: Annotated[int, msgspec.Meta(ge=0)] = 0


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def _text(document: Mapping[str, object]) -> str:
    parts: list[str] = []
    for key in ("name", "description", "fieldOfStudy"):
        value = document.get(key)
        if isinstance(value, str):
            parts.append(value)
    tags = document.get("tag")
    if isinstance(tags, list):
        parts.extend(t for t in tags if isinstance(t, str))
    return " ".join(parts)


def _skills(document: Mapping[str, object]) -> list[str]:
    alignments = document.get("alignment")
    if not isinstance(alignments, list):
        return []
    return [
        a["targetUrl"]
        for a in alignments
        if isinstance(a, Mapping) and isinstance(a.get("targetUrl"), str)
    ]


def _language_matches(wanted: str, tag: object) -> bool:
    if not isinstance(tag, str):
        return False
    wanted, tag = wanted.casefold(), tag.casefold()
    return tag == wanted or tag.startswith(wanted + "-")


def matches(
    event: AchievementPublished, query: ListQuery, provider_dids: frozenset[str] | None
) -> bool:
    """Whether the achievement passes every filter of `query` (`provider_dids`:
    the issuer DIDs of the `provider` filter's provider)."""
    doc = event.achievement
    checks = (
        provider_dids is None or event.issuer_did in provider_dids,
        query.issuer is None or event.issuer_did == query.issuer,
        query.type is None or doc.get("achievementType") == query.type,
        query.level is None or doc.get("eqfLevel") == query.level,
        query.status is None or event.status == query.status,
        query.q is None or _words(query.q) <= _words(_text(doc)),
        query.skill is None or any(url.startswith(query.skill) for url in _skills(doc)),
        query.language is None or _language_matches(query.language, doc.get("inLanguage")),
    )
    return all(checks)


def summary(event: AchievementPublished) -> dict[str, object]:
    """One listed achievement: its current revision and document."""
    return {
        "id": event.achievement_id,
        "revision": event.revision,
        "status": event.status,
        "issuerDid": event.issuer_did,
        "updatedAt": event.occurred_at,
        "achievement": event.achievement,
    }


def page(
    events: Iterable[AchievementPublished],
    tenant: str,
    query: ListQuery,
    provider_dids: frozenset[str] | None,
) -> dict[str, object]:
    """The tenant's matching achievements, ordered by id, one page of them."""
    found = sorted(
        (e for e in events if e.tenant == tenant and matches(e, query, provider_dids)),
        key=lambda e: e.achievement_id,
    )
    chunk = found[query.cursor : query.cursor + query.limit]
    end = query.cursor + len(chunk)
    return {
        "items": [summary(e) for e in chunk],
        "total": len(found),
        "next": end if end < len(found) else None,
    }
