"""Chart subscriptions whose packets the client keeps to itself, off the caller's events.

A chart history request collects its bars inside the client: the engine hands a chart event's
packets for a captured subscription to the history's sink from the moment the ``md/getChart``
answer names the subscription (inside the client, before any packet that follows the answer
is delivered), and the rest of the event goes on to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brokerwire.core.tradovate import Chart, ChartPacket

__all__ = ["ChartCapture", "ChartSink"]

#: Where a captured subscription's packets go; None when the link went down.
ChartSink = Callable[[ChartPacket | None], None]

_IDS = ("historicalId", "realtimeId")


def _ids(answer: Any) -> list[int]:
    """The subscription ids a ``md/getChart`` answer names."""
    if not isinstance(answer, dict):
        return []
    return [answer[key] for key in _IDS if type(answer.get(key)) is int]


class ChartCapture:
    """The chart subscriptions a history request collects inside the client."""

    def __init__(self) -> None:
        self._sinks: dict[int, ChartSink] = {}

    def capture(self, answer: Any, sink: ChartSink) -> None:
        """Send the packets of the subscriptions ``answer`` names to ``sink`` from now on."""
        for ident in _ids(answer):
            self._sinks[ident] = sink

    def release(self, answer: Any) -> None:
        for ident in _ids(answer):
            self._sinks.pop(ident, None)

    def divert(self, event: Any) -> Any:
        """What of ``event`` goes on to the caller: a chart event's captured packets do not."""
        if type(event) is not Chart or not self._sinks:
            return event
        rest = []
        for packet in event.charts:
            sink = self._sinks.get(packet.id)
            if sink is None:
                rest.append(packet)
            else:
                sink(packet)
        if len(rest) == len(event.charts):
            return event
        return Chart(rest) if rest else None

    def lost(self) -> None:
        """The link went down: every history waiting for packets is told, and none will come."""
        for sink in {id(sink): sink for sink in self._sinks.values()}.values():
            sink(None)
        self._sinks.clear()
