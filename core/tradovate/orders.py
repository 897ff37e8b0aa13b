"""Tradovate order handles, without I/O: which order each handle follows, and where it stands.

``TradovateOrderTracker`` reads everything from a ``TradovateAccountState``: a handle learns its
order id from the answer to ``order/placeorder``, and its status and fills from the state's
orders and fills, so the ``props`` events that come before the answer count as well as those
after. An order whose answer was lost with the link is ``UNKNOWN`` until ``resynced`` is given
the state after the next snapshot: the order entity has no client order id, so the tracker
looks in the order list for an order it does not already follow, newer than every order the
state held when the request went out, on the same account and contract, with the same action,
quantity, type and prices (the lowest such id). Found, the handle follows it; not found, the
server never took the order (``NOT_PLACED``). A final handle is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec

from ..errors import LocalProtocolError
from ..jsonlib import ValidationError, convert
from ..orders import OrderFill, OrderStatus, OrderTracker, OrderView
from .account import FillChanged, OrderChanged, TradovateAccountState, TradovateChange
from .models import Order, OrderVersion, OrdStatus

__all__ = ["TradovateOrderRequest", "TradovateOrderTracker"]

_STATUSES: Final = {
    OrdStatus.FILLED: OrderStatus.FILLED,
    OrdStatus.COMPLETED: OrderStatus.FILLED,
    OrdStatus.CANCELED: OrderStatus.CANCELLED,
    OrdStatus.REJECTED: OrderStatus.REJECTED,
    OrdStatus.EXPIRED: OrderStatus.EXPIRED,
}


class TradovateOrderRequest(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    """What a placed order asked for: what finds it in the order list when its answer is lost."""

    action: str
    order_qty: int
    order_type: str = "Market"
    symbol: str | int | None = None
    account_id: int | None = None
    account_spec: str | None = None
    price: float | None = None
    stop_price: float | None = None

    @classmethod
    def of(cls, body: object) -> TradovateOrderRequest:
        """From an ``order/placeorder`` body (wire names); ``LocalProtocolError`` for a body
        that could not be matched to an order (a quantity that is no whole number), before it
        is sent."""
        try:
            return convert(body, cls)
        except ValidationError as exc:
            raise LocalProtocolError(f"an order with a handle cannot be sent: {exc}") from None


class _Followed:
    __slots__ = ("request", "view", "watermark")

    def __init__(self, view: OrderView, request: TradovateOrderRequest, watermark: int) -> None:
        self.view = view
        self.request = request
        self.watermark = watermark


def _first_version(state: TradovateAccountState, order_id: int) -> OrderVersion | None:
    versions = [v for v in state.order_versions.values() if v.order_id == order_id]
    return min(versions, key=lambda v: v.id or 0) if versions else None


def _fills_of(state: TradovateAccountState, order_ids: set[int]) -> dict[int, list[OrderFill]]:
    fills: dict[int, list[OrderFill]] = {order_id: [] for order_id in order_ids}
    for fill_id in sorted(state.fills):
        fill = state.fills[fill_id]
        if fill.order_id in fills:
            fills[fill.order_id].append(OrderFill(fill.id, fill.qty, fill.price))
    return fills


def _error_of(state: TradovateAccountState, order_id: int) -> str | None:
    texts = [
        report.text or (report.reject_reason.value if report.reject_reason else None)
        for _, report in sorted(state.execution_reports.items())
        if report.order_id == order_id and report.ord_status is OrdStatus.REJECTED
    ]
    found = [text for text in texts if text]
    return found[-1] if found else None


class TradovateOrderTracker(OrderTracker[_Followed]):
    """Handles by key, found again by the order's contents (Tradovate orders carry no client
    id)."""

    def __init__(self) -> None:
        super().__init__()
        self._by_order: dict[int, int] = {}
        #: Every order id a handle has followed, final ones too: none is claimed twice.
        self._claimed: set[int] = set()

    def sent(
        self, key: int, request: TradovateOrderRequest, state: TradovateAccountState
    ) -> OrderView:
        """A handle's order went out; newer orders than the state holds now may be it."""
        watermark = max(state.orders, default=0)
        view = OrderView(key, OrderStatus.SENT)
        self._followed[key] = _Followed(view, request, watermark)
        return view

    def answered(self, key: int, order_id: int, state: TradovateAccountState) -> list[OrderView]:
        """The answer gave the order id: the handle follows that order from now on."""
        followed = self._followed.get(key)
        if followed is None:
            return []
        self._by_order[order_id] = key
        self._claimed.add(order_id)
        followed.view = msgspec.structs.replace(
            followed.view, status=OrderStatus.WORKING, order_id=order_id
        )
        return self._refresh({order_id}, state) or [followed.view]

    def changed(
        self, state: TradovateAccountState, changes: Iterable[TradovateChange]
    ) -> list[OrderView]:
        """The views the state's ``changes`` moved."""
        touched = {
            change.order_id
            for change in changes
            if isinstance(change, OrderChanged | FillChanged) and change.order_id in self._by_order
        }
        return self._refresh(touched, state) if touched else []

    def resynced(self, state: TradovateAccountState) -> list[OrderView]:
        """After a snapshot: every followed order as the state holds it, and each unknown one
        found in the order list, or not placed."""
        views = self._refresh(set(self._by_order), state)
        for key in sorted(self._followed):
            followed = self._followed[key]
            if followed.view.status is OrderStatus.UNKNOWN:
                order_id = self._find(followed, state)
                if order_id is None:
                    views += self._settle(
                        key, msgspec.structs.replace(followed.view, status=OrderStatus.NOT_PLACED)
                    )
                else:
                    views += self.answered(key, order_id, state)
        return views

    def _find(self, followed: _Followed, state: TradovateAccountState) -> int | None:
        request = followed.request
        for order_id in sorted(state.orders):
            if order_id <= followed.watermark or order_id in self._claimed:
                continue
            order = state.orders[order_id]
            version = _first_version(state, order_id)
            if version is not None and _matches(request, order, version, state):
                return order_id
        return None

    def _refresh(self, order_ids: set[int], state: TradovateAccountState) -> list[OrderView]:
        fills = _fills_of(state, order_ids)
        views: list[OrderView] = []
        for order_id in sorted(order_ids):
            key = self._by_order.get(order_id)
            followed = None if key is None else self._followed.get(key)
            if key is None or followed is None:
                continue
            view = self._view_of(followed.view, state.orders.get(order_id), fills[order_id])
            if view.status is OrderStatus.REJECTED and view.error is None:
                view = msgspec.structs.replace(view, error=_error_of(state, order_id))
            if view != followed.view:
                views += self._settle(key, view)
        return views

    @staticmethod
    def _view_of(view: OrderView, order: Order | None, fills: list[OrderFill]) -> OrderView:
        status = view.status
        if order is not None:
            status = _STATUSES.get(order.ord_status, OrderStatus.WORKING)
        return msgspec.structs.replace(view, status=status, fills=tuple(fills))

    def _forget(self, followed: _Followed) -> None:
        if followed.view.order_id is not None:
            self._by_order.pop(followed.view.order_id, None)


def _matches(
    request: TradovateOrderRequest,
    order: Order,
    version: OrderVersion,
    state: TradovateAccountState,
) -> bool:
    """Whether an order of the list is what ``request`` asked for."""
    if order.action.value != request.action:
        return False
    if request.account_id is not None and order.account_id != request.account_id:
        return False
    if request.account_spec is not None:
        account = state.accounts.get(order.account_id)
        if account is not None and account.name != request.account_spec:
            return False
    if isinstance(request.symbol, int) and order.contract_id != request.symbol:
        return False
    if isinstance(request.symbol, str):
        contract = state.contracts.get(order.contract_id or 0)
        if contract is not None and contract.name != request.symbol:
            return False
    return (
        version.order_qty == request.order_qty
        and version.order_type.value == request.order_type
        and version.price == request.price
        and version.stop_price == request.stop_price
    )
