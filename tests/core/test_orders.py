"""The broker-neutral order parts: the snapshot epochs, and the trackers' rules."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerwire.core.ctrader import ServerEvent
from brokerwire.core.ctrader.models import (
    ExecutionEvent,
    ExecutionType,
    Order,
    OrderType,
    TradeData,
    TradeSide,
)
from brokerwire.core.ctrader.models import OrderStatus as Status
from brokerwire.core.ctrader.orders import CTraderOrderTracker
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderStatus, SnapshotGate
from brokerwire.core.tradovate.orders import TradovateOrderRequest

PARTS = frozenset({"trader", "reconcile"})


@given(st.lists(st.tuples(st.sampled_from(["begin", "trader", "reconcile"]), st.integers(0, 3))))
def test_a_snapshot_completes_only_with_parts_of_the_current_epoch(
    steps: list[tuple[str, int]],
) -> None:
    gate: SnapshotGate[int] = SnapshotGate(PARTS)
    epoch = 0
    taken: dict[str, int] = {}
    for action, back in steps:
        if action == "begin":
            epoch = gate.begin(1)
            taken = {}
            continue
        asked = max(epoch - back, 0)
        done = gate.take(1, asked, action, asked)
        if asked == epoch and epoch and gate_open(taken):
            taken[action] = asked
        if done is not None:
            assert set(done.values()) == {epoch}  # never parts of two epochs
            assert done.keys() == PARTS
            taken = {"closed": 1}


def gate_open(taken: dict[str, int]) -> bool:
    return "closed" not in taken


def _order(order_id: int, status: Status, client_order_id: str) -> Order:
    data = TradeData(symbol_id=1, volume=100_000, trade_side=TradeSide.BUY)
    return Order(
        order_id=order_id,
        trade_data=data,
        order_type=OrderType.MARKET,
        order_status=status,
        client_order_id=client_order_id,
        executed_volume=100_000,
        execution_price=1.1,
    )


def test_an_unknown_order_is_found_by_its_client_order_id_or_not_placed() -> None:
    tracker = CTraderOrderTracker()
    tracker.sent(1, 7, "a")
    tracker.sent(2, 7, "b")
    assert [v.status for v in tracker.lost(1) + tracker.lost(2)] == [OrderStatus.UNKNOWN] * 2
    assert tracker.unknown_accounts() == {7}
    views = tracker.resolve(7, [_order(10, Status.ORDER_STATUS_FILLED, "a")])
    assert [(v.key, v.status, v.order_id) for v in views] == [
        (1, OrderStatus.FILLED, 10),
        (2, OrderStatus.NOT_PLACED, None),
    ]
    assert views[0].filled_quantity == 100_000
    assert len(tracker) == 0  # final handles are forgotten


def test_a_refused_or_unsent_order_is_final() -> None:
    tracker = CTraderOrderTracker()
    tracker.sent(1, 7, "a")
    tracker.sent(2, 7, "b")
    assert tracker.refused(1, "NOT_ENOUGH_MONEY")[0].status is OrderStatus.REJECTED
    assert tracker.not_placed(2, "not sent")[0].status is OrderStatus.NOT_PLACED
    assert tracker.pending() == []


def _execution_on(account: int, order: Order) -> ServerEvent:
    event = ExecutionEvent(
        ctid_trader_account_id=account, execution_type=ExecutionType.ORDER_FILLED, order=order
    )
    return ServerEvent(ExecutionEvent.PAYLOAD_TYPE, msgspec.to_builtins(event), None)


def test_an_execution_moves_only_the_handle_of_its_own_account() -> None:
    tracker = CTraderOrderTracker()
    tracker.sent(1, 7, "a")
    filled = _order(10, Status.ORDER_STATUS_FILLED, "a")
    assert tracker.apply(_execution_on(8, filled)) == []  # the same id on another account
    assert [(v.key, v.status) for v in tracker.apply(_execution_on(7, filled))] == [
        (1, OrderStatus.FILLED)
    ]


def test_a_client_order_id_is_refused_once_a_handle_has_used_it() -> None:
    tracker = CTraderOrderTracker()
    tracker.sent(1, 7, "a")
    tracker.refused(1, "NOT_ENOUGH_MONEY")  # final: the handle is forgotten, its id is not
    with pytest.raises(LocalProtocolError, match="'a' was already used"):
        tracker.check_new("a")
    with pytest.raises(LocalProtocolError):
        tracker.sent(2, 7, "a")
    tracker.check_new("b")


@pytest.mark.parametrize(
    "body",
    [
        {"action": "Buy", "orderQty": "abc", "symbol": "ESZ6"},
        {"action": "Buy", "orderQty": 1.5, "symbol": "ESZ6"},
        {"orderQty": 1, "symbol": "ESZ6"},
        ["not", "a", "body"],
    ],
)
def test_a_tradovate_order_that_could_not_be_found_again_is_refused(body: object) -> None:
    with pytest.raises(LocalProtocolError, match="cannot be sent"):
        TradovateOrderRequest.of(body)


def test_a_tradovate_order_body_reads_by_its_wire_names() -> None:
    body = {"accountId": 3, "action": "Sell", "orderQty": 2, "orderType": "Limit", "price": 4500}
    assert TradovateOrderRequest.of(body) == TradovateOrderRequest(
        action="Sell", order_qty=2, order_type="Limit", account_id=3, price=4500.0
    )
