"""Timer pieces shared by the protocol connections. Times are on the caller's clock."""

from __future__ import annotations

import heapq
from collections.abc import Container
from typing import Generic, TypeVar

from ._guards import check_duration

__all__ = ["Deadlines", "IdleHeartbeat", "earliest"]

KeyT = TypeVar("KeyT", int, str)


def earliest(*deadlines: float | None) -> float | None:
    """The soonest of the deadlines that are set, or None when none is."""
    set_deadlines = [d for d in deadlines if d is not None]
    return min(set_deadlines) if set_deadlines else None


class IdleHeartbeat:
    """A heartbeat sent at the end of each interval in which nothing else was sent.

    It needs no timestamp for the sends themselves (callers only say that something was sent),
    so a send made without knowing the current time cannot make a heartbeat go out early.
    """

    def __init__(self, interval: float | None) -> None:
        if interval is not None:
            check_duration("heartbeat_interval", interval, positive=True)
        self.interval = interval
        self.due: float | None = None
        self._sent_since_check = False

    def start(self, now: float) -> None:
        """Begin counting intervals at ``now`` (no-op when heartbeats are off)."""
        if self.interval is not None:
            self.due = now + self.interval
            self._sent_since_check = False

    def note_sent(self) -> None:
        self._sent_since_check = True

    def check(self, now: float) -> bool:
        """At or after the deadline: whether to send a heartbeat now; starts the next interval."""
        if self.due is None or now < self.due:
            return False
        assert self.interval is not None
        beat = not self._sent_since_check
        self._sent_since_check = False
        self.due = now + self.interval
        return beat


class Deadlines(Generic[KeyT]):
    """Deadlines of pending requests, soonest first.

    A request settled some other way (answered, failed) is not searched for and removed: its
    entry is skipped once it reaches the front, which keeps every operation logarithmic.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, KeyT]] = []

    def add(self, deadline: float, key: KeyT) -> None:
        heapq.heappush(self._heap, (deadline, key))

    def soonest(self, live: Container[KeyT]) -> float | None:
        """The earliest deadline among the keys still in ``live``."""
        heap = self._heap
        while heap and heap[0][1] not in live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> list[KeyT]:
        """Every key whose deadline is at or before ``now``, settled ones included."""
        due = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[1])
        return due

    def clear(self) -> None:
        self._heap.clear()
