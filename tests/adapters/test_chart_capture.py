"""ChartCapture: the packets of captured chart subscriptions go to their history, not to the
caller, and a lost link tells every history waiting for them."""

from __future__ import annotations

from typing import Any

import pytest

from brokerwire.adapters.engine.chart_capture import ChartCapture
from brokerwire.adapters.engine.tradovate_history import _take
from brokerwire.adapters.errors import ConnectionLost
from brokerwire.core.tradovate import Bar, BarPacket, Chart, EndOfHistory

ANSWER = {"historicalId": 32, "realtimeId": 31}
BARS = BarPacket(32, [Bar("2026-12-01T09:00:00.000Z", 1, 2, 0, 1)])
OTHER = BarPacket(7, [Bar("2026-12-01T09:00:00.000Z", 5, 6, 4, 5)])


def test_captured_packets_leave_the_event_and_the_rest_stays() -> None:
    capture, got = ChartCapture(), list[Any]()
    capture.capture(ANSWER, got.append)
    assert capture.divert(Chart([BARS, OTHER, EndOfHistory(31)])) == Chart([OTHER])
    assert capture.divert(Chart([EndOfHistory(32)])) is None
    assert got == [BARS, EndOfHistory(31), EndOfHistory(32)]
    capture.release(ANSWER)
    assert capture.divert(Chart([BARS])) == Chart([BARS])
    assert capture.divert("not a chart") == "not a chart"


def test_a_lost_link_tells_each_waiting_history_once_and_forgets_them() -> None:
    capture, got = ChartCapture(), list[Any]()
    capture.capture(ANSWER, got.append)
    capture.lost()
    assert got == [None]
    assert capture.divert(Chart([BARS])) == Chart([BARS])


def test_a_history_gathers_its_bars_until_its_marker_and_a_lost_link_raises() -> None:
    bars: list[Bar] = []
    assert not _take(BARS, ANSWER, bars)
    assert not _take(BarPacket(31, list(OTHER.bars)), ANSWER, bars)  # live: not history
    assert _take(EndOfHistory(32), ANSWER, bars)
    assert bars == BARS.bars
    with pytest.raises(ConnectionLost, match="before the chart history was complete"):
        _take(None, ANSWER, [])


def test_an_answer_without_ids_captures_nothing() -> None:
    capture, got = ChartCapture(), list[Any]()
    answer: Any = {"mode": "None", "errorCode": "UnknownSymbol"}
    capture.capture(answer, got.append)
    assert capture.divert(Chart([BARS])) == Chart([BARS])
    assert got == []
