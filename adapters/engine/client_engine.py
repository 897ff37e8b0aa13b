"""Everything a client does that is not I/O, shared by the threaded and the asyncio adapter.

An adapter owns a socket, a clock and a way to wait; the engine owns the rest: it makes a core
connection for each socket, authorizes it, restores the subscriptions after a reconnect, hands
every request's outcome to whoever waits for it, turns the core's ``Closed`` into the user's
``Disconnected``, and says when to try again. The adapter calls ``begin`` once a socket is up,
then ``feed``/``timer`` with bytes and times, sends ``data_to_send()``, waits until
``next_deadline()``, and delivers the events those calls return.

Phases: IDLE (nothing yet) -> CONNECTING (a socket is up; handshake and authorization run) ->
READY -> DOWN (the link went down; the adapter waits ``next_delay()`` and connects again) or
CLOSING (``close()`` was called) -> CLOSED.
"""

from __future__ import annotations

import enum
import logging
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from brokerwire.core.transport import Closed, Connection

from ..endpoint import Endpoint
from ..errors import ConnectError, ConnectionLost, RequestError, RequestTimeout
from ..events import Disconnected, Reconnected, ReconnectFailed, UnknownOrder
from ..reconnect import ReconnectPolicy

__all__ = [
    "Call",
    "ClientEngine",
    "CoreConnection",
    "EventCallback",
    "OnFull",
    "OnReceived",
    "Phase",
    "Settable",
]

log = logging.getLogger("brokerwire.client")


EventCallback = Callable[[Any], object]
#: Called with the bytes of each read, as read, and the number of the connection they came on
#: (1 for the first, 2 after the first reconnect...), before the client decodes them.
OnReceived = Callable[[bytes, int], object]
#: What a full event queue does: conflate market data and keep reading, or pause reading.
OnFull = Literal["conflate", "pause"]


class Phase(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    READY = "ready"
    DOWN = "down"
    CLOSING = "closing"
    CLOSED = "closed"


class Settable(Protocol):
    """What the engine needs of a future: ``concurrent.futures.Future`` and ``asyncio.Future``
    both fit."""

    def done(self) -> bool: ...
    def set_result(self, result: Any, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...


class CoreConnection(Connection, Protocol):
    """The connection contract of the core's client connections: ``core.transport.Connection``
    with the clients' extras. The engine asks where a connection is through ``opened``,
    ``closing`` and ``closed`` only, and never calls into a connection while one of its event
    generators is suspended: ``receive_events`` is drained before any event is acted on."""

    def receive_events(self, data: bytes, now: float) -> Iterator[Any]: ...
    def peer_alive(self, now: float) -> None: ...
    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None: ...


class Call(Protocol):
    """A request as the helpers describe it, before it goes to the core."""

    @property
    def name(self) -> str: ...
    @property
    def is_order(self) -> bool: ...
    @property
    def sent_body(self) -> Any: ...


ConnT = TypeVar("ConnT", bound=CoreConnection)
CallT = TypeVar("CallT", bound=Call)


def unanswered(
    call: Call, event: Any, request_id: Any, *, timed_out: bool, outcome_unknown: bool
) -> RequestError:
    """The error for a request that got no answer: ``event`` is its core's timeout
    (``timed_out``) or the failure its closing connection gave it."""
    if timed_out:
        return RequestTimeout(
            f"no answer to {call.name} within {event.timeout:g} s",
            request=call.name,
            request_id=request_id,
            outcome_unknown=outcome_unknown,
            event=event,
        )
    return ConnectionLost(
        event.reason,
        request=call.name,
        request_id=request_id,
        outcome_unknown=outcome_unknown,
        event=event,
    )


Outcome = Callable[[Any, float], None]


class _Waiter:
    """Who waits for one request's outcome: a caller's future, or the engine itself."""

    __slots__ = ("call", "future", "on_outcome")

    def __init__(self, on_outcome: Outcome, future: Settable | None, call: Call | None) -> None:
        self.on_outcome = on_outcome
        self.future = future
        self.call = call


class ClientEngine(Generic[ConnT, CallT]):
    """The life of one client's connections; subclasses add one broker's authorization,
    request sending and outcome mapping.

    A subclass names the core's event classes below and says, in ``request_id_of``, where an
    outcome event holds its request id.
    """

    #: The core's outcome event classes: each request gets exactly one of them.
    outcome_types: ClassVar[frozenset[type]]
    #: The core's event for "the transport is open" (over TCP it is open at once, and the
    #: engine learns it from ``opened`` when the connection is made).
    opened_type: ClassVar[type]
    #: The core's outcome event for "the connection closed before the answer came".
    failed_type: ClassVar[type]
    #: Events ``observe`` must see on their way to the caller.
    watched_types: ClassVar[frozenset[type]] = frozenset()
    #: The event types ``divert`` may take (in part) off the caller's events.
    diverted_types: ClassVar[frozenset[type]] = frozenset()

    def __init__(self, endpoint: Endpoint, *, reconnect: ReconnectPolicy | None) -> None:
        self.endpoint = endpoint
        self.reconnect = reconnect
        self.phase = Phase.IDLE
        self.conn: ConnT | None = None
        self.attempts = 0
        #: Connections made so far: the number ``on_received`` gives with each read.
        self.connections = 0
        #: The caller's hook for the bytes of each read (the ``on_received`` client option).
        self.on_received: OnReceived | None = None
        self._waiting: dict[Any, _Waiter] = {}
        self._orders: dict[Any, UnknownOrder] = {}
        self._unknown: list[UnknownOrder] = []
        self._out: list[Any] = []
        self._connected: Settable | None = None
        self._refusal: ConnectError | None = None
        self._ever_ready = False

    # -- what a broker adds ------------------------------------------------------------------------

    def make_connection(self) -> ConnT:
        raise NotImplementedError

    def on_open(self, now: float) -> None:
        """The transport is open: start authorizing (``authorized`` when done)."""
        raise NotImplementedError

    def send(self, call: CallT, now: float) -> Any:
        """Hand ``call`` to the core; returns the request id."""
        raise NotImplementedError

    def request_id_of(self, outcome: Any) -> Any:
        """The request id an outcome event (one of ``outcome_types``) answers."""
        raise NotImplementedError

    def result(self, call: CallT, event: Any) -> Any:
        """The caller's result for the outcome ``event``, or raise the matching RequestError."""
        raise NotImplementedError

    def was_sent(self, failed: Any) -> bool:
        """Whether a request that failed with the closing connection had left."""
        return True

    def withdraw(self, request_id: Any) -> bool:
        """Take back a request that has not left yet; True when it was."""
        return False

    def observe(self, event: Any, now: float) -> None:
        """See an event on its way to the caller (for state the engine keeps across links)."""

    def divert(self, event: Any) -> Any:
        """What of ``event`` goes on to the caller: all of it (by default), part, or None when
        something inside the client takes it (a chart history collecting its bars)."""
        return event

    def link_lost(self) -> None:
        """The link went down: whatever waits inside the client for more of it is told."""

    def token_renewed(self, token: str, now: float) -> list[Any]:
        """A login the client takes its token from renewed it; returns events for the caller.
        By default nothing more: the next connection reads the new token from the login."""
        return []

    def close_core(self, now: float) -> None:
        """Begin closing the core connection, unless it is closing or closed already."""
        conn = self.conn
        assert conn is not None
        if not (conn.closing or conn.closed):
            conn.close(now=now)

    # -- for subclasses ----------------------------------------------------------------------------

    def wait_internal(self, request_id: Any, on_outcome: Outcome) -> None:
        self._waiting[request_id] = _Waiter(on_outcome, None, None)

    def emit(self, event: Any) -> None:
        self._out.append(event)

    def remember_order(self, request_id: Any, order: UnknownOrder) -> None:
        """An order the engine sent for itself: listed in ``Disconnected`` if its answer is lost."""
        self._orders[request_id] = order

    def authorized(self, resubscribed: int) -> None:
        """Authorization (and resubscription) is done: the link is READY."""
        self.phase = Phase.READY
        log.info("ready on %s (%d subscriptions restored)", self.endpoint.display(), resubscribed)
        if self._connected is not None:
            connected, self._connected = self._connected, None
            if not connected.done():
                connected.set_result(None)
        elif self._ever_ready:
            self._out.append(Reconnected(self.attempts, resubscribed))
        self._ever_ready = True
        self.attempts = 0

    def refused(self, error: ConnectError, now: float) -> None:
        """The broker refused the credentials: end this connection and do not retry."""
        self._refusal = error
        self.close_core(now)

    # -- for the adapter ---------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.phase is Phase.READY

    @property
    def finished(self) -> bool:
        """The client is closed for good: the adapter stops."""
        return self.phase is Phase.CLOSED

    @property
    def link_down(self) -> bool:
        """The current core connection has ended: the adapter drops its socket."""
        return self.phase in (Phase.DOWN, Phase.CLOSED) or (
            self.conn is not None and self.conn.closed
        )

    def expect(self, connected: Settable) -> None:
        """The first connection's outcome goes to ``connected``: None once READY, or the
        ConnectError that stopped it. Reconnects report through events instead."""
        if self.phase is not Phase.IDLE:
            raise LocalProtocolError(f"cannot connect: the client is {self.phase.value}")
        self._connected = connected

    def begin(self, now: float) -> list[Any]:
        """A socket is up: make its core connection; returns the events for the caller (a
        session that is ready at once, as cTrader over TCP without an application to
        authorize, says ``Reconnected`` here)."""
        if self.phase not in (Phase.IDLE, Phase.DOWN):
            raise LocalProtocolError(f"cannot connect: the client is {self.phase.value}")
        conn = self.conn = self.make_connection()
        self.connections += 1
        self.phase = Phase.CONNECTING
        log.debug("connected to %s; opening the session", self.endpoint.display())
        self._waiting.clear()
        self._orders.clear()
        self._refusal = None
        self._out = []
        if conn.opened:
            self._guarded(self.on_open, now)
        return self._out

    def feed(self, data: bytes, now: float) -> list[Any]:
        """Bytes from the socket (``b""`` at its end); returns the events for the caller."""
        self._out = []
        if self.conn is not None:
            if data and self.on_received is not None:
                self._report_received(data)
            self._guarded(self._receive, data, now)
        return self._out

    def timer(self, now: float, *, reading_paused: bool = False) -> list[Any]:
        """Run the core's timers. While the adapter does not read (a slow consumer), the
        watchdog is told the silence is ours."""
        self._out = []
        if self.conn is not None:
            self._guarded(self._run_timers, now, reading_paused)
        return self._out

    def data_to_send(self) -> bytes:
        return self.conn.data_to_send() if self.conn is not None else b""

    def next_deadline(self) -> float | None:
        return self.conn.next_deadline() if self.conn is not None else None

    def attempt_failed(self, error: BaseException) -> list[Any]:
        """The socket could not be made (refused, name lookup, TLS, timeout)."""
        self._out = []
        message = f"cannot connect to {self.endpoint.display()}: {describe(error)}"
        log.info("%s", message)
        self.conn = None
        if self._connected is not None:
            connected, self._connected = self._connected, None
            self.phase = Phase.CLOSED
            failure = ConnectError(message)
            failure.__cause__ = error
            if not connected.done():
                connected.set_exception(failure)
        elif self.phase is not Phase.CLOSED:
            self.phase = Phase.DOWN
        return self._out

    def next_delay(self) -> float | None:
        """How long to wait before the next connection attempt; None when there is none."""
        if self.phase is not Phase.DOWN or self.reconnect is None:
            return None
        delay = self.reconnect.delay(self.attempts + 1)
        if delay is not None:
            self.attempts += 1
        return delay

    def close(self, now: float) -> list[Any]:
        """The caller closes the client: end the link; requests fail as it closes."""
        self._out = []
        if self.phase in (Phase.CONNECTING, Phase.READY) and self.conn is not None:
            self.phase = Phase.CLOSING
            if not (self.conn.closing or self.conn.closed):
                self._guarded(self.close_core, now)
            if self.conn is None or self.conn.closed:
                self.phase = Phase.CLOSED
        elif self.phase is not Phase.CLOSING:
            self.phase = Phase.CLOSED
        return self._out

    def finish(self, reason: str) -> list[Any]:
        """The adapter stops: fail whatever still waits, and say why reconnecting ended."""
        self._out = []
        if self.phase is Phase.DOWN:
            self._out.append(ReconnectFailed(self.attempts, reason))
        self.phase = Phase.CLOSED
        if self._connected is not None:
            connected, self._connected = self._connected, None
            if not connected.done():
                connected.set_exception(ConnectError(reason))
        self._fail_waiting(reason)
        return self._out

    def submit(self, call: CallT, future: Settable, now: float) -> Any:
        """Send a caller's request; ``future`` gets its result or its RequestError."""
        if self.phase in (Phase.CLOSING, Phase.CLOSED):
            raise LocalProtocolError("the client is closed")
        if self.phase is not Phase.READY:
            raise ConnectionLost(
                f"not connected ({self.phase.value}): the request was not sent",
                request=call.name,
                request_id=None,
                outcome_unknown=False,
            )
        request_id = self.send(call, now)
        log.debug("request %r sent as %r", call, request_id)
        self._waiting[request_id] = _Waiter(partial(self._settle, future, call), future, call)
        if call.is_order:
            self._orders[request_id] = UnknownOrder(request_id, call.name, call.sent_body)
        return request_id

    def forget(self, request_id: Any) -> None:
        """The caller stopped waiting (a cancelled task or future). A request the core still
        holds back is taken back; the outcome of one already sent is dropped when it comes."""
        if self._waiting.pop(request_id, None) is not None and self.withdraw(request_id):
            self._orders.pop(request_id, None)

    # -- internals ---------------------------------------------------------------------------------

    def _receive(self, data: bytes, now: float) -> None:
        """Decode every event of ``data``, then act on them: acting may call into the
        connection (authorize, resubscribe), which must not happen while its generator is
        suspended. Should decoding fail inside the core, the events before still count."""
        assert self.conn is not None
        events: list[Any] = []
        try:
            events.extend(self.conn.receive_events(data, now))
        finally:
            self._process(events, now)

    def _report_received(self, data: bytes) -> None:
        assert self.on_received is not None
        try:
            self.on_received(data, self.connections)
        except Exception:
            log.exception("the on_received callback raised")

    def _run_timers(self, now: float, reading_paused: bool) -> None:
        assert self.conn is not None
        if reading_paused:
            self.conn.peer_alive(now)
        self._process(self.conn.handle_timer(now), now)

    def _guarded(self, step: Callable[..., None], *args: Any) -> None:
        """Run one step of driving the core. Whatever it raises (a fault of the core, never of
        the caller) fails the link as if the peer had broken it: the events it gave before are
        kept, the requests waiting fail with their outcome unknown, and the usual reconnect
        follows. The adapter never dies of the core."""
        try:
            step(*args)
        except Exception as exc:
            self._core_failed(exc)

    def _core_failed(self, exc: Exception) -> None:
        log.error(
            "the connection to %s failed inside brokerwire; dropping the link",
            self.endpoint.display(),
            exc_info=exc,
        )
        detail = str(exc)
        if len(detail) > 200:
            detail = detail[:200] + "..."
        reason = f"internal error while handling the connection: {type(exc).__name__}: {detail}"
        error = RemoteProtocolError(reason)
        error.__cause__ = exc
        self.conn = None
        self._unknown.extend(self._orders.values())
        self._orders.clear()
        self._fail_waiting(reason)
        self._link_closed(Closed(None, reason, error))

    def _fail_waiting(self, reason: str) -> None:
        """Every request still waiting for its outcome ends with ``ConnectionLost``."""
        waiting, self._waiting = self._waiting, {}
        for request_id, waiter in waiting.items():
            if waiter.future is not None and not waiter.future.done() and waiter.call:
                waiter.future.set_exception(
                    ConnectionLost(
                        reason,
                        request=waiter.call.name,
                        request_id=request_id,
                        outcome_unknown=True,
                    )
                )

    def _settle(self, future: Settable, call: CallT, event: Any, now: float) -> None:
        if future.done():
            return
        try:
            value = self.result(call, event)
        except RequestError as exc:
            future.set_exception(exc)
        else:
            future.set_result(value)

    def _process(self, events: Iterable[Any], now: float) -> None:
        outcomes = self.outcome_types
        out = self._out
        for event in events:
            kind = type(event)
            if kind in outcomes:
                request_id = self.request_id_of(event)
                if self._orders:
                    order = self._orders.pop(request_id, None)
                    if order is not None and kind is self.failed_type and self.was_sent(event):
                        self._unknown.append(order)
                waiter = self._waiting.pop(request_id, None)
                if waiter is not None:
                    waiter.on_outcome(event, now)
                else:
                    log.debug("dropped the outcome of request %r: nobody waits for it", request_id)
            elif kind is Closed:
                self._link_closed(event)
            elif kind is self.opened_type:
                self.on_open(now)
            else:
                delivered = self.divert(event) if kind in self.diverted_types else event
                if delivered is None:
                    continue
                out.append(delivered)
                if kind in self.watched_types:
                    self.observe(delivered, now)

    def _link_closed(self, closed: Closed) -> None:
        self.link_lost()
        unknown = tuple(self._unknown)
        self._unknown.clear()
        self._orders.clear()
        self._waiting.clear()
        phase = self.phase
        if phase is Phase.CLOSING or phase is Phase.CLOSED:
            self.phase = Phase.CLOSED
            return
        if phase is Phase.CONNECTING:
            error = self._refusal or ConnectError(
                f"the connection to {self.endpoint.display()} ended before it was ready: "
                + (closed.reason or f"code {closed.code}")
            )
            if self._connected is not None:
                connected, self._connected = self._connected, None
                self.phase = Phase.CLOSED
                if not connected.done():
                    connected.set_exception(error)
            elif self._refusal is not None:
                self.phase = Phase.CLOSED
                self._out.append(ReconnectFailed(self.attempts, str(error), self._refusal))
            else:
                log.info("%s", error)
                self.phase = Phase.DOWN
            return
        reconnecting = self.reconnect is not None
        self.phase = Phase.DOWN if reconnecting else Phase.CLOSED
        reason = closed.reason or f"the connection closed (code {closed.code})"
        log.warning("disconnected from %s: %s", self.endpoint.display(), reason)
        self._out.append(Disconnected(closed.code, reason, closed.error, unknown, reconnecting))


def describe(error: BaseException) -> str:
    """One line on why a connection attempt failed, for people rather than programs."""
    if isinstance(error, socket.gaierror):
        return f"the host name could not be resolved ({error.strerror or error})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed ({error.verify_message or error.reason})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(error, TimeoutError):
        return str(error) or "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[0].lower() + error.strerror[1:]
    return str(error) or type(error).__name__
