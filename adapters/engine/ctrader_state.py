"""A cTrader client's account state and order handles, kept inside its engine.

With ``track_state``, each account, once authorized (by the caller, after a reconnect, or again
after ``ProtoOAAccountDisconnectEvent``), gets a snapshot: ``ProtoOATraderReq`` and
``ProtoOAReconcileReq``, and ``ProtoOAOrderListReq`` over the time its followed orders were
sent when it has some (an order whose answer, or whose last execution, was lost with the link
is found there). The parts belong to the account's epoch (``SnapshotGate``): an answer of an
earlier epoch is dropped, so a state never mixes two. Execution, order-error, margin and
trader events that come before the snapshot is complete are held by the reducer and replayed
on top of it; those after it are applied as they come. The differences go out as change events,
then ``AccountSynced``. Handles follow their orders through ``CTraderOrderTracker``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from brokerwire.core.ctrader import (
    ErrorResponse,
    PayloadType,
    RequestFailed,
    RequestTimedOut,
    Response,
)
from brokerwire.core.ctrader.account import (
    CTraderAccountSnapshot,
    CTraderAccountState,
    CTraderSnapshot,
)
from brokerwire.core.ctrader.orders import CTraderOrderTracker
from brokerwire.core.orders import OrderView, SnapshotGate

from ..events import AccountSynced, UnknownOrder
from .client_engine import log
from .tracking import HandleSink
from .tradovate_state import SNAPSHOT_TIMEOUT

if TYPE_CHECKING:
    from .ctrader import CTraderCall, CTraderEngine

__all__ = ["CTraderTracking", "new_client_order_id"]

_PARTS = frozenset({"trader", "reconcile"})
_REQUESTS = {
    "trader": PayloadType.PROTO_OA_TRADER_REQ,
    "reconcile": PayloadType.PROTO_OA_RECONCILE_REQ,
    "orders": PayloadType.PROTO_OA_ORDER_LIST_REQ,
}
#: How far around the send times of unknown orders the order list looks (ms).
_MARGIN_MS = 60_000


def new_client_order_id() -> str:
    """A ``clientOrderId`` for an order placed with a handle when the caller gave none."""
    return f"bw-{uuid.uuid4().hex[:24]}"


class CTraderTracking:
    """The states (one per account), the handles and the snapshots of one cTrader client."""

    def __init__(self, engine: CTraderEngine) -> None:
        self.engine = engine
        self.states: dict[int, CTraderAccountState] = {}
        self.orders = CTraderOrderTracker()
        self.gate: SnapshotGate[int] = SnapshotGate(_PARTS)
        self._sinks: dict[int, HandleSink] = {}
        self._sent_ms: dict[int, int] = {}
        self._keys = itertools.count(1)

    def snapshot(self) -> Mapping[int, CTraderAccountSnapshot]:
        """Every synced account's state now, by account id."""
        held = {account: state.snapshot() for account, state in sorted(self.states.items())}
        return MappingProxyType({k: v for k, v in held.items() if v is not None})

    # -- snapshots -----------------------------------------------------------------------------

    def take_snapshot(self, account: int, now: float | None) -> None:
        """``account`` was authorized on this link: ask for its snapshot."""
        conn = self.engine.conn
        if conn is None:
            return
        state = self.states.get(account)
        if state is None:
            state = self.states[account] = CTraderAccountState(account)
        elif state.synced:
            state.begin_resync()
        followed = account in self.orders.followed_accounts()
        parts = _PARTS | {"orders"} if followed else _PARTS
        epoch = self.gate.begin(account, parts)
        for part in sorted(parts):
            payload: dict[str, Any] = {"ctidTraderAccountId": account}
            if part == "orders":
                payload.update(self._order_window())
            request_id = conn.request(_REQUESTS[part], payload, timeout=SNAPSHOT_TIMEOUT, now=now)
            self.engine.wait_internal(request_id, partial(self._part, account, epoch, part))

    def _order_window(self) -> dict[str, int]:
        now_ms = int(time.time() * 1000)
        start = min(self._sent_ms.values(), default=now_ms)
        return {"fromTimestamp": start - _MARGIN_MS, "toTimestamp": now_ms + _MARGIN_MS}

    def _part(self, account: int, epoch: int, part: str, event: Any, now: float) -> None:
        if type(event) is not Response:
            if self.gate.current(account) == epoch:
                log.warning("the snapshot of account %s failed: %r", account, event)
                self.gate.lost(account)
            return
        try:
            message = event.message
        except ValueError:
            log.warning("the snapshot of account %s was not understood", account)
            self.gate.lost(account)
            return
        parts = self.gate.take(account, epoch, part, message)
        if parts is not None:
            self._apply(account, epoch, parts)

    def _apply(self, account: int, epoch: int, parts: Mapping[str, Any]) -> None:
        reconcile = parts["reconcile"]
        snapshot = CTraderSnapshot.of(parts["trader"], reconcile)
        for change in self.states[account].apply_snapshot(snapshot):
            self.engine.emit(change)
        if "orders" in parts:
            held = [*reconcile.order, *parts["orders"].order]
            self._push(self.orders.resolve(account, held))
        self.engine.emit(AccountSynced(account, epoch))

    def lost(self) -> None:
        """The link went down: every account starts a new epoch; unanswered orders are
        unknown."""
        for account, state in self.states.items():
            state.begin_resync()
            self.gate.lost(account)
        for key in self.orders.pending():
            self._push(self.orders.lost(key))

    def account_lost(self, account: int) -> None:
        """The server ended the account's session: a new epoch starts once it is back."""
        state = self.states.get(account)
        if state is not None:
            state.begin_resync()
        self.gate.lost(account)

    def observe(self, event: Any) -> None:
        """An event, or an answer to one of the caller's requests (an execution event). An
        account with no snapshot awaited (the last one failed) is not fed: nothing to hold
        its events for until it is authorized again."""
        for account, state in self.states.items():
            if state.synced or self.gate.current(account) is not None:
                for change in state.apply(event):
                    self.engine.emit(change)
        self._push(self.orders.apply(event))

    # -- handles -------------------------------------------------------------------------------

    def new_key(self) -> int:
        return next(self._keys)

    def place(self, key: int, call: CTraderCall, sink: HandleSink, now: float) -> OrderView:
        """Send a new-order ``call`` (with its ``clientOrderId``) for the handle ``sink``."""
        payload = call.payload or {}
        engine = self.engine
        request_id = engine.send(call, now)  # first: a request the core refuses has no handle
        view = self.orders.sent(key, payload["ctidTraderAccountId"], payload["clientOrderId"])
        self._sinks[key] = sink
        self._sent_ms[key] = int(time.time() * 1000)
        account = payload["ctidTraderAccountId"]
        engine.wait_internal(request_id, partial(self._answered, key, account))
        engine.remember_order(request_id, UnknownOrder(request_id, call.name, call.sent_body))
        return view

    def _answered(self, key: int, account: int, event: Any, now: float) -> None:
        kind = type(event)
        if kind is Response or kind is ErrorResponse:
            self.observe(event)
        if kind is ErrorResponse:
            error = f"{event.error_code}: {event.description}".strip(": ")
            self._push(self.orders.refused(key, error))
        elif kind is RequestFailed and not event.sent:
            self._push(self.orders.not_placed(key, "the link went down before it was sent"))
        elif kind is not Response:
            self._push(self.orders.lost(key))
            if kind is RequestTimedOut and self.engine.ready:
                self.take_snapshot(account, now)  # the link is up: the order list tells now

    def _push(self, views: list[OrderView]) -> None:
        for view in views:
            if view.final:
                sink = self._sinks.pop(view.key, None)
                self._sent_ms.pop(view.key, None)
            else:
                sink = self._sinks.get(view.key)
            if sink is not None:
                sink._update(view)

    def closed(self) -> None:
        """The client closed: every handle not final completes as it is."""
        sinks, self._sinks = self._sinks, {}
        for sink in sinks.values():
            sink._end()
