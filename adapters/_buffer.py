"""The bounded queue between a client's reader and the code that consumes its events.

When it holds ``limit`` events the adapter stops reading the socket (the server then slows down
through TCP flow control) instead of dropping anything; it reads again once the consumer has
taken the queue down to half. One read's worth of events can go past the limit.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["EventBuffer"]


class EventBuffer:
    """Events waiting for the consumer, and the decision to pause or resume reading."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the event queue needs room for at least one event")
        self.limit = limit
        self._resume_at = limit // 2
        self._events: deque[Any] = deque()
        self.ended = False

    def __len__(self) -> int:
        return len(self._events)

    def push(self, events: list[Any]) -> None:
        self._events.extend(events)

    def pop(self) -> Any:
        return self._events.popleft()

    @property
    def full(self) -> bool:
        """Reading should pause."""
        return len(self._events) >= self.limit

    @property
    def drained(self) -> bool:
        """Reading may resume."""
        return len(self._events) <= self._resume_at
