"""Request budgets: at most N requests in any window of W seconds, on the caller's clock."""

from __future__ import annotations

from collections import deque

__all__ = ["RateBudget"]


class RateBudget:
    """A sliding window: no more than ``limit`` acquisitions in any ``window`` seconds.

    A request that does not fit waits (the connection queues it); nothing is ever dropped.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1:
            raise ValueError("a rate budget needs a limit of at least 1")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def __repr__(self) -> str:
        return f"<RateBudget {len(self._times)}/{self.limit} per {self.window:g} s>"

    def _expire(self, now: float) -> None:
        times = self._times
        while times and times[0] + self.window <= now:
            times.popleft()

    def try_acquire(self, now: float) -> bool:
        """Take one unit of budget at ``now`` if there is one."""
        self._expire(now)
        if len(self._times) < self.limit:
            self._times.append(now)
            return True
        return False

    def next_free(self, now: float) -> float:
        """The earliest time at or after ``now`` when one unit will be free."""
        self._expire(now)
        if len(self._times) < self.limit:
            return now
        return self._times[0] + self.window
