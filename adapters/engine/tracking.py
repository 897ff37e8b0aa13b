"""What the account-state parts of both engines share: the handle they tell, and when an
order may go out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderStatus, OrderView

from ..errors import ConnectionLost
from .client_engine import Phase

__all__ = ["HandleSink", "OrderPlacing", "ensure_sendable", "track_order"]


class HandleSink(Protocol):
    """What the engine tells an order handle (``adapters.order_handles``)."""

    def _update(self, view: OrderView) -> None: ...
    def _end(self) -> None: ...


def ensure_sendable(phase: Phase, tracking: Any, call: Any) -> None:
    """Refuse an order with a handle that cannot go out now, as ``submit`` refuses a request."""
    if tracking is None:
        raise LocalProtocolError("order handles need the client made with track_state=True")
    if phase in (Phase.CLOSING, Phase.CLOSED):
        raise LocalProtocolError("the client is closed")
    if phase is not Phase.READY:
        raise ConnectionLost(
            f"not connected ({phase.value}): the order was not sent",
            request=call.name,
            request_id=None,
            outcome_unknown=False,
        )


class OrderPlacing(Protocol):
    """What each broker's tracking does for a new order with a handle."""

    def new_key(self) -> int: ...
    def place(self, key: int, call: Any, sink: HandleSink, now: float) -> None: ...


def track_order(
    phase: Phase,
    tracking: OrderPlacing | None,
    call: Any,
    make_handle: Callable[[OrderView], HandleSink],
    now: float,
) -> HandleSink:
    """Send a placing ``call`` through ``tracking`` and return the handle ``make_handle`` makes
    for it; refused at once when it cannot go out now (``ensure_sendable``)."""
    ensure_sendable(phase, tracking, call)
    assert tracking is not None
    key = tracking.new_key()
    handle = make_handle(OrderView(key, OrderStatus.SENT))
    tracking.place(key, call, handle, now)
    return handle
