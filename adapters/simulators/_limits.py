"""What both services do to a client that asks too much: a budget of requests per second, and
the refusals a test arms in advance (``throttle_authorize``, ``throttle``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Any

__all__ = ["RateWindow", "Refusals"]


class RateWindow:
    """At most ``per_second`` requests in any second (a sliding window, as both services
    count)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._times: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Count a request at ``now``; False (and not counted) when the budget is spent."""
        times = self._times
        while times and times[0] + 1.0 <= now:
            times.popleft()
        if len(times) >= self.per_second:
            return False
        times.append(now)
        return True

    def free_in(self, now: float) -> float:
        """Seconds until the window admits a request again (0 when it does now)."""
        if len(self._times) < self.per_second:
            return 0.0
        return max(0.0, self._times[0] + 1.0 - now)

    def clear(self) -> None:
        self._times.clear()


class Refusals:
    """Refusals armed ahead, per kind of request: each is taken by one request, in order."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, deque[Any]] = {}

    def arm(self, kind: Hashable, value: Any, times: int = 1) -> None:
        """The next ``times`` requests of ``kind`` are refused, each told ``value``."""
        self._waiting.setdefault(kind, deque()).extend([value] * times)

    def take(self, kind: Hashable) -> tuple[bool, Any]:
        """Whether a request of ``kind`` received now is refused, and what it is told."""
        waiting = self._waiting.get(kind)
        if not waiting:
            return False, None
        return True, waiting.popleft()
