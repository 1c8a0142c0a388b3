"""Pathway rules, once: when a set of earned credentials completes a
pathway, and whether a pathway definition would make a cycle.

A pathway (issue 9) stacks micro-credentials into a larger credential: every
`core` achievement (all-of), `electives_required` of its `electives`
(n-of), and, when `ordered`, the core earned in the listed order (by each
credential's `validFrom`, OB 3.0 §B.1.2 / VC Data Model 2.0 §4.9). Components
may themselves be pathways' achievements (nested stacks). The catalog
checks definitions with these rules, the issuer awards with them and the
verifier reports with them, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from shared.events import PathwayPublished


@dataclass(frozen=True, order=True)
class Earned:
    """One credential a learner holds: when it became valid, and its ids."""

    valid_from: str  # RFC 3339 in UTC (`Z`): compared as text
    credential_id: str
    achievement_id: str


def completion(pathway: PathwayPublished, earned: Iterable[Earned]) -> list[Earned] | None:
    """The credentials the learner completes `pathway` with (core in order,
    then the electives used), or None while it is not complete."""
    by_achievement: dict[str, list[Earned]] = {}
    for item in earned:
        by_achievement.setdefault(item.achievement_id, []).append(item)
    for items in by_achievement.values():
        items.sort()
    core = _core(pathway, by_achievement)
    if core is None:
        return None
    electives = [by_achievement[a][0] for a in pathway.electives if a in by_achievement]
    if len(electives) < pathway.electives_required:
        return None
    return [*core, *electives[: pathway.electives_required]]


def _core(pathway: PathwayPublished, held: Mapping[str, list[Earned]]) -> list[Earned] | None:
    chosen: list[Earned] = []
    for achievement_id in pathway.core:
        candidates = held.get(achievement_id, [])
        if pathway.ordered and chosen:
            # The earliest credential earned no sooner than the one before it.
            candidates = [c for c in candidates if c.valid_from >= chosen[-1].valid_from]
        if not candidates:
            return None
        chosen.append(candidates[0])
    return chosen


def components(pathway: PathwayPublished) -> list[str]:
    return [*pathway.core, *pathway.electives]


def find_cycle(
    own_achievement: str,
    members: Sequence[str],
    nested: Callable[[str], Sequence[str] | None],
) -> list[str] | None:
    """The path by which `own_achievement` would be among its own components
    (directly or through nested pathways: `nested(achievement)` gives the
    components of the pathway awarded as that achievement, None when it is
    no pathway's), or None when there is no cycle."""
    stack: list[tuple[str, list[str]]] = [(m, [m]) for m in members]
    seen: set[str] = set()
    while stack:
        achievement, path = stack.pop()
        if achievement == own_achievement:
            return path
        if achievement in seen:
            continue
        seen.add(achievement)
        for inner in nested(achievement) or ():
            stack.append((inner, [*path, inner]))
    return None
