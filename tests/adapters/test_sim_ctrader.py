"""Every cTrader simulator endpoint through a client helper, on both adapters.

Prices move only when the test moves them (``set_price``, no spot stream): a pending order
fills exactly when a price crosses it, and a price that does not cross leaves it pending, which
a request sent after the move proves (the simulator handles the move first).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from brokerwire.adapters.errors import RequestRefused
from brokerwire.adapters.secrets import Secret
from brokerwire.adapters.simulators import CTraderSimulator
from brokerwire.core.ctrader import (
    AccountDisconnected,
    FollowUp,
    PayloadType,
    ServerEvent,
    TokenInvalidated,
)
from brokerwire.core.redaction import REDACTED
from tests.adapters.clients import ctrader_credentials
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(60)

EXECUTION = PayloadType.PROTO_OA_EXECUTION_EVENT
ACCEPTED, FILLED, REPLACED, CANCELLED = 2, 3, 4, 5
ALWAYS = (0, int(time.time() * 1000) + 86_400_000)


@pytest.fixture
def sim() -> Iterator[CTraderSimulator]:
    with CTraderSimulator(price_walk=False, requests_per_second=100_000) as simulator:
        simulator.set_price(1, 1.085)
        yield simulator


def trading(adapter: str, sim: CTraderSimulator, **options: Any) -> Driver:
    driver = open_client(
        adapter, "ctrader", sim.websocket_url, **ctrader_credentials(sim), **options
    )
    driver.call("authorize_account", sim.accounts[0])
    return driver


def execution_types(events: list[Any]) -> list[int]:
    """The executionType of each execution event, tied to a request or not."""
    return [
        e.payload["executionType"]
        for e in events
        if type(e) in (FollowUp, ServerEvent) and e.payload_type == EXECUTION
    ]


def filled(driver: Driver) -> dict[str, Any]:
    """The next ORDER_FILLED execution event's payload."""
    events = driver.collect(lambda evs: FILLED in execution_types(evs[-1:]))
    payload: dict[str, Any] = events[-1].payload
    return payload


def pending_ids(driver: Driver, account: int) -> list[int]:
    return [o.order_id for o in driver.call("reconcile", account).order]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_limit_order_rests_until_the_price_crosses_it(
    adapter: str, sim: CTraderSimulator
) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:
        accepted = driver.call(
            "new_order", account, 1, "BUY", 100_000, order_type="LIMIT", limit_price=1.084
        )
        assert accepted.execution_type == ACCEPTED
        order_id = accepted.order.order_id
        assert accepted.order.limit_price == 1.084
        sim.set_price(1, 1.08399)  # the ask is 1.08401: still above the limit
        assert pending_ids(driver, account) == [order_id]
        sim.set_price(1, 1.08398)  # the ask reaches 1.084
        fill = filled(driver)
        assert fill["order"]["orderId"] == order_id
        assert fill["order"]["orderStatus"] == 2
        assert fill["deal"]["executionPrice"] == 1.084
        assert fill["position"]["tradeData"]["volume"] == 100_000
        reconciled = driver.call("reconcile", account)
        assert reconciled.order == []
        assert [p.position_id for p in reconciled.position] == [fill["position"]["positionId"]]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_stop_order_rests_until_the_price_reaches_it(adapter: str, sim: CTraderSimulator) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:
        accepted = driver.call(
            "new_order", account, 1, "SELL", 200_000, order_type="STOP", stop_price=1.083
        )
        order_id = accepted.order.order_id
        sim.set_price(1, 1.09)
        sim.set_price(1, 1.08301)
        assert pending_ids(driver, account) == [order_id]
        sim.set_price(1, 1.08295)  # the bid passes through the stop: filled at the bid
        fill = filled(driver)
        assert (fill["order"]["orderId"], fill["deal"]["executionPrice"]) == (order_id, 1.08295)
        assert fill["deal"]["tradeSide"] == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_cancel_and_amend_a_pending_order(adapter: str, sim: CTraderSimulator) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:
        first = driver.call(
            "new_order", account, 1, "BUY", 100_000, order_type="LIMIT", limit_price=1.07
        ).order.order_id
        cancelled = driver.call("cancel_order", account, first)
        assert (cancelled.execution_type, cancelled.order.order_status) == (CANCELLED, 5)
        with pytest.raises(RequestRefused) as refused:
            driver.call("cancel_order", account, first)
        assert refused.value.code == "UNABLE_TO_CANCEL_ORDER"
        with pytest.raises(RequestRefused) as refused:
            driver.call("cancel_order", account, 999_999)
        assert refused.value.code == "ORDER_NOT_FOUND"
        second = driver.call(
            "new_order", account, 1, "BUY", 100_000, order_type="LIMIT", limit_price=1.07
        ).order.order_id
        replaced = driver.call("amend_order", account, second, volume=300_000, limit_price=1.08)
        assert replaced.execution_type == REPLACED
        assert (replaced.order.limit_price, replaced.order.trade_data.volume) == (
            1.08,
            300_000,
        )
        assert pending_ids(driver, account) == [second]
        # Amended to a price the market has reached: filled at once, as a follow-up.
        driver.call("amend_order", account, second, limit_price=1.09)
        fill = filled(driver)
        assert (fill["order"]["orderId"], fill["deal"]["filledVolume"]) == (second, 300_000)
        assert fill["deal"]["executionPrice"] == 1.08502


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_close_position_trader_deals_and_orders(adapter: str, sim: CTraderSimulator) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:
        balance = driver.call("get_trader", account).trader.balance
        opened = driver.call("new_order", account, 1, "BUY", 200_000)
        assert opened.execution_type == ACCEPTED
        position = filled(driver)["position"]
        sim.set_price(1, 1.086)  # up 98 points from the 1.08502 ask it was bought at
        closing = driver.call("close_position", account, position["positionId"], 200_000)
        assert closing.execution_type == ACCEPTED
        assert closing.order.closing_order is True
        closed = filled(driver)
        detail = closed["deal"]["closePositionDetail"]
        assert closed["position"]["positionStatus"] == 2
        assert detail["grossProfit"] == round((1.086 - 1.08502) * 200_000)
        trader = driver.call("get_trader", account).trader
        assert trader.balance == balance + detail["grossProfit"] == detail["balance"]
        assert driver.call("reconcile", account).position == []
        deals = driver.call("get_deals", account, *ALWAYS)
        assert [d.order_id for d in deals.deal] == [
            opened.order.order_id,
            closing.order.order_id,
        ]
        assert deals.has_more is False
        assert len(driver.call("get_deals", account, *ALWAYS, max_rows=1).deal) == 1
        orders = driver.call("get_orders", account, *ALWAYS).order
        assert [o.order_status for o in orders] == [2, 2]
        with pytest.raises(RequestRefused) as refused:
            driver.call("close_position", account, position["positionId"], 100)
        assert refused.value.code == "POSITION_NOT_FOUND"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_symbols_by_id(adapter: str, sim: CTraderSimulator) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:
        symbols = driver.call("get_symbols_by_id", account, [1, 41]).symbol
        assert [(s.symbol_id, s.digits, s.pip_position) for s in symbols] == [
            (1, 5, 4),
            (41, 2, 1),
        ]
        with pytest.raises(RequestRefused) as refused:
            driver.call("get_symbols_by_id", account, 7)
        assert refused.value.code == "SYMBOL_NOT_FOUND"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_answers_never_carry_a_token_and_refresh_gives_secrets(
    adapter: str, sim: CTraderSimulator
) -> None:
    account, old = sim.accounts[0], sim.access_token
    with trading(adapter, sim) as driver:
        listed = driver.call("get_accounts")
        assert listed.access_token == REDACTED
        assert old not in repr(listed)
        assert [a.ctid_trader_account_id for a in listed.ctid_trader_account] == [account]
        refreshed = driver.call("refresh_token", sim.refresh_token)
        assert isinstance(refreshed["accessToken"], Secret)
        assert refreshed["accessToken"].reveal() == sim.access_token != old
        assert refreshed["refreshToken"].reveal() == sim.refresh_token
        assert sim.access_token not in repr(refreshed)
        assert sim.refresh_token not in str(refreshed)
        # The sessions on the old token end; the client authorizes again with the new one.
        invalidated = driver.collect(lambda evs: type(evs[-1]) is TokenInvalidated)[-1]
        assert invalidated.account_ids == (account,)
        driver.call("authorize_account", account)
        assert driver.call("get_trader", account).trader.ctid_trader_account_id == account
        with pytest.raises(RequestRefused) as refused:
            driver.call("refresh_token", "sim-refresh-token")
        assert refused.value.code == "CH_ACCESS_TOKEN_INVALID"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_burst_of_account_disconnects_authorizes_the_account_once(
    adapter: str, sim: CTraderSimulator
) -> None:
    account = sim.accounts[0]
    with trading(adapter, sim) as driver:  # the client keeps cTrader's 50 requests/s budget
        auth = PayloadType.PROTO_OA_ACCOUNT_AUTH_REQ
        assert sim.received[auth] == 1
        sim.call_soon(lambda: sim.disconnect_account(account, times=5000))
        seen = 0

        def all_seen(events: list[Any]) -> bool:
            nonlocal seen
            seen += type(events[-1]) is AccountDisconnected
            return seen == 5000

        driver.collect(all_seen, timeout=30)
        # Sent after the re-authorization, answered after it: not starved behind thousands.
        driver.call("get_accounts", timeout=10)
        assert sim.received[auth] == 2
        assert driver.call("get_trader", account).trader.ctid_trader_account_id == account
