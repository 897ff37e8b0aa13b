"""The history pager: windows per period, hasMore continuation, duplicates dropped, order."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from brokerwire.adapters.simulators._ctrader_history import (
    tick_count,
    tick_page,
    trendbar_count,
    trendbar_page,
)
from brokerwire.core.ctrader.history import (
    MAX_TIMESTAMP_MS,
    TRENDBAR_WINDOW_MS,
    HistoryPager,
    deal_pager,
    order_pager,
    tick_pager,
    trendbar_pager,
    trendbar_time,
    windows,
)
from brokerwire.core.ctrader.models import (
    Deal,
    DealListReq,
    DealListRes,
    DealStatus,
    GetTickDataReq,
    GetTrendbarsReq,
    GetTrendbarsRes,
    Order,
    OrderListReq,
    OrderStatus,
    OrderType,
    QuoteType,
    TickData,
    TradeData,
    TradeSide,
    Trendbar,
    TrendbarPeriod,
)
from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError

ACCOUNT = 7
HOUR = 3_600_000
DAY = 24 * HOUR
START = 1_700_006_400_000  # 2023-11-15 00:00 UTC, on an hour
TWO_YEARS = 730 * DAY


def drain(pager: HistoryPager[Any], answer: Callable[[Any], Any]) -> tuple[list[Any], list[Any]]:
    """Run a pager against a function that answers each request; the records and requests."""
    records: list[Any] = []
    requests: list[Any] = []
    while (request := pager.next_request()) is not None:
        requests.append(request)
        records.extend(pager.take(answer(request)))
        assert len(requests) < 10_000, "the pager does not end"
    assert pager.done
    return records, requests


def simulated_bars(chunk: int) -> Callable[[GetTrendbarsReq], dict[str, Any]]:
    """The simulator's trendbar answers (as payloads), ``chunk`` bars at most."""

    def answer(request: GetTrendbarsReq) -> dict[str, Any]:
        bars, more = trendbar_page(1, 108_512, msgspec.to_builtins(request), chunk)
        return {"ctidTraderAccountId": ACCOUNT, "period": 9, "trendbar": bars, "hasMore": more}

    return answer


@pytest.mark.parametrize("period", list(TrendbarPeriod))
def test_trendbar_windows_fit_the_limit_of_each_period(period: TrendbarPeriod) -> None:
    end = START + 5 * 366 * DAY
    pager = trendbar_pager(ACCOUNT, 1, period, START, end)
    asked = []
    while (request := pager.next_request()) is not None:
        assert isinstance(request, GetTrendbarsReq)
        assert request.period is period
        assert request.to_timestamp is not None
        assert request.from_timestamp is not None
        assert 0 < request.to_timestamp - request.from_timestamp <= TRENDBAR_WINDOW_MS[period]
        asked.append((request.from_timestamp, request.to_timestamp))
        pager.take(GetTrendbarsRes(ctid_trader_account_id=ACCOUNT, period=period, has_more=False))
    assert asked[0][0] == START
    assert asked[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(asked)), "no gap, no overlap"
    assert len(asked) == -(-(end - START) // TRENDBAR_WINDOW_MS[period])


def test_windows_cut_a_range_and_an_empty_range_has_none() -> None:
    assert windows(0, 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert windows(5, 5, 4) == []
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.H1, START, START)
    assert pager.next_request() is None
    assert pager.done
    assert pager.requests == 0


def test_two_years_of_h1_bars_complete_in_order_without_duplicates() -> None:
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.H1, START, START + TWO_YEARS)
    bars, requests = drain(pager, simulated_bars(chunk=1000))
    times = [trendbar_time(bar) for bar in bars]
    assert len(bars) == trendbar_count(TrendbarPeriod.H1, START, START + TWO_YEARS) == 730 * 24
    assert times == sorted(set(times)), "strictly increasing: in order, no duplicates"
    assert times[0] == START
    assert times[-1] == START + TWO_YEARS - HOUR
    assert all(isinstance(bar, Trendbar) for bar in bars)
    # 4 windows of 245 days at most; each page holds 999 new bars (the last one comes again)
    assert len(requests) == pager.requests
    assert 18 <= len(requests) <= 22


def test_a_continuation_starts_at_the_last_bar_received() -> None:
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.M1, START, START + 10 * 60_000)
    answer = simulated_bars(chunk=4)
    first = pager.next_request()
    assert isinstance(first, GetTrendbarsReq)
    got = pager.take(answer(first))
    assert [trendbar_time(b) for b in got] == [START + i * 60_000 for i in range(4)]
    second = pager.next_request()
    assert isinstance(second, GetTrendbarsReq)
    assert (second.from_timestamp, second.to_timestamp) == (START + 3 * 60_000, START + 600_000)
    again = pager.take(answer(second))
    assert [trendbar_time(b) for b in again] == [START + i * 60_000 for i in range(4, 7)]


def test_bars_sent_twice_or_out_of_order_are_given_once_in_order() -> None:
    def bar(minute: int) -> dict[str, Any]:
        return {"volume": 1, "low": 100, "utcTimestampInMinutes": minute}

    base = START // 60_000
    pages = iter(
        [
            {"trendbar": [bar(base + 2), bar(base), bar(base + 1)], "hasMore": True},
            {"trendbar": [bar(base + 1), bar(base + 2), bar(base + 3)], "hasMore": True},
            {"trendbar": [bar(base + 3), bar(base + 4)], "hasMore": False},
        ]
    )
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.M1, START, START + 10 * 60_000)
    bars, _ = drain(pager, lambda _: {"ctidTraderAccountId": ACCOUNT, "period": 1, **next(pages)})
    assert [trendbar_time(b) - START for b in bars] == [i * 60_000 for i in range(5)]


def test_a_page_stuck_at_one_millisecond_still_moves_on() -> None:
    """A server that keeps saying hasMore for records at the start of the window: each next
    request starts a millisecond later, so the paging ends."""
    stuck = {"volume": 1, "utcTimestampInMinutes": START // 60_000}
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.M1, START, START + 5)
    answer = {"ctidTraderAccountId": ACCOUNT, "period": 1, "trendbar": [stuck], "hasMore": True}
    bars, requests = drain(pager, lambda _: answer)
    assert len(bars) == 1
    assert [r.from_timestamp - START for r in requests] == [0, 1, 2, 3, 4, 5]


def simulated_ticks(chunk: int) -> Callable[[GetTickDataReq], dict[str, Any]]:
    def answer(request: GetTickDataReq) -> dict[str, Any]:
        ticks, more = tick_page(1, 108_512, msgspec.to_builtins(request), chunk)
        return {"ctidTraderAccountId": ACCOUNT, "tickData": ticks, "hasMore": more}

    return answer


def test_ticks_read_backward_within_a_window_come_out_oldest_first_and_once() -> None:
    """The simulator sends the newest ticks first and has two at one millisecond every 7th
    second; a chunk of 7 makes pages end between such twins."""
    end = START + 2 * HOUR + 30_000  # a window and a bit, in 2-hour windows
    pager = tick_pager(ACCOUNT, 1, QuoteType.BID, START, end, window_ms=2 * HOUR)
    ticks, requests = drain(pager, simulated_ticks(chunk=7))
    assert len(ticks) == tick_count(START, end)
    keys = [(t.timestamp, t.tick) for t in ticks]
    assert len(set(keys)) == len(keys)
    assert [t.timestamp for t in ticks] == sorted(t.timestamp for t in ticks)
    assert ticks[0].timestamp == START
    assert ticks[-1].timestamp == end
    assert all(isinstance(t, TickData) and 108_000 < t.tick < 109_000 for t in ticks)
    assert all(isinstance(r, GetTickDataReq) and r.type is QuoteType.BID for r in requests)
    second = requests[1]
    assert second.from_timestamp == START
    assert second.to_timestamp < START + 2 * HOUR


def test_tick_deltas_are_made_absolute() -> None:
    pager = tick_pager(ACCOUNT, 1, QuoteType.ASK, START, START + 10_000)
    pager.next_request()
    answer = {
        "ctidTraderAccountId": ACCOUNT,
        "tickData": [
            {"timestamp": START + 9_000, "tick": 110_000},
            {"timestamp": -4_000, "tick": 5},
            {"timestamp": -5_000, "tick": -8},
        ],
        "hasMore": False,
    }
    assert [(t.timestamp - START, t.tick) for t in pager.take(answer)] == [
        (0, 109_997),
        (5_000, 110_005),
        (9_000, 110_000),
    ]


def deal(deal_id: int, executed: int) -> Deal:
    return Deal(
        deal_id=deal_id,
        order_id=deal_id,
        position_id=deal_id,
        volume=100,
        filled_volume=100,
        symbol_id=1,
        create_timestamp=executed,
        execution_timestamp=executed,
        trade_side=TradeSide.BUY,
        deal_status=DealStatus.FILLED,
    )


def test_deals_follow_has_more_by_time_and_drop_repeats_by_id() -> None:
    """Two deals at the same millisecond across a page boundary: the one sent again is
    dropped, the one never sent is not."""
    every = [deal(i, START + (i // 2) * 1_000) for i in range(1, 10)]

    def answer(request: DealListReq) -> DealListRes:
        assert request.from_timestamp is not None
        assert request.to_timestamp is not None
        within = [
            d
            for d in every
            if request.from_timestamp <= d.execution_timestamp <= request.to_timestamp
        ]
        return DealListRes(
            ctid_trader_account_id=ACCOUNT, deal=within[:3], has_more=len(within) > 3
        )

    deals, requests = drain(deal_pager(ACCOUNT, START, START + 3 * DAY, window_ms=DAY), answer)
    assert [d.deal_id for d in deals] == list(range(1, 10))
    assert all(isinstance(r, DealListReq) for r in requests)
    assert all(r.to_timestamp - r.from_timestamp <= DAY for r in requests)


def order(order_id: int, opened: int) -> dict[str, Any]:
    payload: dict[str, Any] = msgspec.to_builtins(
        Order(
            order_id=order_id,
            trade_data=TradeData(
                symbol_id=1, volume=100, trade_side=TradeSide.SELL, open_timestamp=opened
            ),
            order_type=OrderType.LIMIT,
            order_status=OrderStatus.ORDER_STATUS_ACCEPTED,
        )
    )
    return payload


def test_orders_from_payloads_by_creation_time() -> None:
    pages = iter(
        [
            {"order": [order(2, START + 5), order(1, START + 1)], "hasMore": True},
            {"order": [order(2, START + 5), order(3, START + 9)], "hasMore": False},
        ]
    )
    pager = order_pager(ACCOUNT, START, START + DAY)
    orders, requests = drain(pager, lambda _: {"ctidTraderAccountId": ACCOUNT, **next(pages)})
    assert [o.order_id for o in orders] == [1, 2, 3]
    assert all(isinstance(o, Order) for o in orders)
    assert isinstance(requests[1], OrderListReq)
    assert requests[1].from_timestamp == START + 5


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START + 1, START),
        (-1, START),
        (START, MAX_TIMESTAMP_MS + 1),
        (float(START), START + 1),
        (True, START),
    ],
)
def test_a_bad_range_is_refused_at_once(start: Any, end: Any) -> None:
    for make in (
        lambda: trendbar_pager(ACCOUNT, 1, TrendbarPeriod.H1, start, end),
        lambda: tick_pager(ACCOUNT, 1, QuoteType.BID, start, end),
        lambda: deal_pager(ACCOUNT, start, end),
        lambda: order_pager(ACCOUNT, start, end),
    ):
        with pytest.raises(LocalProtocolError):
            make()


def test_bad_period_quote_type_and_window_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        trendbar_pager(ACCOUNT, 1, 99, START, START + 1)
    with pytest.raises(LocalProtocolError):
        tick_pager(ACCOUNT, 1, 3, START, START + 1)
    with pytest.raises(LocalProtocolError):
        deal_pager(ACCOUNT, START, START + 1, window_ms=0)


def test_misuse_and_a_wrong_answer() -> None:
    pager = trendbar_pager(ACCOUNT, 1, TrendbarPeriod.H1, START, START + DAY)
    with pytest.raises(LocalProtocolError):
        pager.take({"ctidTraderAccountId": ACCOUNT, "period": 9})
    pager.next_request()
    with pytest.raises(LocalProtocolError):
        pager.next_request()
    with pytest.raises(RemoteProtocolError):
        pager.take(DealListRes(ctid_trader_account_id=ACCOUNT, has_more=False))
    with pytest.raises(RemoteProtocolError):
        pager.take({"trendbar": "not a list"})
    assert pager.take({"ctidTraderAccountId": ACCOUNT, "period": 9}) == []
    assert pager.next_request() is None
