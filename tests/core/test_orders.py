"""The broker-neutral order parts: the snapshot epochs, and the cTrader tracker's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from brokerwire.core.ctrader.models import Order, OrderType, TradeData, TradeSide
from brokerwire.core.ctrader.models import OrderStatus as Status
from brokerwire.core.ctrader.orders import CTraderOrderTracker
from brokerwire.core.orders import OrderStatus, SnapshotGate

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
