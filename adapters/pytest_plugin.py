"""pytest fixtures that start a broker simulator for a test.

Installed with brokerwire (entry point ``pytest11``), so any project that depends on brokerwire
can write::

    def test_my_bot(tradovate_sim):
        bot = MyBot(url=tradovate_sim.url, token=tradovate_sim.token)

    @pytest.mark.tradovate_sim(price_walk=False)
    def test_my_limit_order(tradovate_sim):
        sim = tradovate_sim
        with TradovateClient(sim.trading_url, token=sim.token) as trading:
            trading.sync_user(sim.user_id)
            trading.place_order(account_spec=sim.account_name, account_id=sim.account_id,
                                symbol="ESZ6", action="Buy", order_qty=1,
                                order_type="Limit", price=5990.0)
            sim.set_price("ESZ6", 5990.0)  # the order fills: its events follow

    @pytest.mark.ctrader_sim(spot_rate=100)
    def test_spots(ctrader_sim):
        connect(ctrader_sim.tcp_url, ctrader_sim.client_id, ctrader_sim.client_secret, ...)

A ``tradovate_sim`` / ``ctrader_sim`` marker passes its keyword arguments to the simulator
(rates, timeouts, faults). The simulator runs in a background thread on a free loopback port
and is stopped, with every connection dropped, when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator

__all__ = ["ctrader_sim", "tradovate_sim"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "tradovate_sim(**options): options for the tradovate_sim fixture"
    )
    config.addinivalue_line(
        "markers", "ctrader_sim(**options): options for the ctrader_sim fixture"
    )


@pytest.fixture
def tradovate_sim(request: pytest.FixtureRequest) -> Iterator[TradovateSimulator]:
    """A running Tradovate simulator: ``.url`` and ``.token`` (one socket for everything), or
    ``.md_url`` with ``.md_token`` and ``.trading_url`` with ``.token``; ``.user_id``,
    ``.account_id``, ``.account_name``; ``.set_price(symbol, price)``; ``.inject(fault)`` via
    ``call_soon``."""
    marker = request.node.get_closest_marker("tradovate_sim")
    with TradovateSimulator(**(marker.kwargs if marker else {})) as simulator:
        yield simulator


@pytest.fixture
def ctrader_sim(request: pytest.FixtureRequest) -> Iterator[CTraderSimulator]:
    """A running cTrader simulator: ``.websocket_url``, ``.tcp_url``, ``.client_id``,
    ``.client_secret``, ``.access_token``, ``.refresh_token``, ``.accounts``;
    ``.set_price(symbol_id, bid)``."""
    marker = request.node.get_closest_marker("ctrader_sim")
    with CTraderSimulator(**(marker.kwargs if marker else {})) as simulator:
        yield simulator
