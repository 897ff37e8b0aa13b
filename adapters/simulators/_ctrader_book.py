"""The simulated cTrader trading accounts: orders, positions, deals and balances.

One ``TradingAccount`` per account id, shared by every connection of a simulator. Each
command returns the ``ProtoOAExecutionEvent`` payloads it causes, in order, or raises
``OrderError`` with the code a ``ProtoOAOrderErrorEvent`` carries. Market orders fill at once
(a buy at the ask, a sell at the bid); limit and stop orders rest until ``price_moved`` reports
prices that cross them (a buy limit when the ask is at or below it, a sell limit when the bid is
at or above it; a buy stop when the ask is at or above it, a sell stop when the bid is at or
below it). Accounts are hedged: every filled order that closes nothing opens a position.
Prices on the wire are in units (``1.08512``); the simulator keeps them in 1/100000.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from brokerwire.core.ctrader import ExecutionType, OrderType, TradeSide, as_int

__all__ = ["OrderError", "TradingAccount"]

SCALE = 100_000
MONEY_DIGITS = 2
STARTING_BALANCE = 1_000_000  # 10,000.00 in cents

# ProtoOAOrderStatus, ProtoOAPositionStatus, ProtoOADealStatus
ORDER_ACCEPTED, ORDER_FILLED, ORDER_CANCELLED = 1, 2, 5
POSITION_OPEN, POSITION_CLOSED = 1, 2
DEAL_FILLED = 2

Quote = Callable[[int], tuple[int, int]]  # symbol id -> (bid, ask), raw


class OrderError(Exception):
    """A command the server refuses with ProtoOAOrderErrorEvent."""

    def __init__(self, code: str, description: str, **fields: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.fields = fields


def _millis() -> int:
    return int(time.time() * 1000)


def _units(raw: int) -> float:
    return raw / SCALE


def _raw(units: Any) -> int | None:
    if type(units) not in (int, float) or not units > 0 or units >= 2**53 / SCALE:
        return None
    return round(float(units) * SCALE)


class TradingAccount:
    """One trading account's state; ``next_id`` numbers orders, positions and deals."""

    def __init__(self, account_id: int, *, next_id: Callable[[], int], quote: Quote) -> None:
        self.account_id = account_id
        self.balance = STARTING_BALANCE
        self.balance_version = 1
        self._next_id = next_id
        self._quote = quote
        self.orders: dict[int, dict[str, Any]] = {}
        self.positions: dict[int, dict[str, Any]] = {}
        self.deals: list[dict[str, Any]] = []
        self._pending: dict[int, list[int]] = {}  # symbol id -> resting order ids

    # -- commands ----------------------------------------------------------------------------------

    def new_order(self, payload: Mapping[str, Any], symbols: Mapping[int, Any]) -> list[Any]:
        symbol = as_int(payload.get("symbolId"))
        if symbol is None or symbol not in symbols:
            raise OrderError("SYMBOL_NOT_FOUND", "Symbol not found")
        volume = _volume(payload.get("volume"))
        side, kind = as_int(payload.get("tradeSide")), as_int(payload.get("orderType", 1))
        if side is None or side not in (TradeSide.BUY, TradeSide.SELL):
            raise OrderError("INVALID_REQUEST", f"Invalid tradeSide {side!r}")
        if kind is None or kind not in (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP):
            raise OrderError("INVALID_REQUEST", f"Order type {kind!r} is not simulated")
        order = self._order(symbol, volume, side, kind, payload)
        executions = [self._execution(ExecutionType.ORDER_ACCEPTED, order)]
        if kind != OrderType.MARKET:
            self._pending.setdefault(symbol, []).append(order["orderId"])
        executions += self._try_fill(order)
        return executions

    def cancel_order(self, order_id: Any) -> list[Any]:
        order = self._pending_order(order_id)
        self._unrest(order)
        order.update(orderStatus=ORDER_CANCELLED, utcLastUpdateTimestamp=_millis())
        return [self._execution(ExecutionType.ORDER_CANCELLED, order)]

    def amend_order(self, payload: Mapping[str, Any]) -> list[Any]:
        order = self._pending_order(payload.get("orderId"))
        changes: dict[str, Any] = {}
        if payload.get("volume") is not None:
            order["tradeData"]["volume"] = _volume(payload["volume"])
        for field in ("limitPrice", "stopPrice", "stopLoss", "takeProfit"):
            if field in payload:
                if _raw(payload[field]) is None:
                    raise OrderError("TRADING_BAD_PRICES", f"Invalid {field}")
                changes[field] = payload[field]
        if "expirationTimestamp" in payload:
            changes["expirationTimestamp"] = payload["expirationTimestamp"]
        order.update(changes, utcLastUpdateTimestamp=_millis())
        return [self._execution(ExecutionType.ORDER_REPLACED, order), *self._try_fill(order)]

    def close_position(self, position_id: Any, volume: Any) -> list[Any]:
        position_id = as_int(position_id)
        position = self.positions.get(position_id) if position_id is not None else None
        if position is None or position["positionStatus"] != POSITION_OPEN:
            raise OrderError(
                "POSITION_NOT_FOUND", f"Position {position_id} not found", positionId=position_id
            )
        volume = _volume(volume)
        if volume > position["tradeData"]["volume"]:
            raise OrderError("TRADING_BAD_VOLUME", f"Volume {volume} is more than the position's")
        data = position["tradeData"]
        side = TradeSide.SELL if data["tradeSide"] == TradeSide.BUY else TradeSide.BUY
        order = self._order(data["symbolId"], volume, int(side), int(OrderType.MARKET), {})
        order.update(closingOrder=True, positionId=position_id)
        accepted = self._execution(ExecutionType.ORDER_ACCEPTED, order)
        return [accepted, *self._try_fill(order)]

    def price_moved(self, symbol_id: int) -> list[Any]:
        """The executions of the resting orders the symbol's new prices fill."""
        executions: list[Any] = []
        for order_id in list(self._pending.get(symbol_id, ())):
            executions += self._try_fill(self.orders[order_id])
        return executions

    # -- queries -----------------------------------------------------------------------------------

    def trader(self, trader_login: int) -> dict[str, Any]:
        return {
            "ctidTraderAccountId": self.account_id,
            "balance": self.balance,
            "balanceVersion": self.balance_version,
            "depositAssetId": 1,
            "leverageInCents": 10_000,
            "accessRights": 0,
            "accountType": 0,
            "traderLogin": trader_login,
            "brokerName": "brokerwire simulator",
            "moneyDigits": MONEY_DIGITS,
        }

    def reconcile(self) -> dict[str, Any]:
        return {
            "ctidTraderAccountId": self.account_id,
            "position": [
                _copy(p) for p in self.positions.values() if p["positionStatus"] == POSITION_OPEN
            ],
            "order": [_copy(o) for o in self.orders.values() if o["orderStatus"] == ORDER_ACCEPTED],
        }

    def deal_list(self, start: int, end: int, max_rows: int | None) -> tuple[list[Any], bool]:
        deals = [_copy(d) for d in self.deals if start <= d["executionTimestamp"] <= end]
        if max_rows is not None and 0 < max_rows < len(deals):
            return deals[:max_rows], True
        return deals, False

    def order_list(self, start: int, end: int) -> list[Any]:
        return [
            _copy(o)
            for o in self.orders.values()
            if start <= o["tradeData"]["openTimestamp"] <= end
        ]

    # -- internals ---------------------------------------------------------------------------------

    def _order(
        self, symbol: int, volume: int, side: int, kind: int, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        trade_data: dict[str, Any] = {
            "symbolId": symbol,
            "volume": volume,
            "tradeSide": side,
            "openTimestamp": _millis(),
        }
        for field in ("label", "comment"):
            if isinstance(payload.get(field), str):
                trade_data[field] = payload[field]
        order: dict[str, Any] = {
            "orderId": self._next_id(),
            "tradeData": trade_data,
            "orderType": kind,
            "orderStatus": ORDER_ACCEPTED,
            "utcLastUpdateTimestamp": trade_data["openTimestamp"],
            "timeInForce": 3 if kind == OrderType.MARKET else 2,
        }
        price_field = {int(OrderType.LIMIT): "limitPrice", int(OrderType.STOP): "stopPrice"}.get(
            kind
        )
        if price_field is not None:
            if _raw(payload.get(price_field)) is None:
                raise OrderError("TRADING_BAD_PRICES", f"A pending order needs a {price_field}")
            order[price_field] = payload[price_field]
        if isinstance(payload.get("clientOrderId"), str):
            order["clientOrderId"] = payload["clientOrderId"]
        self.orders[order["orderId"]] = order
        return order

    def _pending_order(self, order_id: Any) -> dict[str, Any]:
        order_id = as_int(order_id)
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None:
            raise OrderError("ORDER_NOT_FOUND", f"Order {order_id} not found", orderId=order_id)
        if order["orderStatus"] != ORDER_ACCEPTED or order["orderType"] == OrderType.MARKET:
            raise OrderError(
                "UNABLE_TO_CANCEL_ORDER", f"Order {order_id} is not pending", orderId=order_id
            )
        return order

    def _unrest(self, order: dict[str, Any]) -> None:
        waiting = self._pending.get(order["tradeData"]["symbolId"])
        if waiting and order["orderId"] in waiting:
            waiting.remove(order["orderId"])

    def _fill_price(self, order: dict[str, Any]) -> int | None:
        """The raw price ``order`` fills at now, or None while it rests."""
        bid, ask = self._quote(order["tradeData"]["symbolId"])
        buy = order["tradeData"]["tradeSide"] == TradeSide.BUY
        market = ask if buy else bid
        kind = order["orderType"]
        if kind == OrderType.LIMIT:
            limit = _raw(order["limitPrice"]) or 0
            return market if (market <= limit if buy else market >= limit) else None
        if kind == OrderType.STOP:
            stop = _raw(order["stopPrice"]) or 0
            return market if (market >= stop if buy else market <= stop) else None
        return market

    def _try_fill(self, order: dict[str, Any]) -> list[Any]:
        raw_price = self._fill_price(order)
        if raw_price is None:
            return []
        self._unrest(order)
        price, now, data = _units(raw_price), _millis(), order["tradeData"]
        order.update(
            orderStatus=ORDER_FILLED,
            executionPrice=price,
            executedVolume=data["volume"],
            utcLastUpdateTimestamp=now,
        )
        deal: dict[str, Any] = {
            "dealId": self._next_id(),
            "orderId": order["orderId"],
            "volume": data["volume"],
            "filledVolume": data["volume"],
            "symbolId": data["symbolId"],
            "createTimestamp": now,
            "executionTimestamp": now,
            "executionPrice": price,
            "tradeSide": data["tradeSide"],
            "dealStatus": DEAL_FILLED,
            "commission": 0,
            "moneyDigits": MONEY_DIGITS,
        }
        if order.get("closingOrder"):
            position = self._reduce(order["positionId"], data["volume"], price, deal)
        else:
            position = self._open(order, price, now)
        order["positionId"] = deal["positionId"] = position["positionId"]
        self.deals.append(deal)
        return [self._execution(ExecutionType.ORDER_FILLED, order, position, deal)]

    def _open(self, order: dict[str, Any], price: float, now: int) -> dict[str, Any]:
        position: dict[str, Any] = {
            "positionId": self._next_id(),
            "tradeData": dict(order["tradeData"], openTimestamp=now),
            "positionStatus": POSITION_OPEN,
            "swap": 0,
            "price": price,
            "utcLastUpdateTimestamp": now,
            "commission": 0,
            "moneyDigits": MONEY_DIGITS,
        }
        self.positions[position["positionId"]] = position
        return position

    def _reduce(
        self, position_id: int, volume: int, price: float, deal: dict[str, Any]
    ) -> dict[str, Any]:
        position = self.positions[position_id]
        data = position["tradeData"]
        direction = 1 if data["tradeSide"] == TradeSide.BUY else -1
        gross = round((price - position["price"]) * volume * direction)
        self.balance += gross
        self.balance_version += 1
        data["volume"] -= volume
        if data["volume"] == 0:
            position["positionStatus"] = POSITION_CLOSED
            data["closeTimestamp"] = deal["executionTimestamp"]
        position["utcLastUpdateTimestamp"] = deal["executionTimestamp"]
        deal["closePositionDetail"] = {
            "entryPrice": position["price"],
            "grossProfit": gross,
            "swap": 0,
            "commission": 0,
            "balance": self.balance,
            "closedVolume": volume,
            "balanceVersion": self.balance_version,
            "moneyDigits": MONEY_DIGITS,
        }
        return position

    def _execution(
        self,
        execution_type: int,
        order: dict[str, Any],
        position: dict[str, Any] | None = None,
        deal: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ctidTraderAccountId": self.account_id,
            "executionType": int(execution_type),
            "order": _copy(order),
        }
        if position is not None:
            payload["position"] = _copy(position)
        if deal is not None:
            payload["deal"] = _copy(deal)
        return payload


def _volume(value: Any) -> int:
    volume = as_int(value)
    if volume is None or volume <= 0 or volume % 100:
        raise OrderError("TRADING_BAD_VOLUME", f"Invalid volume {value!r}")
    return volume


def _copy(entity: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of an entity, nested dicts included (later changes must not show)."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in entity.items()}
