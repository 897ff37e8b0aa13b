"""Every Tradovate simulator endpoint through a client helper, on both adapters.

Prices move only when the test moves them (``set_price``, no quote stream): a resting order
fills exactly when a price crosses it, and a price that does not cross leaves it working, which
a request sent after the move proves (the simulator handles the move first).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from brokerwire.adapters.errors import AuthenticationError, RequestRefused
from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.core.jsonlib import to_builtins
from brokerwire.core.redaction import REDACTED
from brokerwire.core.tradovate import EntityChanged, MarketData
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(60)

ES = 3570918


@pytest.fixture
def sim() -> Iterator[TradovateSimulator]:
    with TradovateSimulator(price_walk=False, request_limit=100_000) as simulator:
        yield simulator


def trading(adapter: str, sim: TradovateSimulator) -> Driver:
    driver = open_client(adapter, "tradovate", sim.trading_url, token=sim.token)
    driver.call("sync_user", sim.user_id)
    return driver


def changes(driver: Driver, count: int) -> list[tuple[str, str, Any]]:
    """The next ``count`` entity changes, as (entity type, event type, entity by wire names)."""
    events = driver.collect(lambda evs: sum(type(e) is EntityChanged for e in evs) >= count)
    return [
        (e.entity_type, e.event_type, to_builtins(e.entity))
        for e in events
        if type(e) is EntityChanged
    ]


def place(driver: Driver, sim: TradovateSimulator, action: str, quantity: int, **kw: Any) -> int:
    answer = driver.call(
        "place_order",
        account_spec=sim.account_name,
        account_id=sim.account_id,
        symbol="ESZ6",
        action=action,
        order_qty=quantity,
        **kw,
    )
    return int(answer["orderId"])


def status(driver: Driver, order_id: int) -> str:
    orders = driver.call("list_orders")
    return str(next(o for o in orders if o["id"] == order_id)["ordStatus"])


def test_the_simulator_exposes_its_user_and_account() -> None:
    sim = TradovateSimulator()
    assert (sim.user_id, sim.account_id, sim.account_name) == (2001, 7001, "SIM7001")
    assert sim.md_token != sim.token


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_market_data_and_trading_sockets_each_take_their_own_token(
    adapter: str, sim: TradovateSimulator
) -> None:
    with pytest.raises(AuthenticationError):
        open_client(adapter, "tradovate", sim.md_url, token=sim.token, reconnect=False)
    with pytest.raises(AuthenticationError):
        open_client(adapter, "tradovate", sim.trading_url, token=sim.md_token, reconnect=False)
    with (
        open_client(adapter, "tradovate", sim.md_url, token=sim.md_token) as md,
        trading(adapter, sim) as trade,
    ):
        assert md.call("subscribe_quote", "ESZ6")["errorCode"] == "Success"
        quote = md.collect(lambda evs: type(evs[-1]) is MarketData)[-1].quotes[0]
        assert quote.contract_id == ES
        with pytest.raises(RequestRefused) as refused:
            md.call("list_accounts")
        assert refused.value.status == 404
        with pytest.raises(RequestRefused) as refused:
            trade.call("subscribe_quote", "ESZ6")
        assert refused.value.status == 404
        assert trade.call("list_accounts")[0]["id"] == sim.account_id


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_limit_order_rests_until_the_price_crosses_it(
    adapter: str, sim: TradovateSimulator
) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        order_id = place(driver, sim, "Buy", 2, order_type="Limit", price=5990.0)
        placed = changes(driver, 4)
        assert [(t, e) for t, e, _ in placed] == [
            ("order", "Created"),
            ("orderVersion", "Created"),
            ("executionReport", "Created"),
            ("order", "Updated"),
        ]
        assert placed[1][2]["price"] == 5990.0
        sim.set_price("ESZ6", 5990.25)  # a tick above the limit: still working
        assert status(driver, order_id) == "Working"
        sim.set_price("ESZ6", 5989.0)  # through the limit: filled at the limit
        filled = changes(driver, 4)
        assert [(t, e) for t, e, _ in filled] == [
            ("executionReport", "Created"),
            ("fill", "Created"),
            ("order", "Updated"),
            ("position", "Created"),
        ]
        report, fill, order, position = (entity for _, _, entity in filled)
        assert (report["execType"], report["ordStatus"], report["lastPx"]) == (
            "Trade",
            "Filled",
            5990.0,
        )
        assert (fill["orderId"], fill["qty"], fill["price"]) == (order_id, 2, 5990.0)
        assert order["ordStatus"] == "Filled"
        assert (position["netPos"], position["netPrice"]) == (2, 5990.0)
        assert status(driver, order_id) == "Filled"
        positions = driver.call("list_positions")
        assert [(p["contractId"], p["netPos"]) for p in positions] == [(ES, 2)]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_stop_order_rests_until_the_price_reaches_it(
    adapter: str, sim: TradovateSimulator
) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        order_id = place(driver, sim, "Sell", 1, order_type="Stop", stop_price=5995.0)
        changes(driver, 4)
        sim.set_price("ESZ6", 6010.0)  # away from the stop
        sim.set_price("ESZ6", 5995.25)  # nearer, not there
        assert status(driver, order_id) == "Working"
        sim.set_price("ESZ6", 5994.5)  # through the stop: filled at the market
        filled = changes(driver, 4)
        fill = next(entity for kind, _, entity in filled if kind == "fill")
        assert (fill["action"], fill["qty"], fill["price"]) == ("Sell", 1, 5994.5)
        assert filled[-1][2]["netPos"] == -1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_cancel_order_and_cancelling_twice(adapter: str, sim: TradovateSimulator) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        order_id = place(driver, sim, "Buy", 1, order_type="Limit", price=5900.0)
        changes(driver, 4)
        assert "commandId" in driver.call("cancel_order", order_id)
        cancelled = changes(driver, 2)
        assert cancelled[0][2]["execType"] == "Canceled"
        assert cancelled[1][2]["ordStatus"] == "Canceled"
        sim.set_price("ESZ6", 5800.0)  # a cancelled order does not fill
        assert status(driver, order_id) == "Canceled"
        with pytest.raises(RequestRefused) as refused:
            driver.call("cancel_order", order_id)
        assert refused.value.code == "TooLate"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_modify_order_to_a_price_the_market_has_reached_fills_it(
    adapter: str, sim: TradovateSimulator
) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        order_id = place(driver, sim, "Buy", 3, order_type="Limit", price=5900.0)
        changes(driver, 4)
        driver.call("modify_order", order_id, order_qty=2, order_type="Limit", price=5950.0)
        modified = changes(driver, 3)
        assert modified[0][2] == {
            "id": modified[0][2]["id"],
            "orderId": order_id,
            "orderQty": 2,
            "orderType": "Limit",
            "price": 5950.0,
        }
        assert modified[1][2]["execType"] == "Replaced"
        assert status(driver, order_id) == "Working"
        driver.call("modify_order", order_id, order_qty=2, order_type="Limit", price=6000.0)
        fill = next(e for kind, _, e in changes(driver, 7) if kind == "fill")
        assert (fill["qty"], fill["price"]) == (2, 6000.0)
        with pytest.raises(RequestRefused) as refused:
            driver.call("modify_order", order_id, order_qty=1, order_type="Market")
        assert refused.value.code == "TooLate"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_liquidate_position_cash_balance_and_realized_profit(
    adapter: str, sim: TradovateSimulator
) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        place(driver, sim, "Buy", 2)
        changes(driver, 8)
        resting = place(driver, sim, "Sell", 2, order_type="Limit", price=6100.0)
        changes(driver, 4)
        sim.set_price("ESZ6", 6010.0)
        snapshot = driver.call("get_cash_balance_snapshot", sim.account_id)
        assert snapshot["openPnL"] == 10 * 2 * 50.0
        assert snapshot["realizedPnL"] == 0.0
        answer = driver.call("liquidate_position", account_id=sim.account_id, contract_id=ES)
        assert answer["orderId"] != resting
        assert status(driver, resting) == "Canceled", "its working orders are cancelled first"
        assert driver.call("list_positions")[0]["netPos"] == 0
        snapshot = driver.call("get_cash_balance_snapshot", sim.account_id)
        assert (snapshot["realizedPnL"], snapshot["openPnL"]) == (1000.0, 0.0)
        assert snapshot["totalCashValue"] == 51_000.0
        with pytest.raises(RequestRefused):
            driver.call("liquidate_position", account_id=sim.account_id, contract_id=ES)
        with pytest.raises(RequestRefused, match="Unknown account"):
            driver.call("get_cash_balance_snapshot", 1)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_orders_on_one_socket_are_seen_on_another(adapter: str, sim: TradovateSimulator) -> None:
    with trading(adapter, sim) as first, trading(adapter, sim) as second:
        order_id = place(first, sim, "Buy", 1, order_type="Limit", price=1.0)
        assert [o["id"] for o in second.call("list_orders")] == [order_id]
        assert changes(second, 1)[0][2]["id"] == order_id, "props reach every synced socket"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_answers_never_carry_a_token(adapter: str, sim: TradovateSimulator) -> None:
    with trading(adapter, sim) as driver:
        renewed = driver.call("request", "auth/renewaccesstoken")
        assert renewed["accessToken"] == renewed["mdAccessToken"] == REDACTED
        assert renewed["userId"] == sim.user_id
        assert sim.token not in repr(renewed)
        assert sim.md_token not in repr(renewed)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_on_received_gets_every_read_with_its_connection_number(adapter: str) -> None:
    """The hook ``brokerwire stream --record`` uses: the bytes as read, before decoding, and
    a connection number that grows with each reconnect."""
    from brokerwire.adapters.events import Reconnected
    from brokerwire.adapters.simulators import Fault, FaultKind
    from tests.adapters.clients import FAST_RECONNECT

    reads: list[tuple[bytes, int]] = []
    drop = Fault(FaultKind.CLOSE, after=3, code=1011)
    with (
        TradovateSimulator(faults={1: drop}) as faulty,
        open_client(
            adapter,
            "tradovate",
            faulty.url,
            token=faulty.token,
            reconnect=FAST_RECONNECT,
            on_received=lambda data, connection: reads.append((data, connection)),
        ) as driver,
    ):
        driver.call("subscribe_quote", "ESZ6")
        driver.collect(lambda events: type(events[-1]) is Reconnected)
        accounts = driver.call("list_accounts")
    assert accounts[0]["id"] == faulty.account_id
    first = b"".join(data for data, connection in reads if connection == 1)
    second = b"".join(data for data, connection in reads if connection == 2)
    assert {connection for _, connection in reads} == {1, 2}
    assert first.startswith(b"HTTP/1.1 101")
    assert second.startswith(b"HTTP/1.1 101")
    assert f'"id":{faulty.account_id}'.encode() in second.replace(b" ", b"")
