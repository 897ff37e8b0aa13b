"""The simulated Tradovate account: orders, their versions, fills, positions and cash.

One ``TradingBook`` per simulator, shared by every connection: an order placed on one socket
changes what ``order/list`` answers on another, and its ``props`` events reach every socket
that has sent ``user/syncrequest``, as on the real service. Market orders fill at once at the
simulated price; limit and stop orders rest until ``price_moved`` reports a price that crosses
them (a buy limit at or below its price, a sell limit at or above; a buy stop at or above, a
sell stop at or below).

Everything it holds is the entity Structs of ``core.tradovate.models``, replaced whole on each
change, so what it publishes is what it holds and a sync answer is those same values.
Positions net, as Tradovate's do: one per contract, ``netPos`` signed, ``netPrice`` the average
entry of what is open (kept when a position is reduced, the fill's price when it opens or flips),
``bought``/``sold`` and their values summed over every fill. The profit a reducing fill realizes
goes into the cash balance, and the fills it closes are paired first in, first out
(``fillPair`` entities).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from msgspec.structs import replace

from brokerwire.core.tradovate.models import (
    Account,
    Action,
    CashBalance,
    ExecType,
    ExecutionReport,
    Fill,
    FillPair,
    Order,
    OrderType,
    OrderVersion,
    OrdStatus,
    Position,
    RejectReason,
    TradeDate,
)
from brokerwire.core.tradovate.requests import (
    CancelOrder,
    CommandResult,
    ModifyOrder,
    PlaceOrder,
    PlaceOrderResult,
)

__all__ = ["TradingBook", "refusal"]

Publish = Callable[[str, str, Any], None]

_RESTING_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP})
_ORDER_TYPES = frozenset({OrderType.MARKET}) | _RESTING_TYPES
STARTING_CASH = 50_000.0
CURRENCY_ID = 1


def _wall_clock() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _trade_date() -> TradeDate:
    today = dt.datetime.now(dt.UTC).date()
    return TradeDate(year=today.year, month=today.month, day=today.day)


def refusal(reason: RejectReason | str, text: str) -> PlaceOrderResult:
    """A command refused inside a 200 answer, as ``PlaceOrderResult``/``CommandResult`` say."""
    return PlaceOrderResult(failure_reason=RejectReason(reason), failure_text=text)


def _command_refusal(reason: RejectReason, text: str) -> CommandResult:
    return CommandResult(failure_reason=reason, failure_text=text)


class _OpenFill:
    """A fill's quantity not yet paired with an opposite fill."""

    def __init__(self, fill: Fill) -> None:
        self.fill = fill
        self.left = fill.qty


class TradingBook:
    """The account's state and the entity events each change sends (through ``publish``)."""

    def __init__(
        self,
        account: Account,
        *,
        next_id: Callable[[], int],
        price_of: Callable[[int], float],
        value_per_point: Mapping[int, float],
    ) -> None:
        self.account = account
        self.account_id: int = account.id or 0
        self.publish: Publish = lambda entity_type, event_type, entity: None
        self._next_id = next_id
        self._price_of = price_of
        self._value_per_point = value_per_point
        self.orders: dict[int, Order] = {}
        self.versions: dict[int, OrderVersion] = {}  # order id -> its latest orderVersion
        self.all_versions: list[OrderVersion] = []  # every version, as a sync answer has them
        self.reports: list[ExecutionReport] = []
        self.positions: dict[int, Position] = {}  # contract id -> position
        self.fills: list[Fill] = []
        self.fill_pairs: list[FillPair] = []
        self._open_fills: dict[int, list[_OpenFill]] = {}  # contract id -> unpaired fills
        self._resting: dict[int, list[int]] = {}  # contract id -> working order ids, in order
        self.realized = 0.0
        self.cash = CashBalance(
            id=self.account_id,
            account_id=self.account_id,
            timestamp=_wall_clock(),
            trade_date=_trade_date(),
            currency_id=CURRENCY_ID,
            amount=STARTING_CASH,
            realized_pnl=0.0,
            week_realized_pnl=0.0,
        )
        #: ``order/placeorder`` requests received, by ``clOrdId`` ("" for those without one).
        self.received: Counter[str] = Counter()

    # -- commands ----------------------------------------------------------------------------------

    def place(self, contract_id: int, body: PlaceOrder) -> PlaceOrderResult:
        """``order/placeorder`` (the contract already found)."""
        refused = _check(body.order_qty, body.order_type, body.price, body.stop_price)
        if refused is not None:
            return refusal(*refused)
        return self._enter(contract_id, body.action, _version_fields(body), admin=False)

    def cancel(self, body: CancelOrder) -> CommandResult:
        """``order/cancelorder``: a working order is cancelled."""
        order = self.orders.get(body.order_id)
        if order is None:
            return _command_refusal(RejectReason.UNKNOWN_REASON, f"Order {body.order_id} not found")
        if order.ord_status != OrdStatus.WORKING:
            return _command_refusal(
                RejectReason.TOO_LATE, f"Order {body.order_id} is {order.ord_status}"
            )
        self._unrest(order)
        self._report(order, ExecType.CANCELED, OrdStatus.CANCELED)
        self._set_status(order, OrdStatus.CANCELED)
        return CommandResult(command_id=self._next_id())

    def modify(self, body: ModifyOrder) -> CommandResult:
        """``order/modifyorder``: a working order's quantity, type and prices change."""
        order = self.orders.get(body.order_id)
        if order is None:
            return _command_refusal(RejectReason.UNKNOWN_REASON, f"Order {body.order_id} not found")
        if order.ord_status != OrdStatus.WORKING:
            return _command_refusal(
                RejectReason.TOO_LATE, f"Order {body.order_id} is {order.ord_status}"
            )
        refused = _check(body.order_qty, body.order_type, body.price, body.stop_price)
        if refused is not None:
            return _command_refusal(*refused)
        self._unrest(order)
        self._new_version(order, _version_fields(body))
        self._report(order, ExecType.REPLACED, OrdStatus.WORKING)
        order = self._set_status(order, OrdStatus.WORKING)
        if body.order_type in _RESTING_TYPES:
            self._resting.setdefault(_contract_of(order), []).append(_id(order))
        self._match(_id(order), self._price_of(_contract_of(order)))
        return CommandResult(command_id=self._next_id())

    def liquidate(self, contract_id: int, admin: bool = False) -> PlaceOrderResult:
        """``order/liquidateposition``: cancel the contract's working orders and flatten it."""
        for order_id in list(self._resting.get(contract_id, ())):
            self.cancel(CancelOrder(order_id=order_id))
        position = self.positions.get(contract_id)
        net = 0 if position is None else position.net_pos
        if net == 0:
            return refusal(RejectReason.UNKNOWN_REASON, "No position to liquidate")
        action = Action.SELL if net > 0 else Action.BUY
        fields = {"order_qty": abs(net), "order_type": OrderType.MARKET}
        return self._enter(contract_id, action, fields, admin=admin)

    def price_moved(self, contract_id: int, price: float) -> None:
        """The simulated price of ``contract_id`` is now ``price``: fill what it crosses."""
        waiting = self._resting.get(contract_id)
        if waiting:
            for order_id in list(waiting):
                self._match(order_id, price, resting=True)

    # -- queries -----------------------------------------------------------------------------------

    def cash_snapshot(self) -> dict[str, Any]:
        """``cashBalance/getcashbalancesnapshot``."""
        open_pnl = sum(
            (self._price_of(cid) - (p.net_price or 0.0)) * p.net_pos * self._value_per_point[cid]
            for cid, p in self.positions.items()
            if p.net_pos
        )
        cash = STARTING_CASH + self.realized
        return {
            "totalCashValue": cash,
            "totalPnL": self.realized + open_pnl,
            "initialMargin": 0.0,
            "maintenanceMargin": 0.0,
            "netLiq": cash + open_pnl,
            "openPnL": open_pnl,
            "realizedPnL": self.realized,
            "weekRealizedPnL": self.realized,
        }

    # -- internals ---------------------------------------------------------------------------------

    def _enter(
        self, contract_id: int, action: Action, fields: dict[str, Any], *, admin: bool
    ) -> PlaceOrderResult:
        order_id = self._next_id()
        order = Order(
            id=order_id,
            account_id=self.account_id,
            contract_id=contract_id,
            timestamp=_wall_clock(),
            action=action,
            ord_status=OrdStatus.PENDING_NEW,
            admin=admin,
        )
        self.orders[order_id] = order
        self.publish("order", "Created", order)
        self._new_version(order, fields)
        self._report(order, ExecType.NEW, OrdStatus.WORKING)
        order = self._set_status(order, OrdStatus.WORKING)
        if self.versions[order_id].order_type in _RESTING_TYPES:
            self._resting.setdefault(contract_id, []).append(order_id)
        self._match(order_id, self._price_of(contract_id))
        return PlaceOrderResult(order_id=order_id)

    def _new_version(self, order: Order, fields: dict[str, Any]) -> None:
        version = OrderVersion(id=self._next_id(), order_id=_id(order), **fields)
        self.versions[_id(order)] = version
        self.all_versions.append(version)
        self.publish("orderVersion", "Created", version)

    def _set_status(self, order: Order, status: OrdStatus) -> Order:
        order = replace(order, ord_status=status)
        self.orders[_id(order)] = order
        self.publish("order", "Updated", order)
        return order

    def _report(
        self,
        order: Order,
        exec_type: ExecType,
        status: OrdStatus,
        quantity: int | None = None,
        price: float | None = None,
    ) -> None:
        report = ExecutionReport(
            id=self._next_id(),
            command_id=_id(order),
            name=str(exec_type),
            account_id=order.account_id,
            contract_id=_contract_of(order),
            timestamp=_wall_clock(),
            trade_date=_trade_date(),
            order_id=_id(order),
            exec_type=exec_type,
            ord_status=status,
            action=order.action,
            cum_qty=quantity or 0,
            last_qty=quantity,
            last_px=price,
            avg_px=price,
        )
        self.reports.append(report)
        self.publish("executionReport", "Created", report)

    def _unrest(self, order: Order) -> None:
        waiting = self._resting.get(_contract_of(order))
        if waiting and _id(order) in waiting:
            waiting.remove(_id(order))

    def _match(self, order_id: int, price: float, *, resting: bool = False) -> None:
        """Fill the order when ``price`` reaches it (a market order always). A limit order
        that rested fills at its limit; one that could fill on arrival, at the market."""
        order, version = self.orders[order_id], self.versions[order_id]
        if order.ord_status != OrdStatus.WORKING:
            return
        buy = order.action == Action.BUY
        if version.order_type == OrderType.LIMIT:
            limit = version.price or 0.0
            if (buy and price > limit) or (not buy and price < limit):
                return
            if resting:
                price = limit
        elif version.order_type == OrderType.STOP:
            stop = version.stop_price or 0.0
            if (buy and price < stop) or (not buy and price > stop):
                return
        self._unrest(order)
        self._fill(order, version.order_qty, price)

    def _fill(self, order: Order, quantity: int, price: float) -> None:
        self._report(order, ExecType.TRADE, OrdStatus.FILLED, quantity, price)
        fill = Fill(
            id=self._next_id(),
            order_id=_id(order),
            contract_id=_contract_of(order),
            timestamp=_wall_clock(),
            trade_date=_trade_date(),
            action=order.action,
            qty=quantity,
            price=price,
            active=True,
            finally_paired=0,
        )
        self.fills.append(fill)
        self.publish("fill", "Created", fill)
        self._set_status(order, OrdStatus.FILLED)
        signed = quantity if order.action == Action.BUY else -quantity
        realized = self._move_position(_contract_of(order), signed, price)
        self._pair(fill)
        if realized:
            self._realize(realized)

    def _move_position(self, contract_id: int, signed: int, price: float) -> float:
        """Net ``signed`` contracts at ``price`` into the contract's position; the profit the
        fill realizes."""
        position = self.positions.get(contract_id)
        created = position is None
        if position is None:
            position = Position(
                id=self._next_id(),
                account_id=self.account_id,
                contract_id=contract_id,
                timestamp=_wall_clock(),
                trade_date=_trade_date(),
                net_pos=0,
                net_price=0.0,
                bought=0,
                bought_value=0.0,
                sold=0,
                sold_value=0.0,
                prev_pos=0,
                prev_price=0.0,
            )
        net, entry = position.net_pos, position.net_price or 0.0
        new_net, new_price, realized = netted(net, entry, signed, price)
        realized *= self._value_per_point[contract_id]
        if signed > 0:
            sides = {
                "bought": position.bought + signed,
                "bought_value": position.bought_value + signed * price,
            }
        else:
            sides = {
                "sold": position.sold - signed,
                "sold_value": position.sold_value - signed * price,
            }
        position = replace(
            position,
            timestamp=_wall_clock(),
            trade_date=_trade_date(),
            net_pos=new_net,
            net_price=new_price,
            **sides,
        )
        self.positions[contract_id] = position
        self.publish("position", "Created" if created else "Updated", position)
        return realized

    def _pair(self, fill: Fill) -> None:
        """Pair ``fill`` with the opposite fills still open on its contract, oldest first."""
        queue = self._open_fills.setdefault(fill.contract_id, [])
        incoming = _OpenFill(fill)
        while incoming.left and queue and queue[0].fill.action != fill.action:
            head = queue[0]
            quantity = min(head.left, incoming.left)
            buy, sell = (head, incoming) if head.fill.action == Action.BUY else (incoming, head)
            pair = FillPair(
                id=self._next_id(),
                position_id=self.positions[fill.contract_id].id or 0,
                buy_fill_id=buy.fill.id or 0,
                sell_fill_id=sell.fill.id or 0,
                qty=quantity,
                buy_price=buy.fill.price,
                sell_price=sell.fill.price,
                active=True,
            )
            self.fill_pairs.append(pair)
            self.publish("fillPair", "Created", pair)
            head.left -= quantity
            incoming.left -= quantity
            if not head.left:
                queue.pop(0)
        if incoming.left:
            queue.append(incoming)

    def _realize(self, profit: float) -> None:
        self.realized = round(self.realized + profit, 2)  # money is in cents
        self.cash = replace(
            self.cash,
            timestamp=_wall_clock(),
            trade_date=_trade_date(),
            amount=STARTING_CASH + self.realized,
            realized_pnl=self.realized,
            week_realized_pnl=self.realized,
        )
        self.publish("cashBalance", "Updated", self.cash)


def netted(net: int, entry: float, signed: int, price: float) -> tuple[int, float, float]:
    """A netting position of ``net`` contracts at average ``entry`` after ``signed`` more at
    ``price``: its new size, its new average price and the points times contracts realized.

    Adding averages the entry; reducing keeps it and realizes the closed part; flipping closes
    all and opens the rest at ``price``; flat has price 0.
    """
    realized = 0.0
    if net and (net > 0) != (signed > 0):
        closed = min(abs(net), abs(signed))
        realized = (price - entry) * closed * (1 if net > 0 else -1)
    new_net = net + signed
    if new_net == 0:
        new_price = 0.0
    elif net == 0 or (net > 0) != (new_net > 0):
        new_price = price
    elif (net > 0) == (signed > 0):
        new_price = (entry * abs(net) + price * abs(signed)) / abs(new_net)
    else:
        new_price = entry
    return new_net, new_price, realized


def _id(entity: Order) -> int:
    return entity.id or 0


def _contract_of(order: Order) -> int:
    return order.contract_id or 0


def _version_fields(body: PlaceOrder | ModifyOrder) -> dict[str, Any]:
    fields: dict[str, Any] = {"order_qty": body.order_qty, "order_type": body.order_type}
    for name in ("price", "stop_price", "time_in_force"):
        if getattr(body, name) is not None:
            fields[name] = getattr(body, name)
    return fields


def _check(
    quantity: int, order_type: OrderType, price: float | None, stop_price: float | None
) -> tuple[RejectReason, str] | None:
    """Why an order's values are refused, or None (the model already checked their types)."""
    if quantity <= 0:
        return RejectReason.UNKNOWN_REASON, "Invalid order: orderQty must be a positive integer"
    if order_type not in _ORDER_TYPES:
        return RejectReason.UNSUPPORTED, f"Order type {str(order_type)!r} is not simulated"
    if order_type == OrderType.LIMIT and not (price is not None and price > 0):
        return RejectReason.INVALID_PRICE, "A Limit order needs a positive price"
    if order_type == OrderType.STOP and not (stop_price is not None and stop_price > 0):
        return RejectReason.INVALID_PRICE, "A Stop order needs a positive stopPrice"
    return None
