"""Stacking (architecture.md §6): which pathways the credentials of one
learner in a presentation complete. Informational: it changes no verdict.

Only credentials that verified count. One learner's credentials are those
with the same `credentialSubject.id` (a DID); credentials naming the learner
by a salted hash only (OB 3.0 §B.2.3, a new salt each time, so hashes cannot
be matched) count as the presentation holder's, whose proof verified. The
rule itself is the one the catalog and issuer apply (shared.pathways).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shared.events import PathwayPublished
from shared.pathways import Earned, completion


def _earned(credential: dict[str, Any]) -> tuple[str | None, Earned] | None:
    """(the learner's DID or None, what the credential earned), or None when
    it names no achievement (not an Open Badge)."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if not isinstance(subject, dict):
        return None
    achievement = subject.get("achievement")
    achievement_id = achievement.get("id") if isinstance(achievement, dict) else None
    valid_from = credential.get("validFrom") or credential.get("issuanceDate")
    if not isinstance(achievement_id, str) or not isinstance(valid_from, str):
        return None
    learner = subject.get("id")
    earned = Earned(valid_from, str(credential.get("id", "")), achievement_id)
    return (learner if isinstance(learner, str) else None), earned


def stacking_result(
    pathways: Iterable[PathwayPublished],
    credentials: Sequence[dict[str, Any]],
    holder: str | None,
) -> list[dict[str, Any]]:
    """One entry per (learner, pathway) the verified `credentials` complete."""
    learners: dict[str, list[Earned]] = {}
    for credential in credentials:
        found = _earned(credential)
        if found is None:
            continue
        learner, earned = found
        owner = learner or holder
        if owner is not None:
            learners.setdefault(owner, []).append(earned)
    result: list[dict[str, Any]] = []
    active = sorted((p for p in pathways if p.status == "active"), key=lambda p: p.pathway_id)
    for learner, held in sorted(learners.items()):
        for pathway in active:
            used = completion(pathway, held)
            if used is not None:
                result.append(
                    {
                        "pathway": pathway.pathway_id,
                        "name": pathway.pathway.get("name"),
                        "achievement": pathway.achievement_id,
                        "learner": learner,
                        "credentials": [e.credential_id for e in used],
                    }
                )
    return result
