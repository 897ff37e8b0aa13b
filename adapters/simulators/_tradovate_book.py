"""The simulated Tradovate account: orders, their versions, fills, positions and cash.

One ``TradingBook`` per simulator, shared by every connection: an order placed on one socket
changes what ``order/list`` answers on another, and its ``props`` events reach every socket
that has sent ``user/syncrequest``, as on the real service. Market orders fill at once at the
simulated price; limit and stop orders rest until ``price_moved`` reports a price that crosses
them (a buy limit at or below its price, a sell limit at or above; a buy stop at or above, a
sell stop at or below). Entity shapes follow the service's swagger specification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["TradingBook"]

Publish = Callable[[str, str, dict[str, Any]], None]

_RESTING_TYPES = frozenset({"Limit", "Stop"})
_ORDER_TYPES = frozenset({"Market"}) | _RESTING_TYPES
STARTING_CASH = 50_000.0


def _wall_clock() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _trade_date() -> dict[str, int]:
    today = dt.datetime.now(dt.UTC).date()
    return {"year": today.year, "month": today.month, "day": today.day}


def refusal(reason: str, text: str) -> dict[str, Any]:
    """A command refused inside a 200 answer, as ``PlaceOrderResult``/``CommandResult`` say."""
    return {"failureReason": reason, "failureText": text}


class TradingBook:
    """The account's state and the entity events each change sends (through ``publish``)."""

    def __init__(
        self,
        account: Mapping[str, Any],
        *,
        next_id: Callable[[], int],
        price_of: Callable[[int], float],
        value_per_point: Mapping[int, float],
    ) -> None:
        self.account = dict(account)
        self.publish: Publish = lambda entity_type, event_type, entity: None
        self._next_id = next_id
        self._price_of = price_of
        self._value_per_point = value_per_point
        self.orders: dict[int, dict[str, Any]] = {}
        self.versions: dict[int, dict[str, Any]] = {}  # order id -> its latest orderVersion
        self.positions: dict[int, dict[str, Any]] = {}  # contract id -> position
        self.fills: list[dict[str, Any]] = []
        self._resting: dict[int, list[int]] = {}  # contract id -> working order ids, in order
        self.realized = 0.0

    # -- commands ----------------------------------------------------------------------------------

    def place(self, contract_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """``order/placeorder`` (the contract already found); the answer's ``d``."""
        refused = self._check_order(body)
        if refused is not None:
            return refused
        order_id = self._next_id()
        order = {
            "id": order_id,
            "accountId": self.account["id"],
            "contractId": contract_id,
            "timestamp": _wall_clock(),
            "action": body["action"],
            "ordStatus": "PendingNew",
            "admin": bool(body.get("admin", False)),
        }
        self.orders[order_id] = order
        self.publish("order", "Created", dict(order))
        self._new_version(order_id, body)
        self._report(order, "New", "Working")
        self._set_status(order, "Working")
        if self.versions[order_id]["orderType"] in _RESTING_TYPES:
            self._resting.setdefault(contract_id, []).append(order_id)
        self._match(order_id, self._price_of(contract_id))
        return {"orderId": order_id}

    def cancel(self, order_id: Any) -> dict[str, Any]:
        """``order/cancelorder``: a working order is cancelled."""
        order = self.orders.get(order_id) if isinstance(order_id, int) else None
        if order is None:
            return refusal("UnknownReason", f"Order {order_id} not found")
        if order["ordStatus"] != "Working":
            return refusal("TooLate", f"Order {order_id} is {order['ordStatus']}")
        self._unrest(order)
        self._report(order, "Canceled", "Canceled")
        self._set_status(order, "Canceled")
        return {"commandId": self._next_id()}

    def modify(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``order/modifyorder``: a working order's quantity, type and prices change."""
        order_id = body.get("orderId")
        order = self.orders.get(order_id) if isinstance(order_id, int) else None
        if order is None:
            return refusal("UnknownReason", f"Order {order_id} not found")
        if order["ordStatus"] != "Working":
            return refusal("TooLate", f"Order {order_id} is {order['ordStatus']}")
        refused = self._check_order(dict(body, action=order["action"]))
        if refused is not None:
            return refused
        self._unrest(order)
        self._new_version(order["id"], body)
        self._report(order, "Replaced", "Working")
        self._set_status(order, "Working")
        if body.get("orderType", "Market") in _RESTING_TYPES:
            self._resting.setdefault(order["contractId"], []).append(order["id"])
        self._match(order["id"], self._price_of(order["contractId"]))
        return {"commandId": self._next_id()}

    def liquidate(self, contract_id: int) -> dict[str, Any]:
        """``order/liquidateposition``: cancel the contract's working orders and flatten it."""
        for order_id in list(self._resting.get(contract_id, ())):
            self.cancel(order_id)
        net = self.positions.get(contract_id, {}).get("netPos", 0)
        if net == 0:
            return refusal("UnknownReason", "No position to liquidate")
        body = {"action": "Sell" if net > 0 else "Buy", "orderQty": abs(net), "orderType": "Market"}
        return self.place(contract_id, body)

    def price_moved(self, contract_id: int, price: float) -> None:
        """The simulated price of ``contract_id`` is now ``price``: fill what it crosses."""
        waiting = self._resting.get(contract_id)
        if waiting:
            for order_id in list(waiting):
                self._match(order_id, price, resting=True)

    # -- queries -----------------------------------------------------------------------------------

    def cash_balance(self) -> dict[str, Any]:
        return {
            "id": self.account["id"],
            "accountId": self.account["id"],
            "timestamp": _wall_clock(),
            "tradeDate": _trade_date(),
            "currencyId": 1,
            "amount": STARTING_CASH + self.realized,
            "realizedPnL": self.realized,
            "weekRealizedPnL": self.realized,
        }

    def cash_snapshot(self) -> dict[str, Any]:
        """``cashBalance/getcashbalancesnapshot``."""
        open_pnl = sum(
            (self._price_of(cid) - p["netPrice"]) * p["netPos"] * self._value_per_point[cid]
            for cid, p in self.positions.items()
            if p["netPos"]
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

    def _check_order(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        quantity, order_type = body.get("orderQty"), body.get("orderType", "Market")
        if body.get("action") not in ("Buy", "Sell"):
            return refusal("UnknownReason", "Invalid order: action must be Buy or Sell")
        if type(quantity) is not int or quantity <= 0:
            return refusal("UnknownReason", "Invalid order: orderQty must be a positive integer")
        if order_type not in _ORDER_TYPES:
            return refusal("Unsupported", f"Order type {order_type!r} is not simulated")
        field = {"Limit": "price", "Stop": "stopPrice"}.get(order_type)
        if field is not None and not _positive_number(body.get(field)):
            return refusal("InvalidPrice", f"A {order_type} order needs a positive {field}")
        return None

    def _new_version(self, order_id: int, body: Mapping[str, Any]) -> None:
        version: dict[str, Any] = {
            "id": self._next_id(),
            "orderId": order_id,
            "orderQty": body["orderQty"],
            "orderType": body.get("orderType", "Market"),
        }
        for field in ("price", "stopPrice", "timeInForce"):
            if body.get(field) is not None:
                version[field] = body[field]
        self.versions[order_id] = version
        self.publish("orderVersion", "Created", dict(version))

    def _set_status(self, order: dict[str, Any], status: str) -> None:
        order["ordStatus"] = status
        self.publish("order", "Updated", dict(order))

    def _report(self, order: dict[str, Any], exec_type: str, status: str, **fill: Any) -> None:
        report = {
            "id": self._next_id(),
            "commandId": order["id"],
            "name": exec_type,
            "accountId": order["accountId"],
            "contractId": order["contractId"],
            "timestamp": _wall_clock(),
            "tradeDate": _trade_date(),
            "orderId": order["id"],
            "execType": exec_type,
            "ordStatus": status,
            "action": order["action"],
            "cumQty": fill.get("lastQty", 0),
            **fill,
        }
        self.publish("executionReport", "Created", report)

    def _unrest(self, order: dict[str, Any]) -> None:
        waiting = self._resting.get(order["contractId"])
        if waiting and order["id"] in waiting:
            waiting.remove(order["id"])

    def _match(self, order_id: int, price: float, *, resting: bool = False) -> None:
        """Fill the order when ``price`` reaches it (a market order always). A limit order
        that rested fills at its limit; one that could fill on arrival, at the market."""
        order, version = self.orders[order_id], self.versions[order_id]
        if order["ordStatus"] != "Working":
            return
        buy = order["action"] == "Buy"
        kind = version["orderType"]
        if kind == "Limit":
            limit = version["price"]
            if (buy and price > limit) or (not buy and price < limit):
                return
            if resting:
                price = limit
        elif kind == "Stop":
            stop = version["stopPrice"]
            if (buy and price < stop) or (not buy and price > stop):
                return
        self._unrest(order)
        self._fill(order, version["orderQty"], price)

    def _fill(self, order: dict[str, Any], quantity: int, price: float) -> None:
        self._report(order, "Trade", "Filled", lastQty=quantity, lastPx=price, avgPx=price)
        fill = {
            "id": self._next_id(),
            "orderId": order["id"],
            "contractId": order["contractId"],
            "timestamp": _wall_clock(),
            "tradeDate": _trade_date(),
            "action": order["action"],
            "qty": quantity,
            "price": price,
            "active": True,
            "finallyPaired": 0,
        }
        self.fills.append(fill)
        self.publish("fill", "Created", dict(fill))
        self._set_status(order, "Filled")
        self._move_position(
            order["contractId"], quantity if order["action"] == "Buy" else -quantity, price
        )

    def _move_position(self, contract_id: int, signed: int, price: float) -> None:
        position = self.positions.get(contract_id)
        created = position is None
        if position is None:
            position = {
                "id": self._next_id(),
                "accountId": self.account["id"],
                "contractId": contract_id,
                "netPos": 0,
                "netPrice": 0.0,
                "bought": 0,
                "boughtValue": 0.0,
                "sold": 0,
                "soldValue": 0.0,
                "prevPos": 0,
                "prevPrice": 0.0,
            }
            self.positions[contract_id] = position
        net, entry = position["netPos"], position["netPrice"]
        realized = 0.0
        if net and (net > 0) != (signed > 0):
            closed = min(abs(net), abs(signed))
            realized = (price - entry) * closed * (1 if net > 0 else -1)
            realized *= self._value_per_point[contract_id]
        new_net = net + signed
        if new_net == 0:
            new_price = 0.0
        elif net == 0 or (net > 0) != (new_net > 0):
            new_price = price
        elif (net > 0) == (signed > 0):
            new_price = (entry * abs(net) + price * abs(signed)) / abs(new_net)
        else:
            new_price = entry
        side, value = ("bought", "boughtValue") if signed > 0 else ("sold", "soldValue")
        position.update(
            {
                "timestamp": _wall_clock(),
                "tradeDate": _trade_date(),
                "netPos": new_net,
                "netPrice": new_price,
                side: position[side] + abs(signed),
                value: position[value] + abs(signed) * price,
            }
        )
        self.publish("position", "Created" if created else "Updated", dict(position))
        if realized:
            self.realized += realized
            self.publish("cashBalance", "Updated", self.cash_balance())


def _positive_number(value: Any) -> bool:
    return type(value) in (int, float) and value > 0
