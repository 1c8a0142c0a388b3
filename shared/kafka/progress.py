"""How far a consumer got: positions vs. the end offsets seen at assignment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import TopicPartition

Highwater = Callable[[TopicPartition], "int | None"]


class Progress:
    """Positions per partition, counters, and the (latched) caught-up flag."""

    def __init__(self) -> None:
        self._end: dict[TopicPartition, int] = {}
        self._position: dict[TopicPartition, int | None] = {}
        self._handled = 0
        self._dead_lettered = 0
        self._assigned_once = False
        self._caught_up = False

    def restart(self) -> None:
        """Forget positions and the caught-up latch (a reconnect or a
        rebuild); the counters keep counting."""
        self._end.clear()
        self._position.clear()
        self._assigned_once = False
        self._caught_up = False

    def track(self, tp: TopicPartition, position: int | None, end: int) -> None:
        """Start tracking `tp`: next offset to read (None: not known yet), end at start."""
        self._position[tp] = position
        self._end[tp] = end

    def untrack(self, tp: TopicPartition) -> None:
        self._position.pop(tp, None)
        self._end.pop(tp, None)

    def assigned(self) -> None:
        """The first assignment happened (an empty one counts)."""
        self._assigned_once = True

    def handled(self, tp: TopicPartition, next_offset: int) -> None:
        self._handled += 1
        self.position_at(tp, next_offset)

    def dead_lettered(self) -> None:
        self._dead_lettered += 1

    def position_at(self, tp: TopicPartition, position: int) -> None:
        if tp in self._position:
            current = self._position[tp]
            self._position[tp] = position if current is None else max(current, position)

    def lagging(self) -> list[TopicPartition]:
        """Partitions whose position is unknown or short of the end seen at start."""
        return [tp for tp, pos in self._position.items() if pos is None or pos < self._end[tp]]

    @property
    def caught_up(self) -> bool:
        """True once every assigned partition reached its start end offset (latched)."""
        if not self._caught_up and self._assigned_once and not self.lagging():
            self._caught_up = True
        return self._caught_up

    def snapshot(self, highwater: Highwater | None = None) -> Snapshot:
        """Counters and per-partition position, end and lag (live high-water
        marks from `highwater` when known, else the end seen at start)."""
        partitions: dict[TopicPartition, PartitionLag] = {}
        for tp, position in sorted(self._position.items()):
            live = highwater(tp) if highwater is not None else None
            end = max(self._end[tp], live or 0)
            partitions[tp] = PartitionLag(position, end, max(0, end - (position or 0)))
        return Snapshot(self.caught_up, self._handled, self._dead_lettered, partitions)


@dataclass(frozen=True)
class PartitionLag:
    position: int | None
    end: int
    lag: int


@dataclass(frozen=True)
class Snapshot:
    """A point-in-time view of a consumer's progress."""

    caught_up: bool
    handled: int
    dead_lettered: int
    partitions: dict[TopicPartition, PartitionLag]

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions.values())

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (partitions keyed `topic/partition`)."""
        return {
            "caught_up": self.caught_up,
            "handled": self.handled,
            "dead_lettered": self.dead_lettered,
            "lag": self.lag,
            "partitions": {
                f"{tp.topic}/{tp.partition}": {"position": p.position, "end": p.end, "lag": p.lag}
                for tp, p in self.partitions.items()
            },
        }
