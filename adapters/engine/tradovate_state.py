"""A Tradovate client's account state and order handles, kept inside its engine.

With ``track_state``, every connection, once authorized, asks ``user/syncrequest`` and is
READY only once the answer is in: the first snapshot fills the state, each later one (after a
reconnect) is compared with what was held and the differences go out as change events, then
``AccountSynced``, then ``Reconnected``. ``props`` events that come before the answer are held
by the reducer and replayed on top of it; those after it are applied as they come; an answer
of an earlier link (a sync asked before the link dropped again) is dropped by its epoch number.
Handles follow their orders through ``TradovateOrderTracker``; a handle whose answer was lost
is resolved by the next snapshot, taken at once (a new epoch on the same link) when the answer
timed out while the link stayed up. A sync that ends without a snapshot (a refusal, no answer
in time, an answer the model refuses) is asked again on the same link after a growing wait
(``untold_wait``: 1 s doubling up to a minute), each time a new epoch, until one is taken: else
the state would stay stale, and its handles unresolved, until the link dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from brokerwire.core.orders import OrderView, SnapshotGate
from brokerwire.core.tradovate import Penalty, RateLimited, Response
from brokerwire.core.tradovate.account import TradovateAccountState, TradovateStateSnapshot
from brokerwire.core.tradovate.messages import SYNC_ENDPOINT
from brokerwire.core.tradovate.models import SyncSnapshot
from brokerwire.core.tradovate.orders import TradovateOrderRequest, TradovateOrderTracker

from ..errors import RequestError, RequestRefused, RequestTimeout, Throttled
from ..events import AccountSynced, UnknownOrder
from ..reconnect import untold_wait
from .tracking import HandleSink

if TYPE_CHECKING:
    from .tradovate import TradovateCall, TradovateEngine

__all__ = ["TradovateTracking"]


def order_id_of(value: Any) -> int | None:
    """The ``orderId`` of a place-order answer, typed or not."""
    order_id = value.get("orderId") if isinstance(value, dict) else getattr(value, "order_id", None)
    return order_id if type(order_id) is int else None


def snapshot_of(event: Any) -> SyncSnapshot | None:
    """The snapshot a sync answer holds: the connection types every answer that fits the
    model. Anything else (a refusal's ``errorText``, a failure, an answer the model refuses) is
    None: it is not read as an empty snapshot, which would wipe the state."""
    data = event.data if type(event) is Response else None
    return data if isinstance(data, SyncSnapshot) else None


#: How long a snapshot may take: longer than an ordinary request, as a slow answer only delays
#: it, while giving up leaves the state unsynced until the next link.
SNAPSHOT_TIMEOUT = 60.0


def _nothing() -> None:
    """What a sync asked on a ready link does once answered: nothing more."""


class TradovateTracking:
    """The state, the handles and the sync of one Tradovate client."""

    def __init__(self, engine: TradovateEngine, user_id: int) -> None:
        self.engine = engine
        self.user_id = user_id
        self.state = TradovateAccountState()
        self.orders = TradovateOrderTracker()
        #: The epochs of the user's snapshots: an answer of an earlier one is dropped.
        self.gate: SnapshotGate[int] = SnapshotGate(frozenset({"sync"}))
        self._sinks: dict[int, HandleSink] = {}
        self._keys = itertools.count(1)
        self._failures = 0  # syncs in a row that ended without a snapshot, on this link

    def snapshot(self) -> TradovateStateSnapshot:
        return self.state.snapshot()

    # -- the sync ------------------------------------------------------------------------------

    def sync(self, now: float, then: Callable[[], None]) -> None:
        """Ask for the snapshot of this link's epoch; ``then`` runs once it is answered."""
        epoch = self.gate.begin(self.user_id)
        self._ask(epoch, then, None, now)

    def _ask(self, epoch: int, then: Callable[[], None], ticket: str | None, now: float) -> None:
        """Send the sync of ``epoch`` (with a penalty's ``ticket``), while it is the user's."""
        conn = self.engine.conn
        if conn is None or self.gate.current(self.user_id) != epoch:
            return
        body: dict[str, Any] = {"users": [self.user_id]}
        if ticket is not None:
            body["p-ticket"] = ticket
        request_id = conn.request(SYNC_ENDPOINT, None, body, SNAPSHOT_TIMEOUT, now=now)
        self.engine.wait_internal(request_id, partial(self._synced, epoch, then))

    def _penalized(self, epoch: int, then: Callable[[], None], event: Any, now: float) -> bool:
        """A time penalty or HTTP 429 asks to wait, not to give up: the sync is asked again
        once the wait is over (the penalty's ticket with it). True when it was one."""
        kind = type(event)
        if kind is not Penalty and kind is not RateLimited:
            return False
        told, ticket = (event.retry_after, event.ticket) if kind is Penalty else (None, None)
        again = partial(self._ask, epoch, then, ticket)
        what = "Tradovate answered the account sync with " + (
            "a time penalty" if kind is Penalty else "HTTP 429"
        )
        self.engine.retry_later(("sync", epoch), told, now, again, what)
        return True

    @property
    def awaiting(self) -> bool:
        """A snapshot is asked for and not answered yet: events are held for it."""
        return self.gate.current(self.user_id) is not None

    def _synced(self, epoch: int, then: Callable[[], None], event: Any, now: float) -> None:
        if self.gate.current(self.user_id) != epoch or self._penalized(epoch, then, event, now):
            return  # the answer of an earlier epoch, or asked again later
        self.gate.take(self.user_id, epoch, "sync", event)
        snapshot = snapshot_of(event)
        if snapshot is not None:
            for change in self.state.apply_snapshot(snapshot):
                self.engine.emit(change)
            self._failures = 0
            self._push(self.orders.resynced(self.state))
            self.engine.emit(AccountSynced(None, epoch))
        else:
            self._sync_failed(event, now)
        then()

    def _sync_failed(self, event: Any, now: float) -> None:
        """No snapshot: events held for it are dropped (the next snapshot holds what they
        told, and replaying them on it could undo later changes) and it is asked again."""
        self.state.begin_resync()
        wait = untold_wait(self._failures)
        self._failures += 1
        what = f"the account snapshot could not be taken ({event!r})"
        self.engine.retry_on_link("resync", wait, now, self._sync_again, what)

    def _sync_again(self, now: float) -> None:
        """The retry of a failed sync: a new epoch, unless another sync began meanwhile."""
        if self.engine.conn is not None and not (self.state.synced or self.awaiting):
            self.sync(now, _nothing)

    def resync_now(self, now: float) -> None:
        """A new epoch on the same link (an order's answer timed out): a fresh snapshot."""
        if self.engine.conn is None or not self.engine.ready:
            return
        self.state.begin_resync()
        self.sync(now, _nothing)

    def lost(self) -> None:
        """The link went down: a new epoch starts; answers still awaited are unknown."""
        self.state.begin_resync()
        self.gate.lost(self.user_id)
        self._failures = 0
        for key in self.orders.pending():
            self._push(self.orders.lost(key))

    def observe(self, event: Any) -> None:
        if not (self.state.synced or self.awaiting):
            return  # no snapshot to hold it for (the last one failed): its retry syncs
        changes = self.state.apply(event)
        if changes:
            for change in changes:
                self.engine.emit(change)
            self._push(self.orders.changed(self.state, changes))

    # -- handles -------------------------------------------------------------------------------

    def new_key(self) -> int:
        return next(self._keys)

    def place(self, key: int, call: TradovateCall, sink: HandleSink, now: float) -> None:
        """Send a placing ``call`` whose outcome goes to the handle ``sink``."""
        engine = self.engine
        request = TradovateOrderRequest.of(call.body)
        request_id = engine.send(call, now)  # first: a request the core refuses has no handle
        self.orders.sent(key, request, self.state)
        self._sinks[key] = sink
        engine.wait_internal(request_id, partial(self._answered, key, call))
        engine.remember_order(request_id, UnknownOrder(request_id, call.name, call.sent_body))

    def _answered(self, key: int, call: TradovateCall, event: Any, now: float) -> None:
        try:
            value = self.engine.result(call, event)
        except (RequestRefused, Throttled) as exc:
            self._push(self.orders.refused(key, str(exc)))
        except RequestTimeout:
            self._push(self.orders.lost(key))
            self.resync_now(now)  # the link is up: the order list tells at once
        except RequestError:
            self._push(self.orders.lost(key))
        else:
            order_id = order_id_of(value)
            if order_id is None:
                self._push(self.orders.refused(key, "the answer held no orderId"))
            else:
                self._push(self.orders.answered(key, order_id, self.state))

    def _push(self, views: list[OrderView]) -> None:
        for view in views:
            sink = self._sinks.pop(view.key, None) if view.final else self._sinks.get(view.key)
            if sink is not None:
                sink._update(view)

    def closed(self) -> None:
        """The client closed: every handle not final completes as it is."""
        sinks, self._sinks = self._sinks, {}
        for sink in sinks.values():
            sink._end()
