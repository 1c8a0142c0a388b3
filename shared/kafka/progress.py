"""How far a consumer got: positions vs. the end offsets seen at assignment."""

from __future__ import annotations

from collections.abc import Callable

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

    def report(self, highwater: Highwater | None = None) -> dict[str, object]:
        """Counters and per-partition position, end and lag."""
        partitions: dict[str, dict[str, int | None]] = {}
        total_lag = 0
        for tp, position in sorted(self._position.items()):
            live = highwater(tp) if highwater is not None else None
            end = max(self._end[tp], live or 0)
            lag = end - (position or 0)
            total_lag += max(0, lag)
            partitions[f"{tp.topic}/{tp.partition}"] = {
                "position": position,
                "end": end,
                "lag": max(0, lag),
            }
        return {
            "caught_up": self.caught_up,
            "handled": self._handled,
            "dead_lettered": self._dead_lettered,
            "lag": total_lag,
            "partitions": partitions,
        }
