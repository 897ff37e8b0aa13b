"""The Tradovate order tracker: handles follow the state, and a lost answer is found again."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.orders import OrderStatus, OrderView
from brokerwire.core.tradovate.account import TradovateAccountState
from brokerwire.core.tradovate.models import (
    Action,
    Fill,
    Order,
    OrderType,
    OrderVersion,
    OrdStatus,
    SyncSnapshot,
    TradeDate,
)
from brokerwire.core.tradovate.orders import TradovateOrderRequest, TradovateOrderTracker

ACCOUNT, CONTRACT, NOW = 7001, 3570918, "2026-12-07T00:00:00Z"
DAY = TradeDate(year=2026, month=12, day=7)


def _order(order_id: int, action: str, status: OrdStatus = OrdStatus.FILLED) -> Order:
    return Order(
        id=order_id,
        account_id=ACCOUNT,
        contract_id=CONTRACT,
        timestamp=NOW,
        action=Action(action),
        ord_status=status,
        admin=False,
    )


def _version(order_id: int, quantity: int, price: float | None) -> OrderVersion:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderVersion(
        id=order_id + 1000, order_id=order_id, order_qty=quantity, order_type=kind, price=price
    )


def _request(action: str, quantity: int, price: float | None) -> TradovateOrderRequest:
    kind = "Market" if price is None else "Limit"
    return TradovateOrderRequest(
        action, quantity, kind, symbol=CONTRACT, account_id=ACCOUNT, price=price
    )


def test_a_handle_follows_its_order_from_the_answer_on() -> None:
    state = TradovateAccountState()
    state.apply_snapshot(SyncSnapshot())
    tracker = TradovateOrderTracker()
    tracker.sent(1, _request("Buy", 2, None), state)
    (working,) = tracker.answered(1, 10, state)
    assert (working.status, working.order_id) == (OrderStatus.WORKING, 10)
    fill = Fill(
        id=11,
        order_id=10,
        contract_id=CONTRACT,
        timestamp=NOW,
        trade_date=DAY,
        action=Action.BUY,
        qty=2,
        price=5.5,
        active=True,
        finally_paired=0,
    )
    changes = state.apply_snapshot(SyncSnapshot(orders=[_order(10, "Buy")], fills=[fill]))
    (filled,) = tracker.changed(state, changes)
    assert filled.status is OrderStatus.FILLED
    assert (filled.filled_quantity, filled.average_price) == (2, 5.5)
    assert len(tracker) == 0


PARAMS = st.tuples(
    st.sampled_from(["Buy", "Sell"]), st.integers(1, 2), st.sampled_from([None, 4.25])
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PARAMS, st.booleans()), min_size=1, max_size=12), st.integers(0, 3))
def test_lost_answers_are_found_in_the_next_snapshot_or_not_placed(
    sent: list[tuple[tuple[str, int, float | None], bool]], earlier: int
) -> None:
    """Orders sent in turn, every answer lost: the snapshot's orders newer than the state held
    at sending go to the handles with the same request, each once; the rest were not placed."""
    state = TradovateAccountState()
    old = [_order(100 + n, "Buy") for n in range(earlier)]
    state.apply_snapshot(
        SyncSnapshot(orders=old, order_versions=[_version(o.id or 0, 1, None) for o in old])
    )
    tracker = TradovateOrderTracker()
    orders, versions = list(old), [_version(o.id or 0, 1, None) for o in old]
    for key, ((action, quantity, price), placed) in enumerate(sent, start=1):
        tracker.sent(key, _request(action, quantity, price), state)
        if placed:
            order_id = 200 + key
            orders.append(_order(order_id, action))
            versions.append(_version(order_id, quantity, price))
    for key in range(1, len(sent) + 1):
        assert tracker.lost(key)[0].status is OrderStatus.UNKNOWN
    state.begin_resync()
    state.apply_snapshot(SyncSnapshot(orders=orders, order_versions=versions))
    views = {view.key: view for view in tracker.resynced(state)}
    assert set(views) == set(range(1, len(sent) + 1))
    check_each_found_once(sent, views, earlier)


def check_each_found_once(
    sent: list[tuple[tuple[str, int, float | None], bool]],
    views: dict[int, OrderView],
    earlier: int,
) -> None:
    """Each order placed went to one handle of the same request; the other handles were not
    placed; no order held before the sending was claimed."""
    found = [view.order_id for view in views.values() if view.order_id is not None]
    assert len(found) == len(set(found))  # no order claimed twice
    assert all(order_id > 100 + earlier - 1 for order_id in found)  # none held before
    placed_by_request = Counter(params for params, placed in sent if placed)
    found_by_request = Counter(
        sent[key - 1][0] for key, view in views.items() if view.status is OrderStatus.FILLED
    )
    assert found_by_request == placed_by_request
    assert all(
        view.status in (OrderStatus.FILLED, OrderStatus.NOT_PLACED) for view in views.values()
    )
