"""What the threaded and the asyncio client tests share: fast settings and stream checks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.reconnect import ReconnectPolicy
from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.core.ctrader import SpotEvent
from brokerwire.core.tradovate import MarketData

#: Reconnect at once: the tests should not wait for a production backoff.
FAST_RECONNECT = ReconnectPolicy(initial_delay=0.02, max_delay=0.1, max_attempts=20)


def tradovate_sim(**options: Any) -> TradovateSimulator:
    settings: dict[str, Any] = {"quote_rate": 2000.0, "request_limit": 100_000}
    settings.update(options)
    return TradovateSimulator(**settings)


def ctrader_sim(**options: Any) -> CTraderSimulator:
    settings: dict[str, Any] = {"spot_rate": 2000.0, "requests_per_second": 100_000}
    settings.update(options)
    return CTraderSimulator(**settings)


def ctrader_credentials(sim: CTraderSimulator) -> dict[str, Any]:
    return {
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "access_token": sim.access_token,
    }


def sequence_number(numbered: int | None) -> int:
    """The simulator's sequence number of a quote (its ``id``) or spot (its ``timestamp``)."""
    assert numbered is not None, "a quote or spot without its sequence number"
    return numbered


def sequence_numbers(event: Any) -> list[int]:
    """The simulator's per-subscription ``seq`` of each quote or spot an event carries."""
    if type(event) is MarketData:
        return [sequence_number(quote.id) for quote in event.quotes]
    if type(event) is SpotEvent:
        return [sequence_number(event.timestamp)]
    return []


def streamed(count: int, *, after_reconnect: bool = False) -> Callable[[list[Any]], bool]:
    """A condition on the events so far (seen one at a time): ``count`` stream messages on the
    current link, and a reconnect before them when ``after_reconnect``."""
    on_link = 0
    reconnected = False

    def enough(events: list[Any]) -> bool:
        nonlocal on_link, reconnected
        event = events[-1]
        if type(event) is Disconnected:
            on_link = 0
        elif type(event) is Reconnected:
            reconnected = True
        on_link += len(sequence_numbers(event))
        return on_link >= count and (reconnected or not after_reconnect)

    return enough


def stream_segments(events: Iterable[Any]) -> list[list[int]]:
    """The sequence numbers seen on each link, split where the link went down."""
    segments: list[list[int]] = [[]]
    for event in events:
        if type(event) is Disconnected:
            segments.append([])
        segments[-1].extend(sequence_numbers(event))
    return segments


def assert_no_gap(numbers: list[int]) -> None:
    """Each number is the one before it plus one: nothing lost, nothing repeated."""
    assert numbers, "no stream message arrived"
    expected = list(range(numbers[0], numbers[0] + len(numbers)))
    if numbers != expected:
        bad = next(i for i, (a, b) in enumerate(zip(numbers, expected, strict=True)) if a != b)
        raise AssertionError(f"gap or repeat at index {bad}: {numbers[max(0, bad - 3) : bad + 3]}")


def assert_resumed(events: list[Any], fault_note: str) -> None:
    """One Disconnected (reconnecting), one Reconnected with the subscription restored, and a
    gap-free stream on both sides of it; the new subscription starts again at 1."""
    disconnects = [e for e in events if type(e) is Disconnected]
    assert len(disconnects) == 1, (fault_note, disconnects)
    assert disconnects[0].reconnecting
    reconnects = [e for e in events if type(e) is Reconnected]
    assert len(reconnects) == 1, (fault_note, reconnects)
    assert reconnects[0].resubscribed == 1
    before, after = stream_segments(events)
    assert_no_gap(before)
    assert before[0] == 1
    assert_no_gap(after)
    assert after[0] == 1


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))
