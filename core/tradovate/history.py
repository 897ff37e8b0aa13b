"""Chart history over any range, as a plan of ``md/getChart`` requests: pure, no I/O.

Tradovate sends a chart's history in one batch per request (bar packets, then an end-of-history
marker), and caps how much one batch holds. To cover a longer range, ask again for what lies
before the oldest bar received, until the range is covered or a batch brings nothing older: the
server has no more. ``ChartHistory`` says what to ask for next and gathers the bars, each once,
oldest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import LocalProtocolError
from .market import Bar

__all__ = ["ChartHistory", "bar_time", "wire_time"]


def wire_time(when: datetime) -> str:
    """A time as Tradovate writes one: UTC, milliseconds, ``Z``."""
    if when.tzinfo is None:
        raise LocalProtocolError("give chart history times with a time zone (UTC, say)")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def bar_time(bar: Bar) -> datetime:
    """A bar's timestamp as an aware datetime."""
    return datetime.fromisoformat(bar.timestamp.replace("Z", "+00:00"))


class ChartHistory:
    """The requests that fetch the bars of ``symbol`` from ``start`` to ``end``, and the bars.

    ``description`` is the request's ``chartDescription`` (``underlyingType``, ``elementSize``,
    ``elementSizeUnit`` ...). Call ``next_request()`` for the body of the next ``md/getChart``
    (None once the range is covered), and hand each batch of bars to ``take``; ``bars()`` gives
    every bar in the range once, oldest first.
    """

    def __init__(
        self, symbol: str | int, description: dict[str, Any], start: datetime, end: datetime
    ) -> None:
        if wire_time(start) > wire_time(end):
            raise LocalProtocolError("chart history: the start comes after the end")
        self.symbol = symbol
        self.description = dict(description)
        self.start, self.end = start, end
        self._closest = end
        self._bars: dict[datetime, Bar] = {}
        self.requests = 0
        self.done = False

    def next_request(self) -> dict[str, Any] | None:
        """The body of the next ``md/getChart`` request, or None when the range is covered."""
        if self.done:
            return None
        self.requests += 1
        return {
            "symbol": self.symbol,
            "chartDescription": self.description,
            "timeRange": {
                "closestTimestamp": wire_time(self._closest),
                "asFarAsTimestamp": wire_time(self.start),
            },
        }

    def take(self, bars: list[Bar]) -> None:
        """One request's batch. The plan ends when the batch reaches the start, or brings no
        bar older than the oldest held (the server has nothing before it)."""
        oldest = self._closest
        for bar in bars:
            when = bar_time(bar)
            if self.start <= when <= self.end:
                self._bars[when] = bar
            oldest = min(oldest, when)
        if oldest >= self._closest or oldest <= self.start:
            self.done = True
        self._closest = oldest

    def bars(self) -> list[Bar]:
        """Every bar of the range received, each once, oldest first."""
        return [self._bars[when] for when in sorted(self._bars)]
