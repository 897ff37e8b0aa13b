"""History through both clients against the simulator: every page asked for, in order, once,
within the 5-per-second historical budget as the simulator counted it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from brokerwire.adapters.engine.ctrader_history import MAX_THROTTLED
from brokerwire.adapters.errors import Throttled
from brokerwire.adapters.simulators import CTraderSimulator
from brokerwire.adapters.simulators._ctrader_history import (
    tick_count,
    trendbar_count,
    trendbar_page,
)
from brokerwire.core.ctrader import PayloadType
from brokerwire.core.ctrader.history import trendbar_pager, trendbar_time
from brokerwire.core.ctrader.models import (
    Deal,
    Order,
    QuoteType,
    TickData,
    Trendbar,
    TrendbarPeriod,
)
from brokerwire.core.errors import LocalProtocolError
from tests.adapters.clients import ctrader_credentials
from tests.adapters.drivers import ADAPTERS, AsyncioDriver, Driver, open_client

pytestmark = pytest.mark.timeout(90)

HOUR = 3_600_000
DAY = 24 * HOUR
START = 1_700_006_400_000  # 2023-11-15 00:00 UTC
TWO_YEARS = 730 * DAY
TRENDBARS = PayloadType.PROTO_OA_GET_TRENDBARS_REQ


@pytest.fixture
def sim() -> Iterator[CTraderSimulator]:
    with CTraderSimulator(price_walk=False, requests_per_second=100_000) as simulator:
        yield simulator


def connected(adapter: str, sim: CTraderSimulator) -> Driver:
    driver = open_client(adapter, "ctrader", sim.tcp_url, **ctrader_credentials(sim))
    driver.call("authorize_account", sim.accounts[0])
    return driver


def history(driver: Driver, method: str, *args: Any, **kwargs: Any) -> list[Any]:
    """Every record a ``*_history`` method gives: a generator on the threaded client, an
    async iterator (iterated in the client's loop) on the asyncio client."""
    if isinstance(driver, AsyncioDriver):

        async def gather() -> list[Any]:
            return [record async for record in getattr(driver.client, method)(*args, **kwargs)]

        return driver._run(gather(), timeout=60)  # type: ignore[no-any-return]
    return list(getattr(driver.client, method)(*args, **kwargs))


def pages_needed(period: TrendbarPeriod, from_ms: int, to_ms: int) -> int:
    """How many requests the pager makes for a range when none is refused."""
    pager = trendbar_pager(1, 1, period, from_ms, to_ms)
    while (request := pager.next_request()) is not None:
        bars, more = trendbar_page(1, 1, msgspec.to_builtins(request), 1000)
        pager.take({"ctidTraderAccountId": 1, "period": period, "trendbar": bars, "hasMore": more})
    return pager.requests


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_two_years_of_h1_trendbars_arrive_complete_in_order_within_the_budget(
    adapter: str, sim: CTraderSimulator
) -> None:
    account, end = sim.accounts[0], START + TWO_YEARS
    with connected(adapter, sim) as driver:
        bars = history(driver, "trendbar_history", account, 1, TrendbarPeriod.H1, START, end)
    times = [trendbar_time(bar) for bar in bars]
    assert all(type(bar) is Trendbar for bar in bars)
    assert len(bars) == trendbar_count(TrendbarPeriod.H1, START, end) == 730 * 24
    assert times == sorted(set(times)), "strictly increasing: in order and no duplicates"
    assert times[0] == START
    assert times[-1] == end - HOUR
    # The client paces its requests to the budget (tests/core/ctrader/test_release_queue.py
    # shows it on a given clock); on a busy machine two may still arrive closer together than
    # they were sent, and a refused one is asked again: beyond the plan, only those.
    pages, refused = sim.received[TRENDBARS], sim.over_budget[TRENDBARS]
    assert pages - refused == pages_needed(TrendbarPeriod.H1, START, end)
    assert pages_needed(TrendbarPeriod.H1, START, end) >= 18, "4 windows of 245 days at most"
    assert len(sim.historical_arrivals) == pages


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ticks_arrive_oldest_first_once_each(adapter: str) -> None:
    end = START + 20 * 60_000
    with CTraderSimulator(history_chunk=200) as sim, connected(adapter, sim) as driver:
        ticks = history(driver, "tick_history", sim.accounts[0], 1, QuoteType.ASK, START, end)
        assert sim.received[PayloadType.PROTO_OA_GET_TICKDATA_REQ] > 5
    assert all(type(tick) is TickData for tick in ticks)
    assert len(ticks) == tick_count(START, end)
    keys = [(tick.timestamp, tick.tick) for tick in ticks]
    assert len(set(keys)) == len(keys)
    assert [tick.timestamp for tick in ticks] == sorted(tick.timestamp for tick in ticks)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_deals_and_orders_page_through_has_more(adapter: str) -> None:
    with (
        CTraderSimulator(history_chunk=2, price_walk=False) as sim,
        connected(adapter, sim) as driver,
    ):
        account = sim.accounts[0]
        for _ in range(5):
            driver.call("new_order", account, 1, "BUY", 100_000)
        everything = (0, 2_147_483_646_000)
        deals = history(driver, "deal_history", account, *everything, window_ms=10**15)
        orders = history(driver, "order_history", account, *everything, window_ms=10**15)
        assert sim.received[PayloadType.PROTO_OA_DEAL_LIST_REQ] >= 3
        assert sim.received[PayloadType.PROTO_OA_ORDER_LIST_REQ] >= 3
    assert all(type(d) is Deal for d in deals)
    assert len({d.deal_id for d in deals}) == len(deals) == 5
    assert [d.execution_timestamp for d in deals] == sorted(d.execution_timestamp for d in deals)
    assert all(type(o) is Order for o in orders)
    assert len({o.order_id for o in orders}) == len(orders) == 5


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_bad_range_is_refused_before_anything_is_sent(
    adapter: str, sim: CTraderSimulator
) -> None:
    with connected(adapter, sim) as driver:
        with pytest.raises(LocalProtocolError):
            driver.client.trendbar_history(sim.accounts[0], 1, TrendbarPeriod.H1, START, START - 1)
        assert history(driver, "trendbar_history", sim.accounts[0], 1, 9, START, START) == []
    assert sim.received[TRENDBARS] == 0


def test_a_window_too_long_for_its_period_is_refused_by_the_simulator(
    sim: CTraderSimulator,
) -> None:
    from brokerwire.adapters.errors import RequestRefused
    from brokerwire.adapters.threaded import CTraderClient

    with CTraderClient(sim.tcp_url, **ctrader_credentials(sim)) as client:
        account = sim.accounts[0]
        client.authorize_account(account)
        with pytest.raises(RequestRefused) as refused:
            client.get_trendbars(account, 1, "H1", START, START + 246 * DAY)
        assert refused.value.code == "INCORRECT_BOUNDARIES"
        answer = client.get_trendbars(account, 1, "H1", START, START + 245 * DAY)
        assert len(answer.trendbar) == 1000
        assert answer.has_more is True


def test_the_asyncio_iterator_asks_only_as_it_is_iterated(sim: CTraderSimulator) -> None:
    """Stopping early asks for nothing more: the next page is requested when it is needed."""
    from brokerwire.adapters.asyncio import CTraderClient

    async def main() -> int:
        async with CTraderClient(sim.tcp_url, **ctrader_credentials(sim)) as client:
            await client.authorize_account(sim.accounts[0])
            taken = 0
            async for _ in client.trendbar_history(
                sim.accounts[0], 1, TrendbarPeriod.M1, START, START + 10 * DAY
            ):
                taken += 1
                if taken == 1500:
                    break
            return taken

    assert asyncio.run(main()) == 1500
    assert sim.received[TRENDBARS] == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_page_refused_for_going_too_fast_is_asked_again(adapter: str) -> None:
    end = START + 40 * DAY
    with CTraderSimulator(history_chunk=500) as sim, connected(adapter, sim) as driver:
        sim.throttle(TRENDBARS, times=2, retry_after=1)
        bars = history(
            driver, "trendbar_history", sim.accounts[0], 1, TrendbarPeriod.H1, START, end
        )
        assert sim.received[TRENDBARS] == 2 + 2, "two pages, the first asked three times"
        sim.throttle(TRENDBARS, times=MAX_THROTTLED + 1, retry_after=0)
        with pytest.raises(Throttled):
            history(driver, "trendbar_history", sim.accounts[0], 1, TrendbarPeriod.H1, START, end)
    assert [trendbar_time(bar) for bar in bars] == [START + i * HOUR for i in range(40 * 24)]
