"""What the account-state parts of both engines share: the handle they tell, and when an
order may go out."""

from __future__ import annotations

from typing import Any, Protocol

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderView

from ..errors import ConnectionLost
from .client_engine import Phase

__all__ = ["HandleSink", "ensure_sendable"]


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
