"""cTrader order handles, without I/O: which order each handle follows, and where it stands.

Every order placed with a handle carries a ``clientOrderId`` (the client makes one when the
caller gives none), and ``CTraderOrderTracker`` matches execution events to handles by it, or
by the order id once known, so events that come before the answer count as well as those
after. The order's ``orderStatus`` gives the status; each deal of the order is a fill. An order
whose answer was lost with the link is ``UNKNOWN`` until ``resolve`` is given the orders the
server holds for the account after it was authorized again (the reconcile answer's pending
orders and the order list of the time the order was sent): found by ``clientOrderId``, the
handle follows it; not found, the server never took the order (``NOT_PLACED``). A final
handle is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from ..errors import LocalProtocolError
from ..orders import OrderFill, OrderStatus, OrderTracker, OrderView
from .events import ErrorResponse, FollowUp, Response, ServerEvent
from .models import ExecutionEvent, ExecutionType, Order
from .models import OrderStatus as CTraderOrderStatus

__all__ = ["CTraderOrderTracker"]

_STATUSES: Final = {
    CTraderOrderStatus.ORDER_STATUS_ACCEPTED: OrderStatus.WORKING,
    CTraderOrderStatus.ORDER_STATUS_FILLED: OrderStatus.FILLED,
    CTraderOrderStatus.ORDER_STATUS_REJECTED: OrderStatus.REJECTED,
    CTraderOrderStatus.ORDER_STATUS_EXPIRED: OrderStatus.EXPIRED,
    CTraderOrderStatus.ORDER_STATUS_CANCELLED: OrderStatus.CANCELLED,
}
_EXECUTION = ExecutionEvent.PAYLOAD_TYPE


class _Followed:
    __slots__ = ("account_id", "client_order_id", "view")

    def __init__(self, view: OrderView, account_id: int, client_order_id: str) -> None:
        self.view = view
        self.account_id = account_id
        self.client_order_id = client_order_id


def execution_of(event: object) -> ExecutionEvent | None:
    """The execution event a connection event carries, or None."""
    if not isinstance(event, Response | FollowUp | ServerEvent | ErrorResponse):
        return None
    if event.payload_type != _EXECUTION:
        return None
    try:
        message: Any = event.message
    except ValueError:  # a payload its model refuses
        return None
    return message if isinstance(message, ExecutionEvent) else None


def _with_order(view: OrderView, order: Order) -> OrderView:
    status = _STATUSES.get(order.order_status, view.status)
    fills = view.fills
    if status is OrderStatus.FILLED and not fills and order.executed_volume:
        fills = (OrderFill(None, order.executed_volume, order.execution_price or 0.0),)
    return msgspec.structs.replace(view, status=status, order_id=order.order_id, fills=fills)


class CTraderOrderTracker(OrderTracker[_Followed]):
    """Handles by key, found again by clientOrderId (or the server's order id)."""

    def __init__(self) -> None:
        super().__init__()
        self._by_client: dict[str, int] = {}
        self._by_order: dict[int, int] = {}
        #: Every clientOrderId a handle has used, ended ones too: the snapshot that finds a lost
        #: order by its id must not find an older order that had the same one.
        self._used: set[str] = set()

    def check_new(self, client_order_id: str) -> None:
        """Refuse, before anything is sent, an id a handle of this client has used already."""
        if client_order_id in self._used:
            raise LocalProtocolError(
                f"clientOrderId {client_order_id!r} was already used by an order with a handle"
            )

    def sent(self, key: int, account_id: int, client_order_id: str) -> OrderView:
        """A handle's order went out with ``client_order_id`` (which ``check_new`` passed)."""
        self.check_new(client_order_id)
        self._used.add(client_order_id)
        view = OrderView(key, OrderStatus.SENT)
        self._followed[key] = _Followed(view, account_id, client_order_id)
        self._by_client[client_order_id] = key
        return view

    def unknown_accounts(self) -> set[int]:
        """The accounts whose next snapshot has unknown orders to find."""
        return {
            f.account_id for f in self._followed.values() if f.view.status is OrderStatus.UNKNOWN
        }

    def followed_accounts(self) -> set[int]:
        """The accounts with handles the server has answered or may have taken (not ``SENT``):
        their next snapshot looks for those orders too."""
        return {
            f.account_id for f in self._followed.values() if f.view.status is not OrderStatus.SENT
        }

    def apply(self, event: object) -> list[OrderView]:
        """The views an execution event moves: of a followed order, on the account it was placed
        on (the same clientOrderId on another account is another order)."""
        execution = execution_of(event)
        if execution is None or execution.order is None:
            return []
        order = execution.order
        key = self._key_of(order)
        followed = None if key is None else self._followed.get(key)
        if (
            key is None
            or followed is None
            or followed.account_id != execution.ctid_trader_account_id
        ):
            return []
        self._by_order[order.order_id] = key
        view = followed.view
        deal = execution.deal
        if (
            deal is not None
            and deal.order_id == order.order_id
            and deal.filled_volume
            and all(fill.fill_id != deal.deal_id for fill in view.fills)
        ):
            fill = OrderFill(deal.deal_id, deal.filled_volume, deal.execution_price or 0.0)
            view = msgspec.structs.replace(view, fills=(*view.fills, fill))
        view = _with_order(view, order)
        if execution.execution_type is ExecutionType.ORDER_PARTIAL_FILL:
            view = msgspec.structs.replace(view, status=OrderStatus.WORKING)
        if execution.error_code is not None and view.status is OrderStatus.REJECTED:
            view = msgspec.structs.replace(view, error=execution.error_code)
        return [] if view == followed.view else self._settle(key, view)

    def resolve(self, account_id: int, orders: Iterable[Order]) -> list[OrderView]:
        """After the account's snapshot: its handles found in ``orders`` (what the server
        holds: pending orders and the order list) by ``clientOrderId``, as the server holds
        them (an execution event lost with the link is made up for); an unknown handle not
        found was never placed. A handle still waiting for its answer is left to it."""
        held = {order.client_order_id: order for order in orders if order.client_order_id}
        views: list[OrderView] = []
        for key in sorted(self._followed):
            followed = self._followed[key]
            status = followed.view.status
            if followed.account_id != account_id or status is OrderStatus.SENT:
                continue
            order = held.get(followed.client_order_id)
            if order is not None:
                self._by_order[order.order_id] = key
                view = _with_order(followed.view, order)
            elif status is OrderStatus.UNKNOWN:
                view = msgspec.structs.replace(followed.view, status=OrderStatus.NOT_PLACED)
            else:
                continue
            if view != followed.view:
                views += self._settle(key, view)
        return views

    def _key_of(self, order: Order) -> int | None:
        if order.client_order_id is not None:
            key = self._by_client.get(order.client_order_id)
            if key is not None:
                return key
        return self._by_order.get(order.order_id)

    def _forget(self, followed: _Followed) -> None:
        self._by_client.pop(followed.client_order_id, None)
        if followed.view.order_id is not None:
            self._by_order.pop(followed.view.order_id, None)
