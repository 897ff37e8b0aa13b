"""A cTrader client's account state and order handles, kept inside its engine.

With ``track_state``, each account, once authorized (by the caller, after a reconnect, or again
after ``ProtoOAAccountDisconnectEvent``), gets a snapshot: ``ProtoOATraderReq`` and
``ProtoOAReconcileReq``, and ``ProtoOAOrderListReq`` over the time its followed orders were
sent when it has some (an order whose answer, or whose last execution, was lost with the link
is found there). That time runs from the oldest order still followed (a resting order may be
days old) and may hold more orders than one answer gives: the list is read page by page,
following ``hasMore``, by the core's ``order_pager``. The parts belong to the account's epoch
(``SnapshotGate``): an answer of an earlier epoch is dropped, so a state never mixes two.
Execution, order-error, margin and trader events that come before the snapshot is complete are
held by the reducer and replayed on top of it; those after it are applied as they come. The
differences go out as change events, then ``AccountSynced``. A snapshot that fails (a part
refused, not answered in time, or one the model refuses) is taken again on the same link after
a growing wait (``untold_wait``: 1 s doubling up to a minute), a new epoch each time, while the
account stays authorized: else its state would stay stale, and its handles unresolved, until it
was authorized again. Handles follow their orders through ``CTraderOrderTracker``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
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
from brokerwire.core.ctrader.history import HistoryPager, order_pager
from brokerwire.core.ctrader.models import OpenApiMessage, Order
from brokerwire.core.ctrader.orders import CTraderOrderTracker
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.orders import OrderView, SnapshotGate

from ..events import AccountSynced, UnknownOrder
from ..reconnect import untold_wait
from .tracking import HandleSink
from .tradovate_state import SNAPSHOT_TIMEOUT

if TYPE_CHECKING:
    from .ctrader import CTraderCall, CTraderEngine

__all__ = ["CTraderTracking", "new_client_order_id", "transient"]

_PARTS = frozenset({"trader", "reconcile"})
_REQUESTS = {
    "trader": PayloadType.PROTO_OA_TRADER_REQ,
    "reconcile": PayloadType.PROTO_OA_RECONCILE_REQ,
}
#: How far around the send times of unknown orders the order list looks (ms).
_MARGIN_MS = 60_000


# Error codes that ask the client to wait, not to give up: rate limits and an unavailable server.
_TRANSIENT_ERRORS = frozenset(
    {
        "BLOCKED_PAYLOAD_TYPE",
        "REQUEST_FREQUENCY_EXCEEDED",
        "CH_SERVER_NOT_REACHABLE",
        "SERVER_IS_UNDER_MAINTENANCE",
        "CANT_ROUTE_REQUEST",
    }
)


def transient(event: Any) -> bool:
    """Whether an answer refused its request for now only (an authorization, a snapshot's
    part): it is asked again once the wait is over."""
    return type(event) is ErrorResponse and (
        event.retry_after is not None or event.error_code in _TRANSIENT_ERRORS
    )


def new_client_order_id() -> str:
    """A ``clientOrderId`` for an order placed with a handle when the caller gave none."""
    return f"bw-{uuid.uuid4().hex[:24]}"


class _OrderList:
    """One snapshot's order list, read page by page."""

    __slots__ = ("account", "epoch", "orders", "pager", "request")

    def __init__(self, account: int, epoch: int, pager: HistoryPager[Order]) -> None:
        self.account = account
        self.epoch = epoch
        self.pager = pager
        self.orders: list[Order] = []
        #: The page asked for last, asked again when it is refused for now.
        self.request: OpenApiMessage | None = None


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
        self._failures: dict[int, int] = {}  # snapshots in a row that failed, by account

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
        for part in sorted(_PARTS):
            self._ask(account, epoch, part, now)
        if followed:
            self._ask_page(self._order_list(account, epoch), now)

    def _order_list(self, account: int, epoch: int) -> _OrderList:
        now_ms = int(time.time() * 1000)
        start = min(self._sent_ms.values(), default=now_ms)
        pager = order_pager(account, max(0, start - _MARGIN_MS), now_ms + _MARGIN_MS)
        return _OrderList(account, epoch, pager)

    def _ask(self, account: int, epoch: int, part: str, now: float | None) -> None:
        """Ask for the trader or the reconcile answer, while ``epoch`` is the account's."""
        conn = self.engine.conn
        if conn is not None and self.gate.current(account) == epoch:
            payload = {"ctidTraderAccountId": account}
            request_id = conn.request(_REQUESTS[part], payload, timeout=SNAPSHOT_TIMEOUT, now=now)
            self.engine.wait_internal(request_id, partial(self._part, account, epoch, part))

    def _ask_page(self, reading: _OrderList, now: float | None) -> None:
        """The next page of the order list, or, once every page is in, the part complete."""
        reading.request = reading.pager.next_request()
        if reading.request is None:
            self._take(reading.account, reading.epoch, "orders", reading.orders)
        else:
            self._send_page(reading, now)

    def _send_page(self, reading: _OrderList, now: float | None) -> None:
        conn, request = self.engine.conn, reading.request
        current = self.gate.current(reading.account) == reading.epoch
        if conn is not None and request is not None and current:
            request_id = conn.request(request, timeout=SNAPSHOT_TIMEOUT, now=now)
            self.engine.wait_internal(request_id, partial(self._page, reading))

    def _page(self, reading: _OrderList, event: Any, now: float) -> None:
        again = partial(self._send_page, reading)
        message = self._answer_of(reading.account, reading.epoch, event, again, now)
        if message is None:
            return
        try:
            reading.orders.extend(reading.pager.take(message))
        except RemoteProtocolError:
            self._failed(reading.account, reading.epoch, event, now)
            return
        self._ask_page(reading, now)

    def _part(self, account: int, epoch: int, part: str, event: Any, now: float) -> None:
        again = partial(self._ask, account, epoch, part)
        message = self._answer_of(account, epoch, event, again, now)
        if message is not None:
            self._take(account, epoch, part, message)

    def _answer_of(
        self, account: int, epoch: int, event: Any, again: Callable[[float], None], now: float
    ) -> Any:
        """A snapshot part's answer, typed; None when there is none: asked ``again`` once the
        server's wait is over when it refused for now (a rate limit), else the snapshot is
        given up and taken again later (``_failed``)."""
        if type(event) is Response:
            try:
                return event.message
            except ValueError:
                pass
        elif transient(event) and self.gate.current(account) == epoch:
            what = f"the snapshot of account {account} was refused for now"
            self.engine.retry_later(
                ("snapshot", account, again), event.retry_after, now, again, what
            )
            return None
        self._failed(account, epoch, event, now)
        return None

    def _failed(self, account: int, epoch: int, event: Any, now: float) -> None:
        """The epoch ends without a snapshot: the events held for it are dropped (the next
        snapshot holds what they told) and a new one is taken after a wait."""
        if self.gate.current(account) != epoch:
            return
        self.gate.lost(account)
        self.states[account].begin_resync()
        failures = self._failures.get(account, 0)
        self._failures[account] = failures + 1
        what = f"the snapshot of account {account} failed ({event!r})"
        again = partial(self._snapshot_again, account)
        self.engine.retry_on_link(("resnapshot", account), untold_wait(failures), now, again, what)

    def _snapshot_again(self, account: int, now: float) -> None:
        """The retry of a failed snapshot, while the account is authorized on this link and no
        other snapshot began meanwhile."""
        conn, state = self.engine.conn, self.states.get(account)
        if conn is None or state is None or account not in conn.authorized_accounts:
            return
        if not state.synced and self.gate.current(account) is None:
            self.take_snapshot(account, now)

    def _take(self, account: int, epoch: int, part: str, value: Any) -> None:
        parts = self.gate.take(account, epoch, part, value)
        if parts is not None:
            self._apply(account, epoch, parts)

    def _apply(self, account: int, epoch: int, parts: Mapping[str, Any]) -> None:
        reconcile = parts["reconcile"]
        snapshot = CTraderSnapshot.of(parts["trader"], reconcile)
        self._failures.pop(account, None)
        for change in self.states[account].apply_snapshot(snapshot):
            self.engine.emit(change)
        if "orders" in parts:
            held = [*reconcile.order, *parts["orders"]]
            self._push(self.orders.resolve(account, held))
        self.engine.emit(AccountSynced(account, epoch))

    def lost(self) -> None:
        """The link went down: every account starts a new epoch; unanswered orders are
        unknown."""
        for account, state in self.states.items():
            state.begin_resync()
            self.gate.lost(account)
        self._failures.clear()
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
        its events for until the snapshot is taken again."""
        for account, state in self.states.items():
            if state.synced or self.gate.current(account) is not None:
                for change in state.apply(event):
                    self.engine.emit(change)
        self._push(self.orders.apply(event))

    # -- handles -------------------------------------------------------------------------------

    def new_key(self) -> int:
        return next(self._keys)

    def place(self, key: int, call: CTraderCall, sink: HandleSink, now: float) -> None:
        """Send a new-order ``call`` (with its ``clientOrderId``) for the handle ``sink``."""
        payload = call.payload or {}
        engine = self.engine
        self.orders.check_new(payload["clientOrderId"])
        request_id = engine.send(call, now)  # first: a request the core refuses has no handle
        self.orders.sent(key, payload["ctidTraderAccountId"], payload["clientOrderId"])
        self._sinks[key] = sink
        self._sent_ms[key] = int(time.time() * 1000)
        account = payload["ctidTraderAccountId"]
        engine.wait_internal(request_id, partial(self._answered, key, account))
        engine.remember_order(request_id, UnknownOrder(request_id, call.name, call.sent_body))

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
