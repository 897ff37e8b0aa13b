"""The simulated cTrader server's market history: trendbars and ticks made up on demand.

Every bar and tick is a pure function of the symbol, the period and the time, so any range can
be answered without storing anything, the same way every time, and a test can count exactly
what a range holds (``trendbar_count``). Like the real server, a request for a window longer
than its period allows is refused with ``INCORRECT_BOUNDARIES``, and a window holding more
records than the chunk size is answered in part, with ``hasMore`` set: trendbars from the start
of the window, ticks from its end (the server sends the newest ticks first).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from brokerwire.core.ctrader import as_int
from brokerwire.core.ctrader.history import TICK_WINDOW_MS, TRENDBAR_WINDOW_MS
from brokerwire.core.ctrader.models import TrendbarPeriod

__all__ = [
    "Refused",
    "chunked",
    "tick_count",
    "tick_page",
    "trendbar_count",
    "trendbar_page",
]

_MINUTE = 60_000
_DAY = 1_440 * _MINUTE
_LENGTHS = {
    TrendbarPeriod.M1: _MINUTE,
    TrendbarPeriod.M2: 2 * _MINUTE,
    TrendbarPeriod.M3: 3 * _MINUTE,
    TrendbarPeriod.M4: 4 * _MINUTE,
    TrendbarPeriod.M5: 5 * _MINUTE,
    TrendbarPeriod.M10: 10 * _MINUTE,
    TrendbarPeriod.M15: 15 * _MINUTE,
    TrendbarPeriod.M30: 30 * _MINUTE,
    TrendbarPeriod.H1: 60 * _MINUTE,
    TrendbarPeriod.H4: 240 * _MINUTE,
    TrendbarPeriod.H12: 720 * _MINUTE,
    TrendbarPeriod.D1: _DAY,
    TrendbarPeriod.W1: 7 * _DAY,
}
_WEEK_START = 3 * _DAY  # weekly bars open on Sundays; 1 January 1970 was a Thursday
#: The simulated market ticks once a second, twice at the same millisecond every 7th second.
_TICK_EVERY = 1_000


class Refused(Exception):
    """A history request the server refuses: its error code and description."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _mix(*values: int) -> int:
    """A deterministic 32-bit scramble of some integers (the simulated market's noise)."""
    h = 2_166_136_261
    for value in values:
        h = ((h ^ (value & 0xFFFFFFFF)) * 16_777_619) & 0xFFFFFFFF
        h ^= h >> 13
    return h


def _month_start(index: int) -> int:
    """The Unix milliseconds at which month ``index`` (months since January 1970) opens."""
    year, month = divmod(index, 12)
    start = datetime.datetime(1970 + year, month + 1, 1, tzinfo=datetime.UTC)
    return int(start.timestamp()) * 1000


def _month_index(ms: int) -> int:
    day = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.UTC)
    return (day.year - 1970) * 12 + day.month - 1


def _bar_index(period: TrendbarPeriod, ms: int) -> int:
    """The index of the bar holding ``ms`` (bar ``i`` opens at ``_bar_start(period, i)``)."""
    if period is TrendbarPeriod.MN1:
        return _month_index(ms)
    if period is TrendbarPeriod.W1:
        return (ms - _WEEK_START) // _LENGTHS[period]
    return ms // _LENGTHS[period]


def _bar_start(period: TrendbarPeriod, index: int) -> int:
    if period is TrendbarPeriod.MN1:
        return _month_start(index)
    if period is TrendbarPeriod.W1:
        return _WEEK_START + index * _LENGTHS[period]
    return index * _LENGTHS[period]


def _bar_range(period: TrendbarPeriod, from_ms: int, to_ms: int) -> range:
    """The bars of a window: from the one holding ``from_ms`` up to the one holding ``to_ms``,
    that one excluded (so back-to-back windows share no bar)."""
    return range(_bar_index(period, from_ms), _bar_index(period, to_ms))


def _period(value: Any) -> TrendbarPeriod:
    try:
        return TrendbarPeriod(value if value is not None else 1)
    except (ValueError, TypeError):
        raise Refused("INVALID_REQUEST", f"Unknown trendbar period {value!r}") from None


def _window(payload: dict[str, Any], limit: int) -> tuple[int, int]:
    """The request's ``[fromTimestamp, toTimestamp]``, refused as the server would when it is
    invalid or longer than ``limit``."""
    from_ms = as_int(payload.get("fromTimestamp"))
    to_ms = as_int(payload.get("toTimestamp"))
    if (
        from_ms is None
        or to_ms is None
        or from_ms < 0
        or to_ms < from_ms
        or to_ms - from_ms > limit
    ):
        raise Refused(
            "INCORRECT_BOUNDARIES",
            f"The period from {from_ms} to {to_ms} is too large or invalid (at most {limit} ms)",
        )
    return from_ms, to_ms


def trendbar_count(period: TrendbarPeriod | int, from_ms: int, to_ms: int) -> int:
    """How many bars the simulator has between two times, across any number of requests."""
    return len(_bar_range(TrendbarPeriod(period), from_ms, to_ms))


def _trendbar(symbol: int, base: int, period: TrendbarPeriod, index: int) -> dict[str, Any]:
    noise = _mix(symbol, int(period), index)
    return {
        "volume": 1 + noise % 997,
        "period": int(period),
        "low": max(1, base - 200 + (noise >> 4) % 400),
        "deltaOpen": (noise >> 12) % 50,
        "deltaHigh": 50 + (noise >> 18) % 50,
        "deltaClose": (noise >> 24) % 50,
        "utcTimestampInMinutes": _bar_start(period, index) // _MINUTE,
    }


def trendbar_page(
    symbol: int,
    base: int,
    payload: dict[str, Any],
    chunk: int,
) -> tuple[list[dict[str, Any]], bool]:
    """The bars a GetTrendbarsReq gets, and whether the window holds more than the chunk.

    ``count`` asks for the newest bars of the window only (and gets no ``hasMore``).
    """
    period = _period(payload.get("period"))
    from_ms, to_ms = _window(payload, TRENDBAR_WINDOW_MS[period])
    bars = _bar_range(period, from_ms, to_ms)
    count = as_int(payload.get("count"))
    if count is not None and count > 0:
        return [_trendbar(symbol, base, period, i) for i in bars[-count:]], False
    page = bars[:chunk]
    return [_trendbar(symbol, base, period, i) for i in page], len(bars) > len(page)


def _ticks(
    symbol: int, base: int, side: int, from_ms: int, to_ms: int
) -> Iterator[tuple[int, int]]:
    """The ticks in ``[from_ms, to_ms]``, newest first, as (time, raw price)."""
    first = -(-from_ms // _TICK_EVERY)
    for second in range(to_ms // _TICK_EVERY, first - 1, -1):
        at = second * _TICK_EVERY
        price = max(1, base - 100 + _mix(symbol, side, second) % 200 + (2 if side == 2 else 0))
        if second % 7 == 0:
            yield at, price + 1
        yield at, price


def tick_count(from_ms: int, to_ms: int) -> int:
    """How many ticks (of one side) the simulator has in ``[from_ms, to_ms]``."""
    return sum(1 for _ in _ticks(0, 0, 1, from_ms, to_ms))


def tick_page(
    symbol: int, base: int, payload: dict[str, Any], chunk: int
) -> tuple[list[dict[str, int]], bool]:
    """The tick data a GetTickDataReq gets (newest first, each after the first a difference
    from the one before), and whether the window holds more than the chunk."""
    from_ms, to_ms = _window(payload, TICK_WINDOW_MS)
    ticks = _ticks(symbol, base, as_int(payload.get("type")) or 1, from_ms, to_ms)
    page = list(itertools.islice(ticks, chunk))
    encoded = []
    previous: tuple[int, int] | None = None
    for at, price in page:
        if previous is None:
            encoded.append({"timestamp": at, "tick": price})
        else:
            encoded.append({"timestamp": at - previous[0], "tick": price - previous[1]})
        previous = (at, price)
    return encoded, next(ticks, None) is not None


def chunked(records: Sequence[Any], chunk: int) -> tuple[list[Any], bool]:
    """At most ``chunk`` records, the oldest, and whether some were left out."""
    return list(records[:chunk]), len(records) > chunk
