"""shared.pathways: all-of, n-of with electives, ordering, cycles."""

from __future__ import annotations

from shared.events import PathwayPublished
from shared.pathways import Earned, completion, find_cycle


def rule(
    core: list[str], electives: list[str] = (), n: int = 0, ordered: bool = False
) -> PathwayPublished:  # type: ignore[assignment]
    return PathwayPublished(
        tenant="t",
        pathway_id="p",
        pathway={},
        achievement_id="P",
        core=list(core),
        electives=electives or [],
        electives_required=n,
        ordered=ordered,
    )


def held(*items: tuple[str, str]) -> list[Earned]:
    return [Earned(when, f"urn:uuid:{a}-{when}", a) for a, when in items]


def test_all_of_needs_every_core_component() -> None:
    pathway = rule(["A", "B"])
    assert completion(pathway, held(("A", "2026-01-01T00:00:00Z"))) is None
    done = completion(pathway, held(("B", "2026-01-02T00:00:00Z"), ("A", "2026-01-01T00:00:00Z")))
    assert done is not None and [e.achievement_id for e in done] == ["A", "B"]


def test_n_of_electives() -> None:
    pathway = rule(["A"], ["B", "C", "D"], 2)
    assert (
        completion(pathway, held(("A", "2026-01-01T00:00:00Z"), ("C", "2026-01-01T00:00:00Z")))
        is None
    )
    done = completion(
        pathway,
        held(
            ("A", "2026-01-01T00:00:00Z"),
            ("C", "2026-01-02T00:00:00Z"),
            ("D", "2026-01-03T00:00:00Z"),
        ),
    )
    assert done is not None and [e.achievement_id for e in done] == ["A", "C", "D"]
    # Electives alone (no core) are an n-of pathway too.
    assert completion(rule([], ["B", "C"], 1), held(("C", "2026-01-01T00:00:00Z"))) is not None


def test_ordering_by_valid_from() -> None:
    pathway = rule(["A", "B"], ordered=True)
    backwards = held(("B", "2026-01-01T00:00:00Z"), ("A", "2026-02-01T00:00:00Z"))
    assert completion(pathway, backwards) is None
    assert completion(rule(["A", "B"]), backwards) is not None  # unordered: complete
    # B earned again after A: now in order, with the later B.
    done = completion(pathway, [*backwards, *held(("B", "2026-03-01T00:00:00Z"))])
    assert done is not None and done[1].valid_from == "2026-03-01T00:00:00Z"


def test_cycles_direct_and_nested() -> None:
    graph = {"X": ["Y"], "Y": ["Z"], "Z": []}
    assert find_cycle("P", ["P"], graph.get) == ["P"]
    assert find_cycle("Z", ["X"], graph.get) == ["X", "Y", "Z"]
    assert find_cycle("P", ["X"], graph.get) is None
