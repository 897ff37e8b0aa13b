"""History over any time range, as the pages the server gives: the plan, without I/O.

The server answers a historical request for a limited window of time (for trendbars the limit
depends on the period; beyond it the answer is ``INCORRECT_BOUNDARIES``), and a window holding
more records than its undocumented chunk size comes back in part, with ``hasMore`` set. A
``HistoryPager`` turns one range into those requests: ``next_request`` gives the next typed
request to send (None at the end), ``take`` reads its answer and gives the records that are new,
oldest first, each exactly once. Sending, waiting, and the 5-per-second historical budget belong
to the caller (the connection queues historical requests within that budget by itself).

Windows share their boundary millisecond, and a continuation starts at the last time received,
not after it: nothing is lost whether the server reads its bounds as inclusive or not, and the
records that come back twice are dropped (by time, and by identity among those at the same
millisecond). The protocol has no cursor but time: a page whose records all fall on the
millisecond it started at can only be followed by the next millisecond, so more records in one
millisecond than a page holds cannot all be reached (a real server's pages hold hundreds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

from ..errors import LocalProtocolError, RemoteProtocolError
from ..jsonlib import ValidationError, convert
from .models import (
    Deal,
    DealListReq,
    DealListRes,
    GetTickDataReq,
    GetTickDataRes,
    GetTrendbarsReq,
    GetTrendbarsRes,
    OpenApiMessage,
    Order,
    OrderListReq,
    OrderListRes,
    QuoteType,
    TickData,
    Trendbar,
    TrendbarPeriod,
)

__all__ = [
    "ACCOUNT_HISTORY_WINDOW_MS",
    "MAX_TIMESTAMP_MS",
    "TICK_WINDOW_MS",
    "TRENDBAR_WINDOW_MS",
    "HistoryPager",
    "deal_pager",
    "order_pager",
    "tick_pager",
    "trendbar_pager",
    "trendbar_time",
    "windows",
]

_DAY_MS = 86_400_000
#: The latest time a historical request may name (19 January 2038), as the .proto says.
MAX_TIMESTAMP_MS = 2_147_483_646_000

#: The longest ``toTimestamp - fromTimestamp`` the server accepts per trendbar period.
TRENDBAR_WINDOW_MS: Mapping[TrendbarPeriod, int] = {
    **dict.fromkeys(
        (TrendbarPeriod.M1, TrendbarPeriod.M2, TrendbarPeriod.M3, TrendbarPeriod.M4),
        302_400_000,
    ),
    TrendbarPeriod.M5: 302_400_000,
    **dict.fromkeys(
        (TrendbarPeriod.M10, TrendbarPeriod.M15, TrendbarPeriod.M30, TrendbarPeriod.H1),
        21_168_000_000,
    ),
    **dict.fromkeys((TrendbarPeriod.H4, TrendbarPeriod.H12, TrendbarPeriod.D1), 31_622_400_000),
    **dict.fromkeys((TrendbarPeriod.W1, TrendbarPeriod.MN1), 158_112_000_000),
}

#: Tick data: the server documents no window, one week is known to be accepted; kept to that.
TICK_WINDOW_MS = 7 * _DAY_MS
#: Deals and orders: no window is documented for them; one week is the documented limit of the
#: other account-history request (cash flow), so it is the safe default here too.
ACCOUNT_HISTORY_WINDOW_MS = 7 * _DAY_MS

T = TypeVar("T")


def trendbar_time(bar: Trendbar) -> int:
    """A trendbar's open time in Unix milliseconds (0 when the server left it out)."""
    return (bar.utc_timestamp_in_minutes or 0) * 60_000


def _order_time(order: Order) -> int:
    opened = order.trade_data.open_timestamp
    return opened if opened is not None else (order.utc_last_update_timestamp or 0)


def _check_range(from_ms: int, to_ms: int) -> None:
    for name, value in (("from_ms", from_ms), ("to_ms", to_ms)):
        if type(value) is not int:
            raise LocalProtocolError(f"{name} must be Unix milliseconds as an int, not {value!r}")
        if not 0 <= value <= MAX_TIMESTAMP_MS:
            raise LocalProtocolError(f"{name} must be between 0 and {MAX_TIMESTAMP_MS}: {value}")
    if to_ms < from_ms:
        raise LocalProtocolError(f"to_ms ({to_ms}) is before from_ms ({from_ms})")


def windows(from_ms: int, to_ms: int, size_ms: int) -> list[tuple[int, int]]:
    """``[from_ms, to_ms]`` cut into windows no longer than ``size_ms``, oldest first; each
    starts where the one before ended. An empty range (``from_ms == to_ms``) has none."""
    _check_range(from_ms, to_ms)
    if size_ms < 1:
        raise LocalProtocolError(f"a window must last at least 1 ms, not {size_ms!r}")
    cuts = []
    start = from_ms
    while start < to_ms:
        end = min(start + size_ms, to_ms)
        cuts.append((start, end))
        start = end
    return cuts


class _Kind(Generic[T]):
    """What differs between the kinds of history: the request, the answer, the records."""

    def __init__(
        self,
        response: type[OpenApiMessage],
        build: Callable[[int, int], OpenApiMessage],
        /,
        records: Callable[[Any], list[T]],
        time: Callable[[T], int],
        identity: Callable[[T], Hashable],
        *,
        backward: bool = False,
    ) -> None:
        self.response = response
        self.build = build
        self.records = records
        self.time = time
        self.identity = identity
        #: The server gives the newest part of a full window first (tick data): go back in time.
        self.backward = backward


class _Seen:
    """The records given at one millisecond, to drop them when they come again."""

    def __init__(self) -> None:
        self.time: int | None = None
        self.ids: Counter[Hashable] = Counter()

    def fresh(self, time: int, identity: Hashable, skip: Counter[Hashable]) -> bool:
        """Whether a record at ``time`` (not past the boundary) is new; ``skip`` holds the
        boundary records this page has yet to repeat."""
        if time != self.time:
            self.time = time
            self.ids.clear()
            skip.clear()  # the repeats are all at the old boundary
            self.ids[identity] += 1
            return True
        if skip[identity] > 0:
            skip[identity] -= 1
            return False
        self.ids[identity] += 1
        return True


class HistoryPager(Generic[T]):
    """The requests for one range of history, one at a time, and the new records of each
    answer, oldest first. Build one with ``trendbar_pager``, ``tick_pager``, ``deal_pager`` or
    ``order_pager``; use it once."""

    def __init__(self, kind: _Kind[T], from_ms: int, to_ms: int, window_ms: int) -> None:
        self._kind = kind
        self._windows = windows(from_ms, to_ms, window_ms)
        self._windows.reverse()  # popped from the end: oldest first
        self._current: tuple[int, int] | None = None
        self._asked = False
        self._emitted = _Seen()  # the newest millisecond given out so far
        self._buffer: list[T] = []  # a window read backward, given out once it is complete
        self._floor = _Seen()  # the oldest millisecond of the buffer
        #: How many requests this pager has made so far.
        self.requests = 0

    def __repr__(self) -> str:
        return (
            f"<HistoryPager {self._kind.response.__name__} {self.requests} requests, "
            f"{len(self._windows)} windows to go>"
        )

    @property
    def done(self) -> bool:
        """Whether every window has been read to its end."""
        return not self._asked and self._current is None and not self._windows

    def next_request(self) -> OpenApiMessage | None:
        """The next request to send, or None when the range has been read."""
        if self._asked:
            raise LocalProtocolError("give take() the answer to the last request first")
        if self._current is None:
            if not self._windows:
                return None
            self._current = self._windows.pop()
        self._asked = True
        self.requests += 1
        return self._kind.build(*self._current)

    def take(self, answer: OpenApiMessage | Mapping[str, Any]) -> list[T]:
        """Read the answer (its Struct, or its payload as decoded JSON) to the last request;
        the records not given before, oldest first. ``RemoteProtocolError`` when the answer is
        not the response expected."""
        if not self._asked:
            raise LocalProtocolError("take() needs a request made by next_request()")
        response = self._response(answer)
        self._asked = False
        kind, current = self._kind, self._current
        assert current is not None
        records = kind.records(response)
        more = bool(getattr(response, "has_more", False)) and bool(records)
        if kind.backward:
            return self._take_backward(records, more, current)
        records.sort(key=kind.time)
        if more:
            resume = max(current[0] + 1, kind.time(records[-1]))
            self._current = (resume, current[1]) if resume <= current[1] else None
        else:
            self._current = None
        return self._fresh(records)

    def _response(self, answer: OpenApiMessage | Mapping[str, Any]) -> Any:
        expected = self._kind.response
        if isinstance(answer, expected):
            return answer
        if isinstance(answer, Mapping):
            try:
                return convert(dict(answer), expected, numeric_strings=True)
            except ValidationError as exc:
                raise RemoteProtocolError(f"not a {expected.__name__}: {exc}") from None
        raise RemoteProtocolError(f"expected {expected.__name__}, got {type(answer).__name__}")

    def _fresh(self, records: list[T]) -> list[T]:
        """Of records oldest first, those not given out before."""
        kind, seen = self._kind, self._emitted
        skip = Counter(seen.ids)
        fresh = []
        for record in records:
            time = kind.time(record)
            if seen.time is not None and time < seen.time:
                continue
            if seen.fresh(time, kind.identity(record), skip):
                fresh.append(record)
        return fresh

    def _take_backward(self, records: list[T], more: bool, current: tuple[int, int]) -> list[T]:
        """A page of a window read from its end: kept until the window is complete."""
        kind, floor = self._kind, self._floor
        skip = Counter(floor.ids)
        for record in sorted(records, key=kind.time, reverse=True):
            time = kind.time(record)
            if floor.time is not None and time > floor.time:
                continue
            if floor.fresh(time, kind.identity(record), skip):
                self._buffer.append(record)
        if more:
            resume = min(current[1] - 1, *(kind.time(r) for r in records))
            if resume >= current[0]:
                self._current = (current[0], resume)
                return []
        self._current = None
        window, self._buffer, self._floor = self._buffer, [], _Seen()
        window.reverse()  # newest first as gathered; oldest first now
        window.sort(key=kind.time)
        return self._fresh(window)


def trendbar_pager(
    account_id: int, symbol_id: int, period: TrendbarPeriod | int, from_ms: int, to_ms: int
) -> HistoryPager[Trendbar]:
    """Trendbars of one period between two Unix times in milliseconds, in windows no longer
    than the server accepts for the period (``TRENDBAR_WINDOW_MS``). Continues after a
    ``hasMore`` answer from the last bar received."""
    try:
        member = TrendbarPeriod(period)
    except ValueError:
        raise LocalProtocolError(f"no trendbar period {period!r}") from None

    def build(start: int, end: int) -> GetTrendbarsReq:
        return GetTrendbarsReq(
            ctid_trader_account_id=account_id,
            symbol_id=symbol_id,
            period=member,
            from_timestamp=start,
            to_timestamp=end,
        )

    kind = _Kind[Trendbar](
        GetTrendbarsRes, build, lambda res: list(res.trendbar), trendbar_time, trendbar_time
    )
    return HistoryPager(kind, from_ms, to_ms, TRENDBAR_WINDOW_MS[member])


def _absolute_ticks(response: GetTickDataRes) -> list[TickData]:
    """The answer's ticks with absolute times and raw prices (the wire gives differences)."""
    ticks = []
    timestamp = price = 0
    for i, entry in enumerate(response.tick_data):
        timestamp = entry.timestamp if i == 0 else timestamp + entry.timestamp
        price = entry.tick if i == 0 else price + entry.tick
        ticks.append(TickData(timestamp=timestamp, tick=price))
    return ticks


def _tick_identity(tick: TickData) -> Hashable:
    return (tick.timestamp, tick.tick)


def tick_pager(
    account_id: int,
    symbol_id: int,
    quote_type: QuoteType | int,
    from_ms: int,
    to_ms: int,
    *,
    window_ms: int = TICK_WINDOW_MS,
) -> HistoryPager[TickData]:
    """Bid or ask ticks between two Unix times in milliseconds, as ``TickData`` holding the
    absolute time and raw price (1/100000) of each tick, oldest first.

    The server documents no window for tick data; ``window_ms`` defaults to one week, which it
    is known to accept. The server sends the newest ticks of a window first, so a window with
    ``hasMore`` is read backward (each next request ends at the oldest tick received) and its
    ticks are given out when it is complete: a window's ticks are held in memory at once.
    """
    try:
        side = QuoteType(quote_type)
    except ValueError:
        raise LocalProtocolError(f"no quote type {quote_type!r}") from None

    def build(start: int, end: int) -> GetTickDataReq:
        return GetTickDataReq(
            ctid_trader_account_id=account_id,
            symbol_id=symbol_id,
            type=side,
            from_timestamp=start,
            to_timestamp=end,
        )

    kind = _Kind[TickData](
        GetTickDataRes,
        build,
        _absolute_ticks,
        lambda tick: tick.timestamp,
        _tick_identity,
        backward=True,
    )
    return HistoryPager(kind, from_ms, to_ms, window_ms)


def deal_pager(
    account_id: int, from_ms: int, to_ms: int, *, window_ms: int = ACCOUNT_HISTORY_WINDOW_MS
) -> HistoryPager[Deal]:
    """The account's deals executed between two Unix times in milliseconds, by execution
    time; each deal once (by ``dealId``)."""

    def build(start: int, end: int) -> DealListReq:
        return DealListReq(
            ctid_trader_account_id=account_id, from_timestamp=start, to_timestamp=end
        )

    kind = _Kind[Deal](
        DealListRes,
        build,
        lambda res: list(res.deal),
        lambda deal: deal.execution_timestamp,
        lambda deal: deal.deal_id,
    )
    return HistoryPager(kind, from_ms, to_ms, window_ms)


def order_pager(
    account_id: int, from_ms: int, to_ms: int, *, window_ms: int = ACCOUNT_HISTORY_WINDOW_MS
) -> HistoryPager[Order]:
    """The account's orders created between two Unix times in milliseconds, by creation time
    (``tradeData.openTimestamp``); each order once (by ``orderId``)."""

    def build(start: int, end: int) -> OrderListReq:
        return OrderListReq(
            ctid_trader_account_id=account_id, from_timestamp=start, to_timestamp=end
        )

    kind = _Kind[Order](
        OrderListRes,
        build,
        lambda res: list(res.order),
        _order_time,
        lambda order: order.order_id,
    )
    return HistoryPager(kind, from_ms, to_ms, window_ms)
