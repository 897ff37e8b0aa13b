"""The simulated cTrader trading accounts: orders, positions, deals and balances.

One ``TradingAccount`` per account id, shared by every connection of a simulator. Each
command takes its request Struct and returns the ``ExecutionEvent`` messages it causes, in
order, or raises ``OrderError`` with the code a ``ProtoOAOrderErrorEvent`` carries. Market
orders fill at once (a buy at the ask, a sell at the bid); limit and stop orders rest until
``price_moved`` reports prices that cross them (a buy limit when the ask is at or below it, a
sell limit when the bid is at or above it; a buy stop when the ask is at or above it, a sell
stop when the bid is at or below it).

Accounts are hedged by default: every filled order opens a position of its own, unless it
closes one (``ProtoOAClosePositionReq``, or an order naming a ``positionId``: the opposite side
reduces that position, the same side adds to it). A netted account (``netting``) holds one
position per symbol that every fill adds to, reduces, closes or turns to the other side. Each
reducing fill realizes its gross profit into the balance (``closePositionDetail``, money in
cents: ``moneyDigits`` 2). Everything held is the Structs of ``core.ctrader.models``, replaced
whole on each change, so what an event carries is what a reconcile answers afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from msgspec.structs import replace

from brokerwire.core.ctrader.models import (
    AccessRights,
    AccountType,
    AmendOrderReq,
    ChangeBalanceType,
    ClosePositionDetail,
    ClosePositionReq,
    Deal,
    DealStatus,
    DepositWithdraw,
    ExecutionEvent,
    ExecutionType,
    NewOrderReq,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionStatus,
    ReconcileRes,
    TimeInForce,
    TradeData,
    Trader,
    TradeSide,
)

__all__ = ["OrderError", "TradingAccount"]

SCALE = 100_000
MONEY_DIGITS = 2
STARTING_BALANCE = 1_000_000  # 10,000.00 in cents

Quote = Callable[[int], tuple[int, int]]  # symbol id -> (bid, ask), raw

_PENDING_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP})
_AMENDED_PRICES = ("limit_price", "stop_price", "stop_loss", "take_profit")


class OrderError(Exception):
    """A command the server refuses with ProtoOAOrderErrorEvent."""

    def __init__(self, code: str, description: str, **fields: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.fields = fields


def _millis() -> int:
    return int(time.time() * 1000)


class _Stamps:
    """Milliseconds since the epoch, each later than the one before. The server pages deal and
    order history by time, so an account whose records shared a millisecond could not be paged
    past them with a small page; a real server's pages are large enough that this never shows,
    the simulator's (``history_chunk``) may be as small as one record."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        self._last = max(self._last + 1, _millis())
        return self._last


def _units(raw: int) -> float:
    return raw / SCALE


def _raw(units: float | None) -> int | None:
    if units is None or not units > 0 or units >= 2**53 / SCALE:
        return None
    return round(units * SCALE)


def _opposite(side: TradeSide) -> TradeSide:
    return TradeSide.SELL if side == TradeSide.BUY else TradeSide.BUY


class TradingAccount:
    """One trading account's state; ``next_id`` numbers orders, positions and deals."""

    def __init__(
        self,
        account_id: int,
        *,
        next_id: Callable[[], int],
        quote: Quote,
        netting: bool = False,
    ) -> None:
        self.account_id = account_id
        self.netting = netting
        self.balance = STARTING_BALANCE
        self.balance_version = 1
        self._next_id = next_id
        self._quote = quote
        self.orders: dict[int, Order] = {}
        self.positions: dict[int, Position] = {}
        self.deals: list[Deal] = []
        self._pending: dict[int, list[int]] = {}  # symbol id -> resting order ids
        self._stamp = _Stamps()

    # -- commands ----------------------------------------------------------------------------------

    def new_order(self, request: NewOrderReq, symbols: Iterable[int]) -> list[ExecutionEvent]:
        if request.symbol_id not in symbols:
            raise OrderError("SYMBOL_NOT_FOUND", "Symbol not found")
        volume = _volume(request.volume)
        kind = request.order_type
        if kind not in (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP):
            raise OrderError("INVALID_REQUEST", f"Order type {int(kind)} is not simulated")
        if request.position_id is not None:
            self._open_position(request.position_id, request.symbol_id)
        order = self._order(request, volume)
        executions = [self._execution(ExecutionType.ORDER_ACCEPTED, order)]
        if kind != OrderType.MARKET:
            self._pending.setdefault(request.symbol_id, []).append(order.order_id)
        executions += self._try_fill(order)
        return executions

    def cancel_order(self, order_id: int) -> list[ExecutionEvent]:
        order = self._pending_order(order_id)
        self._unrest(order)
        order = self._store(
            replace(
                order,
                order_status=OrderStatus.ORDER_STATUS_CANCELLED,
                utc_last_update_timestamp=self._stamp(),
            )
        )
        return [self._execution(ExecutionType.ORDER_CANCELLED, order)]

    def amend_order(self, request: AmendOrderReq) -> list[ExecutionEvent]:
        order = self._pending_order(request.order_id)
        changes: dict[str, Any] = {}
        if request.volume is not None:
            changes["trade_data"] = replace(order.trade_data, volume=_volume(request.volume))
        for field in _AMENDED_PRICES:
            value = getattr(request, field)
            if value is not None:
                if _raw(value) is None:
                    raise OrderError("TRADING_BAD_PRICES", f"Invalid {field}")
                changes[field] = value
        if request.expiration_timestamp is not None:
            changes["expiration_timestamp"] = request.expiration_timestamp
        order = self._store(replace(order, utc_last_update_timestamp=self._stamp(), **changes))
        return [self._execution(ExecutionType.ORDER_REPLACED, order), *self._try_fill(order)]

    def close_position(self, request: ClosePositionReq) -> list[ExecutionEvent]:
        position = self._open_position(request.position_id)
        volume = _volume(request.volume)
        data = position.trade_data
        if volume > data.volume:
            raise OrderError("TRADING_BAD_VOLUME", f"Volume {volume} is more than the position's")
        closing = NewOrderReq(
            ctid_trader_account_id=self.account_id,
            symbol_id=data.symbol_id,
            order_type=OrderType.MARKET,
            trade_side=_opposite(data.trade_side),
            volume=volume,
            position_id=position.position_id,
        )
        order = self._store(replace(self._order(closing, volume), closing_order=True))
        accepted = self._execution(ExecutionType.ORDER_ACCEPTED, order)
        return [accepted, *self._try_fill(order)]

    def deposit(self, delta: int) -> ExecutionEvent:
        """Money in (``delta`` cents above 0) or out (below 0): the DEPOSIT_WITHDRAW event."""
        self.balance += delta
        self.balance_version += 1
        operation = ChangeBalanceType.BALANCE_DEPOSIT
        if delta < 0:
            operation = ChangeBalanceType.BALANCE_WITHDRAW
        cash = DepositWithdraw(
            operation_type=operation,
            balance_history_id=self._next_id(),
            balance=self.balance,
            delta=abs(delta),
            change_balance_timestamp=self._stamp(),
            balance_version=self.balance_version,
            money_digits=MONEY_DIGITS,
        )
        return ExecutionEvent(
            ctid_trader_account_id=self.account_id,
            execution_type=ExecutionType.DEPOSIT_WITHDRAW,
            deposit_withdraw=cash,
            is_server_event=True,
        )

    def price_moved(self, symbol_id: int) -> list[ExecutionEvent]:
        """The executions of the resting orders the symbol's new prices fill."""
        executions: list[ExecutionEvent] = []
        for order_id in list(self._pending.get(symbol_id, ())):
            executions += self._try_fill(self.orders[order_id])
        return executions

    # -- queries -----------------------------------------------------------------------------------

    def trader(self, trader_login: int) -> Trader:
        return Trader(
            ctid_trader_account_id=self.account_id,
            balance=self.balance,
            balance_version=self.balance_version,
            deposit_asset_id=1,
            leverage_in_cents=10_000,
            access_rights=AccessRights.FULL_ACCESS,
            account_type=AccountType.NETTED if self.netting else AccountType.HEDGED,
            trader_login=trader_login,
            broker_name="brokerwire simulator",
            money_digits=MONEY_DIGITS,
        )

    def reconcile(self) -> ReconcileRes:
        return ReconcileRes(
            ctid_trader_account_id=self.account_id,
            position=[p for p in self.positions.values() if _is_open(p)],
            order=[
                o
                for o in self.orders.values()
                if o.order_status == OrderStatus.ORDER_STATUS_ACCEPTED
            ],
        )

    def deal_list(self, start: int, end: int, max_rows: int | None) -> tuple[list[Deal], bool]:
        deals = [d for d in self.deals if start <= d.execution_timestamp <= end]
        if max_rows is not None and 0 < max_rows < len(deals):
            return deals[:max_rows], True
        return deals, False

    def order_list(self, start: int, end: int) -> list[Order]:
        return [
            o for o in self.orders.values() if start <= (o.trade_data.open_timestamp or 0) <= end
        ]

    # -- internals ---------------------------------------------------------------------------------

    def _store(self, order: Order) -> Order:
        self.orders[order.order_id] = order
        return order

    def _order(self, request: NewOrderReq, volume: int) -> Order:
        now = self._stamp()
        trade_data = TradeData(
            symbol_id=request.symbol_id,
            volume=volume,
            trade_side=request.trade_side,
            open_timestamp=now,
            label=request.label,
            comment=request.comment,
        )
        kind = request.order_type
        if kind == OrderType.LIMIT and _raw(request.limit_price) is None:
            raise OrderError("TRADING_BAD_PRICES", "A pending order needs a limitPrice")
        if kind == OrderType.STOP and _raw(request.stop_price) is None:
            raise OrderError("TRADING_BAD_PRICES", "A pending order needs a stopPrice")
        order = Order(
            order_id=self._next_id(),
            trade_data=trade_data,
            order_type=kind,
            order_status=OrderStatus.ORDER_STATUS_ACCEPTED,
            utc_last_update_timestamp=now,
            time_in_force=(
                TimeInForce.IMMEDIATE_OR_CANCEL
                if kind == OrderType.MARKET
                else TimeInForce.GOOD_TILL_CANCEL
            ),
            client_order_id=request.client_order_id,
            position_id=request.position_id,
            limit_price=request.limit_price if kind == OrderType.LIMIT else None,
            stop_price=request.stop_price if kind == OrderType.STOP else None,
        )
        return self._store(order)

    def _open_position(self, position_id: int, symbol_id: int | None = None) -> Position:
        position = self.positions.get(position_id)
        if (
            position is None
            or not _is_open(position)
            or (symbol_id is not None and position.trade_data.symbol_id != symbol_id)
        ):
            raise OrderError(
                "POSITION_NOT_FOUND", f"Position {position_id} not found", positionId=position_id
            )
        return position

    def _pending_order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise OrderError("ORDER_NOT_FOUND", f"Order {order_id} not found", orderId=order_id)
        if (
            order.order_status != OrderStatus.ORDER_STATUS_ACCEPTED
            or order.order_type not in _PENDING_TYPES
        ):
            raise OrderError(
                "UNABLE_TO_CANCEL_ORDER", f"Order {order_id} is not pending", orderId=order_id
            )
        return order

    def _unrest(self, order: Order) -> None:
        waiting = self._pending.get(order.trade_data.symbol_id)
        if waiting and order.order_id in waiting:
            waiting.remove(order.order_id)

    def _fill_price(self, order: Order) -> int | None:
        """The raw price ``order`` fills at now, or None while it rests."""
        bid, ask = self._quote(order.trade_data.symbol_id)
        buy = order.trade_data.trade_side == TradeSide.BUY
        market = ask if buy else bid
        if order.order_type == OrderType.LIMIT:
            limit = _raw(order.limit_price) or 0
            return market if (market <= limit if buy else market >= limit) else None
        if order.order_type == OrderType.STOP:
            stop = _raw(order.stop_price) or 0
            return market if (market >= stop if buy else market <= stop) else None
        return market

    def _target(self, order: Order) -> Position | None:
        """The open position the order's fill changes, or None when it opens one."""
        if order.position_id is not None:
            position = self.positions.get(order.position_id)
            return position if position is not None and _is_open(position) else None
        if self.netting:
            symbol = order.trade_data.symbol_id
            return next(
                (
                    p
                    for p in self.positions.values()
                    if _is_open(p) and p.trade_data.symbol_id == symbol
                ),
                None,
            )
        return None

    def _try_fill(self, order: Order) -> list[ExecutionEvent]:
        raw_price = self._fill_price(order)
        if raw_price is None:
            return []
        self._unrest(order)
        price, now, data = _units(raw_price), self._stamp(), order.trade_data
        target = self._target(order)
        position_id = self._next_id() if target is None else target.position_id
        order = self._store(
            replace(
                order,
                order_status=OrderStatus.ORDER_STATUS_FILLED,
                execution_price=price,
                executed_volume=data.volume,
                utc_last_update_timestamp=now,
                position_id=position_id,
            )
        )
        deal = Deal(
            deal_id=self._next_id(),
            order_id=order.order_id,
            position_id=position_id,
            volume=data.volume,
            filled_volume=data.volume,
            symbol_id=data.symbol_id,
            create_timestamp=now,
            execution_timestamp=now,
            execution_price=price,
            trade_side=data.trade_side,
            deal_status=DealStatus.FILLED,
            commission=0,
            money_digits=MONEY_DIGITS,
        )
        if target is None:
            position = self._open(order, position_id, price, now)
        else:
            position, detail = self._change(target, data.trade_side, data.volume, raw_price, now)
            if detail is not None:
                deal = replace(deal, close_position_detail=detail)
        self.positions[position_id] = position
        self.deals.append(deal)
        return [self._execution(ExecutionType.ORDER_FILLED, order, position, deal)]

    def _open(self, order: Order, position_id: int, price: float, now: int) -> Position:
        data = order.trade_data
        return Position(
            position_id=position_id,
            trade_data=TradeData(
                symbol_id=data.symbol_id,
                volume=data.volume,
                trade_side=data.trade_side,
                open_timestamp=now,
                label=data.label,
                comment=data.comment,
            ),
            position_status=PositionStatus.POSITION_STATUS_OPEN,
            swap=0,
            price=price,
            utc_last_update_timestamp=now,
            commission=0,
            money_digits=MONEY_DIGITS,
        )

    def _change(
        self, position: Position, side: TradeSide, volume: int, raw_price: int, now: int
    ) -> tuple[Position, ClosePositionDetail | None]:
        """``position`` after a fill of ``volume`` on ``side`` at ``raw_price``: added to
        (the price becomes the volume-weighted average), or reduced, closed or turned to the
        other side, the closed part realized into the balance."""
        data, entry = position.trade_data, position.price or 0.0
        if side == data.trade_side:
            total = data.volume + volume
            average = ((_raw(entry) or 0) * data.volume + raw_price * volume) / total
            grown = replace(data, volume=total)
            return replace(
                position,
                trade_data=grown,
                price=_units(round(average)),
                utc_last_update_timestamp=now,
            ), None
        closed = min(data.volume, volume)
        direction = 1 if data.trade_side == TradeSide.BUY else -1
        gross = round((raw_price - (_raw(entry) or 0)) * closed * direction / SCALE)
        self.balance += gross
        self.balance_version += 1
        detail = ClosePositionDetail(
            entry_price=entry,
            gross_profit=gross,
            swap=0,
            commission=0,
            balance=self.balance,
            closed_volume=closed,
            balance_version=self.balance_version,
            money_digits=MONEY_DIGITS,
        )
        left = data.volume - closed
        if left:
            changed = replace(position, trade_data=replace(data, volume=left))
        elif volume > closed:  # turned to the other side: what is beyond opens at the fill
            turned = replace(data, trade_side=side, volume=volume - closed, open_timestamp=now)
            changed = replace(position, trade_data=turned, price=_units(raw_price))
        else:
            changed = replace(
                position,
                trade_data=replace(data, close_timestamp=now),
                position_status=PositionStatus.POSITION_STATUS_CLOSED,
            )
        return replace(changed, utc_last_update_timestamp=now), detail

    def _execution(
        self,
        execution_type: ExecutionType,
        order: Order,
        position: Position | None = None,
        deal: Deal | None = None,
    ) -> ExecutionEvent:
        return ExecutionEvent(
            ctid_trader_account_id=self.account_id,
            execution_type=execution_type,
            order=order,
            position=position,
            deal=deal,
        )


def _is_open(position: Position) -> bool:
    return position.position_status == PositionStatus.POSITION_STATUS_OPEN


def _volume(volume: int) -> int:
    if volume <= 0 or volume % 100:
        raise OrderError("TRADING_BAD_VOLUME", f"Invalid volume {volume!r}")
    return volume
