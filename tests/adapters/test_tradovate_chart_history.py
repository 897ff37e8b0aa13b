"""Chart history through both Tradovate clients against the simulator: a range the server
sends in several batches arrives complete, in order, each bar once, and none of its packets
reaches the caller's events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.adapters.simulators._tradovate_history import history_price
from brokerwire.core.tradovate import Bar, Chart
from brokerwire.core.tradovate.history import bar_time
from tests.adapters.drivers import ADAPTERS, AsyncioDriver, Driver, open_client

pytestmark = pytest.mark.timeout(60)

ES = 3570918
TICK = 0.25


@pytest.fixture
def sim() -> Iterator[TradovateSimulator]:
    with TradovateSimulator(chart_batch=200, price_walk=False, request_limit=100_000) as s:
        yield s


def history(driver: Driver, *args: Any, **kwargs: Any) -> list[Bar]:
    """The bars ``chart_history`` gives: a generator on the threaded client, an async iterator
    (iterated in the client's loop) on the asyncio client."""
    if isinstance(driver, AsyncioDriver):

        async def gather() -> list[Bar]:
            return [bar async for bar in driver.client.chart_history(*args, **kwargs)]

        return driver._run(gather(), timeout=50)  # type: ignore[no-any-return]
    return list(driver.client.chart_history(*args, **kwargs))


def last_minute() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_range_of_several_batches_arrives_whole_in_order_once(
    adapter: str, sim: TradovateSimulator
) -> None:
    end = last_minute() - dt.timedelta(hours=2)
    start = end - dt.timedelta(minutes=649)
    driver = open_client(adapter, "tradovate", sim.md_url, token=sim.md_token)
    try:
        bars = history(driver, "ESZ6", start, end)
    finally:
        driver.close()
    times = [bar_time(bar) for bar in bars]
    assert times == [start + dt.timedelta(minutes=k) for k in range(650)]
    assert [bar.close for bar in bars] == [history_price(ES, when, TICK) for when in times]
    assert sim.chart_requests == 4  # 200 + 200 + 200 + 50 bars
    assert [e for e in driver.drain() if isinstance(e, Chart)] == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_range_the_server_has_only_part_of_ends_with_what_it_has(
    adapter: str, sim: TradovateSimulator
) -> None:
    end = last_minute() + dt.timedelta(hours=3)  # the simulator has nothing after now
    start = end - dt.timedelta(hours=6)
    driver = open_client(adapter, "tradovate", sim.md_url, token=sim.md_token)
    try:
        bars = history(driver, "ESZ6", start, end)
        times = [bar_time(bar) for bar in bars]
        assert times == sorted(set(times))
        assert times[0] == start
        assert times[-1] <= last_minute() + dt.timedelta(minutes=1)
    finally:
        driver.close()
