"""The cTrader account-state reducer: reconcile and trader, then execution events, reduced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.ctrader import (
    ErrorResponse,
    FollowUp,
    Heartbeat,
    Response,
    ServerEvent,
    UnknownMessage,
)
from brokerwire.core.ctrader.account import (
    BalanceChanged,
    CTraderAccountState,
    CTraderChange,
    CTraderSnapshot,
    DealAdded,
    OrderChanged,
    OrderErrorReported,
    PositionChanged,
)
from brokerwire.core.ctrader.models import (
    BonusDepositWithdraw,
    ChangeBalanceType,
    ChangeBonusType,
    ClosePositionDetail,
    Deal,
    DealStatus,
    DepositWithdraw,
    ExecutionEvent,
    ExecutionType,
    MarginChangedEvent,
    Order,
    OrderErrorEvent,
    OrderStatus,
    OrderType,
    Position,
    PositionStatus,
    ReconcileRes,
    TradeData,
    Trader,
    TraderRes,
    TraderUpdatedEvent,
    TradeSide,
)
from brokerwire.core.jsonlib import loads

ACCOUNT = 4001
NEW_ORDER, RECONCILE = 2106, 2124
OPEN, CLOSED = PositionStatus.POSITION_STATUS_OPEN, PositionStatus.POSITION_STATUS_CLOSED
ACCEPTED, FILLED = OrderStatus.ORDER_STATUS_ACCEPTED, OrderStatus.ORDER_STATUS_FILLED

# Recorded answers (ids made up): the trader and the reconcile, one open position.
TRADER = (
    '{"ctidTraderAccountId": 4001, "trader": {"ctidTraderAccountId": 4001, "balance": 1000000,'
    ' "balanceVersion": 10, "depositAssetId": 15, "leverageInCents": 3000, "moneyDigits": 2}}'
)
RECONCILE_ANSWER = (
    '{"ctidTraderAccountId": 4001, "position": [{"positionId": 701, "tradeData": {"symbolId": 1,'
    ' "volume": 100000, "tradeSide": 1, "openTimestamp": 1765000000000}, "positionStatus": 1,'
    ' "swap": 0, "price": 1.08512, "usedMargin": 3617, "moneyDigits": 2}], "order": []}'
)
# A limit sell accepted, replaced, then a market buy of 1000 that fills, the position closed
# with a profit, a deposit, a margin change and a refused order, in the order they come.
EXECUTIONS = [
    '{"ctidTraderAccountId":4001,"executionType":2,"order":{"orderId":9001,"tradeData":'
    '{"symbolId":1,"volume":50000,"tradeSide":2},"orderType":2,"orderStatus":1,'
    '"limitPrice":1.1},"position":{"positionId":702,"tradeData":{"symbolId":1,"volume":0,'
    '"tradeSide":2},"positionStatus":3,"swap":0}}',
    '{"ctidTraderAccountId":4001,"executionType":4,"order":{"orderId":9001,"tradeData":'
    '{"symbolId":1,"volume":50000,"tradeSide":2},"orderType":2,"orderStatus":1,'
    '"limitPrice":1.105}}',
    '{"ctidTraderAccountId":4001,"executionType":3,"order":{"orderId":9002,"tradeData":'
    '{"symbolId":1,"volume":100000,"tradeSide":1},"orderType":1,"orderStatus":2,'
    '"executedVolume":100000,"executionPrice":1.0853,"positionId":701},"position":'
    '{"positionId":701,"tradeData":{"symbolId":1,"volume":200000,"tradeSide":1},'
    '"positionStatus":1,"swap":0,"price":1.08521,"usedMargin":7234,"moneyDigits":2},"deal":'
    '{"dealId":5001,"orderId":9002,"positionId":701,"volume":100000,"filledVolume":100000,'
    '"symbolId":1,"createTimestamp":1765000001000,"executionTimestamp":1765000001005,'
    '"executionPrice":1.0853,"tradeSide":1,"dealStatus":2,"commission":-300,"moneyDigits":2}}',
    '{"ctidTraderAccountId":4001,"executionType":3,"order":{"orderId":9003,"tradeData":'
    '{"symbolId":1,"volume":200000,"tradeSide":2},"orderType":1,"orderStatus":2,'
    '"closingOrder":true,"positionId":701},"position":{"positionId":701,"tradeData":'
    '{"symbolId":1,"volume":0,"tradeSide":1},"positionStatus":2,"swap":0,"moneyDigits":2},'
    '"deal":{"dealId":5002,"orderId":9003,"positionId":701,"volume":200000,'
    '"filledVolume":200000,"symbolId":1,"createTimestamp":1765000002000,'
    '"executionTimestamp":1765000002004,"executionPrice":1.0861,"tradeSide":2,"dealStatus":2,'
    '"closePositionDetail":{"entryPrice":1.08521,"grossProfit":1780,"swap":0,"commission":-600,'
    '"balance":1001180,"balanceVersion":11,"moneyDigits":2},"moneyDigits":2}}',
    '{"ctidTraderAccountId":4001,"executionType":10,"depositWithdraw":{"operationType":0,'
    '"balanceHistoryId":77,"balance":1051180,"delta":50000,"changeBalanceTimestamp":'
    '1765000003000,"balanceVersion":12,"moneyDigits":2}}',
]


def snapshot() -> CTraderSnapshot:
    trader = msgspec.convert(loads(TRADER), TraderRes, strict=False)
    reconcile = msgspec.convert(loads(RECONCILE_ANSWER), ReconcileRes, strict=False)
    return CTraderSnapshot.of(trader, reconcile)


def server_event(payload_type: int, payload: Any) -> ServerEvent:
    if not isinstance(payload, dict):
        payload = msgspec.to_builtins(payload)
    return ServerEvent(payload_type, payload, None)


def execution(text_or_event: Any) -> ServerEvent:
    payload = loads(text_or_event) if isinstance(text_or_event, str) else text_or_event
    return server_event(ExecutionEvent.PAYLOAD_TYPE, payload)


# ---- builders ----


def _order(
    order_id: int, status: OrderStatus, executed: int | None = None, price: float = 1.1
) -> Order:
    return Order(
        order_id=order_id,
        trade_data=TradeData(symbol_id=1, volume=50000, trade_side=TradeSide.SELL),
        order_type=OrderType.LIMIT,
        order_status=status,
        limit_price=price,
        executed_volume=executed,
    )


def _position(position_id: int, volume: int, status: PositionStatus = OPEN) -> Position:
    return Position(
        position_id=position_id,
        trade_data=TradeData(symbol_id=1, volume=volume, trade_side=TradeSide.BUY),
        position_status=status,
        swap=0,
        price=1.085,
        used_margin=volume // 30,
        money_digits=2,
    )


def _with_volume(position: Position, volume: int) -> Position:
    trade = msgspec.structs.replace(position.trade_data, volume=volume)
    return msgspec.structs.replace(position, trade_data=trade)


def _deal(order_id: int) -> Deal:
    return Deal(
        deal_id=order_id + 50_000,
        order_id=order_id,
        position_id=702,
        volume=20000,
        filled_volume=20000,
        symbol_id=1,
        create_timestamp=1765000001000,
        execution_timestamp=1765000001005,
        execution_price=1.1,
        trade_side=TradeSide.SELL,
        deal_status=DealStatus.FILLED,
        money_digits=2,
    )


def _deposit(balance: int, version: int, digits: int) -> DepositWithdraw:
    return DepositWithdraw(
        operation_type=ChangeBalanceType.BALANCE_DEPOSIT,
        balance_history_id=version,
        balance=balance,
        delta=1,
        change_balance_timestamp=1765000003000,
        balance_version=version,
        money_digits=digits,
    )


def _margin(position_id: int, used: int) -> MarginChangedEvent:
    return MarginChangedEvent(
        ctid_trader_account_id=ACCOUNT, position_id=position_id, used_margin=used, money_digits=2
    )


def _exec(execution_type: ExecutionType, **parts: Any) -> ServerEvent:
    event = ExecutionEvent(ctid_trader_account_id=ACCOUNT, execution_type=execution_type, **parts)
    return server_event(ExecutionEvent.PAYLOAD_TYPE, event)


def test_recorded_snapshot_then_orders_fills_a_close_and_a_deposit() -> None:
    state = CTraderAccountState(ACCOUNT)
    assert state.snapshot() is None
    added = state.apply_snapshot(snapshot())
    assert [type(change) for change in added] == [BalanceChanged, PositionChanged]
    assert state.balance == Decimal("10000.00")

    check_each_step([state.apply(execution(text)) for text in EXECUTIONS])
    assert state.balance == Decimal("10511.80")

    view = state.snapshot()
    assert view is not None
    assert view.positions == ()
    assert [(order.order_id, order.limit_price) for order in view.open_orders] == [(9001, 1.105)]
    assert view.balance == Decimal("10511.80")
    assert view.trader.balance_version == 12


def check_each_step(steps: list[list[Any]]) -> None:
    """The changes of the recorded executions: accepted, replaced, filled, closed, deposited."""
    accepted, replaced, filled, closed, deposited = steps
    # The accepted limit order is held; its empty position (status CREATED) is not.
    assert [type(change) for change in accepted] == [OrderChanged]
    assert isinstance(replaced[0], OrderChanged)
    assert replaced[0].before is not None
    assert replaced[0].after is not None
    assert replaced[0].after.limit_price == 1.105
    # A market order that fills at once is never held; the position grows; the deal reported.
    assert [type(change) for change in filled] == [PositionChanged, DealAdded]
    grown = filled[0]
    assert isinstance(grown, PositionChanged)
    assert grown.after is not None
    assert grown.after.trade_data.volume_in_units == 2000.0
    assert grown.after.money(grown.after.used_margin) == Decimal("72.34")
    # Closing removes the position and sets the balance from the closing deal.
    assert [type(change) for change in closed] == [PositionChanged, DealAdded, BalanceChanged]
    assert isinstance(closed[0], PositionChanged)
    assert closed[0].after is None
    money = closed[2]
    assert isinstance(money, BalanceChanged)
    assert (money.balance_before, money.balance_after) == (Decimal("10000.00"), Decimal("10011.80"))
    assert [type(change) for change in deposited] == [BalanceChanged]


def test_a_partial_fill_keeps_the_order_and_a_cancel_removes_it() -> None:
    state = _state_of(snapshot())
    pending = _order(9001, ACCEPTED, executed=0)
    state.apply(_exec(ExecutionType.ORDER_ACCEPTED, order=pending))
    partly = _order(9001, ACCEPTED, executed=20000)
    position = _position(702, 20000)
    changes = state.apply(
        _exec(ExecutionType.ORDER_PARTIAL_FILL, order=partly, position=position, deal=_deal(9001))
    )
    assert changes == [
        PositionChanged(ACCOUNT, 702, None, position),
        OrderChanged(ACCOUNT, 9001, pending, partly),
        DealAdded(ACCOUNT, ExecutionType.ORDER_PARTIAL_FILL, _deal(9001)),
    ]
    cancelled = _order(9001, OrderStatus.ORDER_STATUS_CANCELLED, executed=20000)
    assert state.apply(_exec(ExecutionType.ORDER_CANCELLED, order=cancelled)) == [
        OrderChanged(ACCOUNT, 9001, partly, None)
    ]
    assert set(state.positions) == {701, 702}


@pytest.mark.parametrize(
    "execution_type",
    [ExecutionType.ORDER_CANCELLED, ExecutionType.ORDER_EXPIRED, ExecutionType.ORDER_REJECTED],
)
def test_cancelled_expired_and_rejected_remove_the_order_whatever_its_status(
    execution_type: ExecutionType,
) -> None:
    state = _state_of(snapshot())
    order = _order(9001, ACCEPTED)
    state.apply(_exec(ExecutionType.ORDER_ACCEPTED, order=order))
    assert state.apply(_exec(execution_type, order=order)) == [
        OrderChanged(ACCOUNT, 9001, order, None)
    ]
    assert state.orders == {}


def test_a_rejected_new_order_is_reported_as_an_error_and_holds_nothing() -> None:
    state = _state_of(snapshot())
    rejected = _order(9005, OrderStatus.ORDER_STATUS_REJECTED)
    changes = state.apply(
        _exec(ExecutionType.ORDER_REJECTED, order=rejected, error_code="NOT_ENOUGH_MONEY")
    )
    assert changes == [OrderErrorReported(ACCOUNT, "NOT_ENOUGH_MONEY", 9005, None, None)]


def test_a_refused_cancel_keeps_the_order_and_reports_the_error() -> None:
    state = _state_of(snapshot())
    order = _order(9001, ACCEPTED)
    state.apply(_exec(ExecutionType.ORDER_ACCEPTED, order=order))
    changes = state.apply(
        _exec(ExecutionType.ORDER_CANCEL_REJECTED, order=order, error_code="ORDER_NOT_FOUND")
    )
    assert changes == [OrderErrorReported(ACCOUNT, "ORDER_NOT_FOUND", 9001, None, None)]
    assert state.orders == {9001: order}


@pytest.mark.parametrize("as_response", [False, True])
def test_an_order_error_event_is_reported(as_response: bool) -> None:
    state = _state_of(snapshot())
    error = OrderErrorEvent(
        ctid_trader_account_id=ACCOUNT,
        error_code="TRADING_BAD_VOLUME",
        order_id=9009,
        description="Invalid volume",
    )
    payload = msgspec.to_builtins(error)
    event: Any = (
        ErrorResponse("m1", 2132, "TRADING_BAD_VOLUME", "Invalid volume", None, NEW_ORDER, payload)
        if as_response
        else server_event(2132, payload)
    )
    before = state.snapshot()
    assert state.apply(event) == [
        OrderErrorReported(ACCOUNT, "TRADING_BAD_VOLUME", 9009, None, "Invalid volume")
    ]
    assert state.snapshot() == before


def test_a_margin_change_sets_the_used_margin_of_a_held_position_only() -> None:
    state = _state_of(snapshot())
    held = state.positions[701]
    changes = state.apply(server_event(2141, _margin(701, 4000)))
    assert changes == [
        PositionChanged(ACCOUNT, 701, held, msgspec.structs.replace(held, used_margin=4000))
    ]
    assert state.positions[701].money(state.positions[701].used_margin) == Decimal("40.00")
    assert state.apply(server_event(2141, _margin(799, 4000))) == []
    assert state.apply(server_event(2141, _margin(701, 4000))) == []


def test_swap_and_bonus_and_trader_updates() -> None:
    state = _state_of(snapshot())
    swapped = msgspec.structs.replace(state.positions[701], swap=-125)
    assert state.apply(_exec(ExecutionType.SWAP, position=swapped)) == [
        PositionChanged(ACCOUNT, 701, snapshot().positions[0], swapped)
    ]
    bonus = BonusDepositWithdraw(
        operation_type=ChangeBonusType.BONUS_DEPOSIT,
        bonus_history_id=3,
        manager_bonus=5000,
        manager_delta=5000,
        ib_bonus=0,
        ib_delta=0,
        change_bonus_timestamp=1765000000000,
        money_digits=2,
    )
    (change,) = state.apply(
        _exec(ExecutionType.BONUS_DEPOSIT_WITHDRAW, bonus_deposit_withdraw=bonus)
    )
    assert isinstance(change, BalanceChanged)
    assert change.after is not None
    assert change.after.money(change.after.manager_bonus) == Decimal("50.00")
    assert change.balance_before == change.balance_after == Decimal("10000.00")
    assert state.trader is not None
    updated = msgspec.structs.replace(state.trader, leverage_in_cents=5000)
    event = server_event(2123, TraderUpdatedEvent(ctid_trader_account_id=ACCOUNT, trader=updated))
    assert state.apply(event) == [BalanceChanged(ACCOUNT, change.after, updated)]
    older = msgspec.structs.replace(updated, balance=1, balance_version=3)
    event = server_event(2123, TraderUpdatedEvent(ctid_trader_account_id=ACCOUNT, trader=older))
    assert state.apply(event) == []


def test_money_in_other_digits_is_kept_exact_and_an_older_balance_is_ignored() -> None:
    state = _state_of(snapshot())
    finer = _deposit(balance=1_000_012_345, version=11, digits=5)
    (change,) = state.apply(_exec(ExecutionType.DEPOSIT_WITHDRAW, deposit_withdraw=finer))
    assert isinstance(change, BalanceChanged)
    assert change.balance_after == Decimal("10000.12345")
    coarser = _deposit(balance=1000020, version=12, digits=2)
    state.apply(_exec(ExecutionType.DEPOSIT_WITHDRAW, deposit_withdraw=coarser))
    assert state.balance == Decimal("10000.20000")
    stale = _deposit(balance=1, version=11, digits=2)
    assert state.apply(_exec(ExecutionType.DEPOSIT_WITHDRAW, deposit_withdraw=stale)) == []
    assert state.balance == Decimal("10000.2")


def test_follow_ups_and_responses_count_as_server_events_do() -> None:
    state = _state_of(snapshot())
    order = _order(9001, ACCEPTED)
    payload = msgspec.to_builtins(
        ExecutionEvent(
            ctid_trader_account_id=ACCOUNT,
            execution_type=ExecutionType.ORDER_ACCEPTED,
            order=order,
        )
    )
    assert state.apply(Response("m1", 2126, payload, NEW_ORDER)) == [
        OrderChanged(ACCOUNT, 9001, None, order)
    ]
    filled = _order(9001, FILLED)
    payload = msgspec.to_builtins(
        ExecutionEvent(
            ctid_trader_account_id=ACCOUNT, execution_type=ExecutionType.ORDER_FILLED, order=filled
        )
    )
    assert state.apply(FollowUp("m1", 2126, payload, NEW_ORDER)) == [
        OrderChanged(ACCOUNT, 9001, order, None)
    ]


@pytest.mark.parametrize(
    "event",
    [
        Heartbeat(),
        UnknownMessage(None, [], None, "not an envelope"),
        server_event(2126, {"ctidTraderAccountId": 4001, "executionType": "no such type"}),
        server_event(2126, {"executionType": 2}),
        server_event(2125, msgspec.to_builtins(ReconcileRes(ctid_trader_account_id=ACCOUNT))),
        Response("m1", 2125, {"ctidTraderAccountId": ACCOUNT}, RECONCILE),
        execution(EXECUTIONS[0].replace("4001", "4002")),  # another account's
        server_event(2141, msgspec.structs.replace(_margin(701, 1), ctid_trader_account_id=4002)),
        "not an event",
    ],
)
@pytest.mark.parametrize("synced", [False, True])
def test_events_of_nothing_held_change_nothing(event: object, synced: bool) -> None:
    state = CTraderAccountState(ACCOUNT)
    if synced:
        state.apply_snapshot(snapshot())
    assert state.apply(event) == []
    state.apply_snapshot(snapshot())
    assert _view(state) == _view(_state_of(snapshot()))


def test_events_before_the_snapshot_are_held_then_replayed_on_it() -> None:
    state = CTraderAccountState(ACCOUNT)
    for text in EXECUTIONS:
        assert state.apply(execution(text)) == []
    error = server_event(2132, OrderErrorEvent(ctid_trader_account_id=ACCOUNT, error_code="X"))
    assert state.apply(error) == []
    assert [state.synced] == [False]
    changes = state.apply_snapshot(snapshot())
    assert [state.synced] == [True]
    assert [type(change) for change in changes] == [
        BalanceChanged,
        OrderChanged,
        DealAdded,
        DealAdded,
        OrderErrorReported,
    ]
    assert state.balance == Decimal("10511.80")
    assert state.positions == {}


def test_after_begin_resync_the_old_epoch_takes_no_new_events() -> None:
    state = _state_of(snapshot())
    state.begin_resync()
    assert state.apply(execution(EXECUTIONS[0])) == []
    assert state.orders == {}
    assert [type(change) for change in state.resync(snapshot())] == [OrderChanged]
    accepted = state.orders[9001]
    state.begin_resync()
    state.apply(execution(EXECUTIONS[1]))
    state.begin_resync()  # a second drop: the events held for the abandoned epoch go
    assert state.resync(snapshot()) == [OrderChanged(ACCOUNT, 9001, accepted, None)]


def test_a_snapshot_of_another_account_is_refused() -> None:
    trader = msgspec.convert(loads(TRADER), TraderRes, strict=False)
    other = ReconcileRes(ctid_trader_account_id=4002)
    with pytest.raises(ValueError, match="4002"):
        CTraderSnapshot.of(trader, other)
    state = CTraderAccountState(4002)
    with pytest.raises(ValueError, match="4001"):
        state.apply_snapshot(snapshot())


# ---- property-based: the same account as a snapshot and as events gives the same state ----


class World:
    """The server's side in small: one account's trader, positions and orders, and its events."""

    def __init__(self) -> None:
        self.trader = Trader(
            ctid_trader_account_id=ACCOUNT,
            balance=1_000_000,
            balance_version=1,
            deposit_asset_id=15,
            money_digits=2,
        )
        self.positions: dict[int, Position] = {}
        self.orders: dict[int, Order] = {}
        self.next_id = 100

    def snapshot(self) -> CTraderSnapshot:
        return CTraderSnapshot(
            self.trader, tuple(self.positions.values()), tuple(self.orders.values())
        )

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _pick(self, table: dict[int, Any], slot: int) -> int | None:
        return sorted(table)[slot % len(table)] if table else None

    def _balance(self, delta: int) -> tuple[int, int]:
        version = (self.trader.balance_version or 0) + 1
        balance = self.trader.balance + delta
        self.trader = msgspec.structs.replace(self.trader, balance=balance, balance_version=version)
        return balance, version

    def step(self, op: str, slot: int, value: int) -> Any:
        order_id, position_id = self._pick(self.orders, slot), self._pick(self.positions, slot)
        handler = getattr(self, "_" + op.replace("-", "_"))
        return handler(order_id, position_id, value)

    def _accept(self, order_id: Any, position_id: Any, value: int) -> Any:
        order = _order(self._new_id(), ACCEPTED, price=1.1 + value / 1000)
        self.orders[order.order_id] = order
        empty = _position(self._new_id(), 0, status=PositionStatus.POSITION_STATUS_CREATED)
        return _exec(ExecutionType.ORDER_ACCEPTED, order=order, position=empty)

    def _replace(self, order_id: Any, position_id: Any, value: int) -> Any:
        if order_id is None:  # a replaced order not held is taken as it is now
            order = _order(self._new_id(), ACCEPTED)
        else:
            order = msgspec.structs.replace(self.orders[order_id], limit_price=1.2 + value / 1000)
        self.orders[order.order_id] = order
        return _exec(ExecutionType.ORDER_REPLACED, order=order)

    def _end(self, order_id: Any, kind: ExecutionType, status: OrderStatus) -> Any:
        if order_id is None:
            rejected = _order(self._new_id(), OrderStatus.ORDER_STATUS_REJECTED)
            return _exec(ExecutionType.ORDER_REJECTED, order=rejected, error_code="NO_MONEY")
        order = msgspec.structs.replace(self.orders.pop(order_id), order_status=status)
        return _exec(kind, order=order)

    def _cancel(self, order_id: Any, position_id: Any, value: int) -> Any:
        status = OrderStatus.ORDER_STATUS_CANCELLED
        return self._end(order_id, ExecutionType.ORDER_CANCELLED, status)

    def _expire(self, order_id: Any, position_id: Any, value: int) -> Any:
        return self._end(order_id, ExecutionType.ORDER_EXPIRED, OrderStatus.ORDER_STATUS_EXPIRED)

    def _reject(self, order_id: Any, position_id: Any, value: int) -> Any:
        status = (
            OrderStatus.ORDER_STATUS_ACCEPTED if value % 2 else OrderStatus.ORDER_STATUS_REJECTED
        )
        return self._end(order_id, ExecutionType.ORDER_REJECTED, status)

    def _fill(self, order_id: Any, position_id: Any, value: int, partial: bool = False) -> Any:
        volume = (abs(value) + 1) * 1000
        if order_id is None:
            order = _order(self._new_id(), FILLED)
        elif partial:
            order = self.orders[order_id]
            executed = (order.executed_volume or 0) + volume
            order = msgspec.structs.replace(order, executed_volume=executed)
            self.orders[order_id] = order
        else:
            order = msgspec.structs.replace(self.orders.pop(order_id), order_status=FILLED)
        if position_id is None or value < 0:
            position = _position(self._new_id(), volume)
        else:
            position = self.positions[position_id]
            position = _with_volume(position, position.trade_data.volume + volume)
        self.positions[position.position_id] = position
        kind = ExecutionType.ORDER_PARTIAL_FILL if partial else ExecutionType.ORDER_FILLED
        return _exec(kind, order=order, position=position, deal=_deal(order.order_id))

    def _partial(self, order_id: Any, position_id: Any, value: int) -> Any:
        return self._fill(order_id, position_id, value, partial=order_id is not None)

    def _close(self, order_id: Any, position_id: Any, value: int) -> Any:
        if position_id is None:
            return server_event(
                2132, OrderErrorEvent(ctid_trader_account_id=ACCOUNT, error_code="X")
            )
        closed = self.positions.pop(position_id)
        closed = msgspec.structs.replace(
            _with_volume(closed, 0), position_status=CLOSED if value % 2 else OPEN
        )
        balance, version = self._balance(value * 100)
        detail = ClosePositionDetail(
            entry_price=1.1,
            gross_profit=value * 100,
            swap=0,
            commission=0,
            balance=balance,
            balance_version=version,
            money_digits=2,
        )
        deal = msgspec.structs.replace(_deal(self._new_id()), close_position_detail=detail)
        order = _order(self._new_id(), FILLED)
        return _exec(ExecutionType.ORDER_FILLED, order=order, position=closed, deal=deal)

    def _swap(self, order_id: Any, position_id: Any, value: int) -> Any:
        if position_id is None:
            return server_event(
                2132, OrderErrorEvent(ctid_trader_account_id=ACCOUNT, error_code="Y")
            )
        position = msgspec.structs.replace(self.positions[position_id], swap=value)
        self.positions[position_id] = position
        return _exec(ExecutionType.SWAP, position=position)

    def _deposit(self, order_id: Any, position_id: Any, value: int) -> Any:
        balance, version = self._balance(value * 1000)
        cash = _deposit(balance=balance, version=version, digits=2)
        return _exec(ExecutionType.DEPOSIT_WITHDRAW, deposit_withdraw=cash)

    def _margin(self, order_id: Any, position_id: Any, value: int) -> Any:
        if position_id is None:
            return server_event(2141, _margin(99_999, value))
        position = msgspec.structs.replace(self.positions[position_id], used_margin=abs(value))
        self.positions[position_id] = position
        return server_event(2141, _margin(position_id, abs(value)))

    def _trader(self, order_id: Any, position_id: Any, value: int) -> Any:
        self.trader = msgspec.structs.replace(
            self.trader, leverage_in_cents=1000 * (abs(value) + 1)
        )
        return server_event(
            2123, TraderUpdatedEvent(ctid_trader_account_id=ACCOUNT, trader=self.trader)
        )

    def _noise(self, order_id: Any, position_id: Any, value: int) -> Any:
        other = _exec(ExecutionType.ORDER_ACCEPTED, order=_order(self._new_id(), ACCEPTED))
        other.payload["ctidTraderAccountId"] = ACCOUNT + 1
        return [Heartbeat(), other, UnknownMessage(9999, {}, None)][value % 3]


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "accept",
                "replace",
                "cancel",
                "expire",
                "reject",
                "fill",
                "partial",
                "close",
                "swap",
                "deposit",
                "margin",
                "trader",
                "noise",
            ]
        ),
        st.integers(0, 5),
        st.integers(-3, 3),
    ),
    max_size=40,
)


def _run(world: World, ops: list[tuple[str, int, int]]) -> list[Any]:
    return [world.step(*op) for op in ops]


def _view(state: CTraderAccountState) -> tuple[Any, ...]:
    return state.trader, dict(state.positions), dict(state.orders)


def _state_of(snapshot: CTraderSnapshot) -> CTraderAccountState:
    state = CTraderAccountState(snapshot.account_id)
    state.apply_snapshot(snapshot)
    return state


def _replay(view: tuple[Any, ...], changes: list[CTraderChange]) -> tuple[Any, ...]:
    """Apply changes to a plain view, checking each one's ``before`` is what it held."""
    trader, positions, orders = view
    for change in changes:
        match change:
            case BalanceChanged():
                assert change.before == trader
                trader = change.after
            case PositionChanged() | OrderChanged():
                key = change.position_id if isinstance(change, PositionChanged) else change.order_id
                table = positions if isinstance(change, PositionChanged) else orders
                assert table.get(key) == change.before
                if change.after is None:
                    del table[key]
                else:
                    table[key] = change.after
    return trader, positions, orders


@settings(max_examples=150, deadline=None)
@given(setup=OPS, ops=OPS)
def test_snapshot_then_events_equals_the_snapshot_taken_after(setup: Any, ops: Any) -> None:
    world = World()
    _run(world, setup)
    state = _state_of(world.snapshot())
    view = _view(state)
    for event in _run(world, ops):
        view = _replay(view, state.apply(event))
    expected = _view(_state_of(world.snapshot()))
    assert _view(state) == expected
    assert view == expected
    assert state.snapshot() == _state_of(world.snapshot()).snapshot()


@settings(max_examples=150, deadline=None)
@given(setup=OPS, ops=OPS, cut=st.integers(0, 40))
def test_resync_from_any_intermediate_state_reaches_the_new_snapshot(
    setup: Any, ops: Any, cut: int
) -> None:
    world = World()
    _run(world, setup)
    state = _state_of(world.snapshot())
    events = _run(world, ops)
    for event in events[:cut]:
        state.apply(event)
    view = _view(state)
    state.begin_resync()
    for event in events[cut:]:
        assert state.apply(event) == []
    assert _view(state) == view
    changes = state.resync(world.snapshot())
    expected = _view(_state_of(world.snapshot()))
    assert _replay(view, changes) == expected
    assert _view(state) == expected
    state.begin_resync()
    assert state.resync(world.snapshot()) == []


@settings(max_examples=100, deadline=None)
@given(setup=OPS, ops=OPS)
def test_events_held_before_the_snapshot_end_where_events_after_it_do(setup: Any, ops: Any) -> None:
    world = World()
    _run(world, setup)
    s0 = world.snapshot()
    state = CTraderAccountState(ACCOUNT)
    for event in _run(world, ops):
        assert state.apply(event) == []
    changes = state.apply_snapshot(s0)
    assert _view(state) == _view(_state_of(world.snapshot()))
    assert _replay((None, {}, {}), changes) == _view(state)
