"""Blocking clients for programs that use threads: ``TradovateClient`` and ``CTraderClient``.

Each client runs one reader thread. It alone touches the socket: it waits in a selector on the
socket and on one end of a socket pair, reads and feeds the core, sends what the core queues,
and fires the core's timers on time. Other threads call into the core under a lock and write a
byte to the socket pair, so that a new request, an earlier deadline or ``close()`` is acted on
at once. Events reach the caller through a bounded queue: ``events()`` takes them from it, or a
dispatcher thread hands them to the ``on_event`` callback, so that a slow callback never holds
up the reader (answers are still read, heartbeats still sent). When the queue is full, market
data is conflated and reading goes on, or with ``on_full="pause"`` the reader stops reading and
the server slows down (see ``engine.event_queue``).

The reader also reconnects: with backoff and jitter, authorizing again and restoring the
subscriptions, with ``Disconnected`` and ``Reconnected`` events to say so.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Self, TypeVar, cast

from brokerwire.core.errors import LocalProtocolError

from .endpoint import Endpoint
from .engine.client_base import ClientBase
from .engine.client_engine import ClientEngine
from .engine.ctrader import CTraderCalls, CTraderEngine
from .engine.ctrader_history import CTraderHistory
from .engine.reconnect_loop import ReconnectLoop, Wait
from .engine.tradovate import TradovateCalls, TradovateEngine
from .engine.tradovate_history import TradovateHistory
from .errors import ConnectError, RequestError
from .logins import CTraderLogin, TradovateLogin
from .order_handles import ThreadedOrderHandle

__all__ = ["CTraderClient", "CTraderLogin", "TradovateClient", "TradovateLogin"]

log = logging.getLogger("brokerwire.threaded")

_READ_SIZE = 256 * 1024
_CLOSE_TIMEOUT = 5.0
#: Stop reading while this much is waiting to be sent: a server that floods pings but does not
#: read our pongs would otherwise grow the outgoing buffer without end.
MAX_UNSENT = 1024 * 1024

_Future = concurrent.futures.Future[Any]  # what request_async gives

EngineT = TypeVar("EngineT", bound=ClientEngine[Any, Any])


def open_socket(
    endpoint: Endpoint, context: ssl.SSLContext | None, timeout: float
) -> socket.socket:
    """A connected (and TLS-wrapped) non-blocking socket; raises OSError or ssl.SSLError."""
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=endpoint.host)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Link:
    """One socket in the reader thread: the bytes left to send, reading that survives TLS's
    buffering, what the selector watches, and the link's own deadlines."""

    def __init__(self, sock: socket.socket, ready_by: float) -> None:
        self.sock = sock
        self.out = bytearray()
        self.broken = False
        #: When the session must be ready (handshake and authorization); None once it is.
        self.ready_by: float | None = ready_by
        #: When to drop a socket whose server has not finished closing.
        self.abort_at: float | None = None
        self.close_sent = False
        self._watched = 0

    @property
    def write_blocked(self) -> bool:
        """Too much waits to be sent: reading stops until the server reads."""
        return len(self.out) > MAX_UNSENT

    def send_some(self) -> None:
        while self.out and not self.broken:
            try:
                sent = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return
            except OSError as exc:
                log.debug("send failed: %s", exc)
                self.broken = True
                return
            del self.out[:sent]

    def receive(self) -> bytes | None:
        """What arrived (``b""`` at the end of the stream), or None when nothing was ready."""
        chunks: list[bytes] = []
        while True:
            try:
                data = self.sock.recv(_READ_SIZE)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except OSError as exc:
                log.debug("receive failed: %s", exc)
                data = b""
            if not data:
                if not chunks:
                    return b""
                break
            chunks.append(data)
            if not self.buffered():
                break
        return b"".join(chunks) if chunks else None

    def buffered(self) -> bool:
        """TLS may hold decrypted bytes that the selector cannot see."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def watch(self, selector: selectors.BaseSelector, *, reading: bool) -> None:
        """Have the selector watch for what this link waits for: bytes to read (when
        ``reading``) and room to write (while bytes wait to be sent)."""
        mask = selectors.EVENT_READ if reading else 0
        if self.out:
            mask |= selectors.EVENT_WRITE
        self._set_watch(selector, mask)

    def unwatch(self, selector: selectors.BaseSelector) -> None:
        self._set_watch(selector, 0)

    def _set_watch(self, selector: selectors.BaseSelector, mask: int) -> None:
        if mask == self._watched:
            return
        if self._watched and mask:
            selector.modify(self.sock, mask)
        elif mask:
            selector.register(self.sock, mask)
        else:
            selector.unregister(self.sock)
        self._watched = mask

    def timeout(self, deadline: float | None, now: float) -> float | None:
        """How long the selector may sleep: until the core's ``deadline`` or the link's own."""
        times = [t for t in (deadline, self.ready_by, self.abort_at) if t is not None]
        return max(0.0, min(times) - now) if times else None


class _ThreadedClient(ClientBase[EngineT]):
    """The reader thread, the queue and the blocking calls; the broker is in the engine."""

    def _setup(self) -> None:
        self._queue = threading.Condition()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._close_requested = False
        self._reconnect_loop = ReconnectLoop(self._engine, self._connect_timeout)

    # -- life ------------------------------------------------------------------------------------

    def connect(self) -> Self:
        """Connect and authorize; returns once ready. Raises ``ConnectError`` (or its
        ``AuthenticationError``) when that fails within ``connect_timeout``."""
        if self._thread is not None:
            raise LocalProtocolError("connect() was already called on this client")
        connected: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(
            target=self._run, args=(connected,), name=f"brokerwire-{type(self).__name__}"
        )
        self._thread.daemon = True
        if self._on_event is not None:
            self._dispatcher = threading.Thread(
                target=self._dispatch, name=f"brokerwire-{type(self).__name__}-events"
            )
            self._dispatcher.daemon = True
            self._dispatcher.start()
        self._thread.start()
        try:
            connected.result(timeout=self._connect_timeout + _CLOSE_TIMEOUT)
        except concurrent.futures.TimeoutError:
            self.close()
            raise ConnectError(
                f"cannot connect to {self._engine.endpoint.display()}: timed out"
            ) from None
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the link and stop the reader; requests still waiting fail with
        ``ConnectionLost``. Safe to call more than once, and from a callback."""
        with self._lock:
            self._close_requested = True
        self._wake()
        thread = self._thread
        if thread is None:
            with self._lock:
                self._engine.finish("the client was closed")
            self._end_queue()
            self._close_wake()
        elif thread is not threading.current_thread():
            thread.join(self._connect_timeout + 2 * _CLOSE_TIMEOUT)
            if thread.is_alive():
                log.warning("the reader thread did not stop in time")
        dispatcher = self._dispatcher
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join(_CLOSE_TIMEOUT)
            if dispatcher.is_alive():
                log.warning("the on_event callback did not return in time")

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- events ----------------------------------------------------------------------------------

    def events(self, timeout: float | None = None, *, conflate: bool = False) -> Iterator[Any]:
        self._refuse_events_with_callback()
        with self._queue:
            self._buffer.conflate_always = conflate
        return self._iterate_events(timeout)

    def _dispatch(self) -> None:
        """The dispatcher thread: the queue's events to the ``on_event`` callback."""
        for event in self._iterate_events(None):
            self._call_back([event])

    def _event_or_end(self) -> bool:
        return bool(self._buffer) or self._buffer.ended

    def _iterate_events(self, timeout: float | None) -> Iterator[Any]:
        while True:
            with self._queue:
                if not self._queue.wait_for(self._event_or_end, timeout):
                    raise TimeoutError(f"no event within {timeout:g} s")
                if not self._buffer:
                    return
                event = self._buffer.pop()
                resume = self._paused and self._buffer.drained
            if resume:
                self._wake()
            yield event

    # -- requests --------------------------------------------------------------------------------

    def _submit(self, call: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            try:
                request_id = self._engine.submit(call, future, time.monotonic())
            except RequestError as exc:
                future.set_exception(exc)
                return future
        future.add_done_callback(partial(self._forget_cancelled, request_id))
        self._wake()
        return future

    def _forget_cancelled(self, request_id: Any, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            with self._lock:
                self._engine.forget(request_id)
            self._wake()

    def _call(self, call: Any) -> Any:
        return self._submit(call).result()

    def _track_order(self, call: Any) -> ThreadedOrderHandle:
        with self._lock:
            engine: Any = self._engine  # a broker engine: both define track_order
            handle = engine.track_order(call, ThreadedOrderHandle, time.monotonic())
        self._wake()
        return cast("ThreadedOrderHandle", handle)

    def _read_state(self, read: Callable[[], Any]) -> Any:
        with self._lock:
            return read()

    # -- the reader thread -----------------------------------------------------------------------

    def _wake(self) -> None:
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")

    def _close_wake(self) -> None:
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def _deliver(self, events: list[Any], nbytes: int = 0) -> None:
        if not events:
            self._buffer.push(events, nbytes)  # a read that completed no event: its bytes wait
            return
        with self._queue:
            self._buffer.push(events, nbytes)
            self._queue.notify_all()

    def _end_queue(self) -> None:
        with self._queue:
            self._buffer.ended = True
            self._queue.notify_all()

    def _run(self, connected: concurrent.futures.Future[None]) -> None:
        """The reader thread: the reconnect loop's steps, carried out with a selector."""
        selector = selectors.DefaultSelector()
        assert self._wake_r is not None
        selector.register(self._wake_r, selectors.EVENT_READ)
        reconnect = self._reconnect_loop
        failure: str | None = None
        try:
            with self._lock:
                reconnect.start(connected)
            for step in reconnect.steps(lambda: self._close_requested):
                if isinstance(step, Wait):
                    self._sleep(selector, step.seconds)
                else:
                    self._connect_and_serve(selector)
        except BaseException:
            log.exception("the reader thread failed")
            failure = "the reader thread failed"
            raise
        finally:
            self._deliver(self._locked(reconnect.finish, failure))
            self._end_queue()
            selector.close()
            self._close_wake()

    def _sleep(self, selector: selectors.BaseSelector, delay: float) -> None:
        """Wait ``delay`` seconds, or less if close() comes first."""
        end = time.monotonic() + delay
        while not self._close_requested:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            if selector.select(remaining):
                self._drain_wake()

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _connect_and_serve(self, selector: selectors.BaseSelector) -> None:
        """One attempt: open a socket and serve it until its link is down."""
        try:
            sock = open_socket(self._engine.endpoint, self._ssl_context, self._connect_timeout)
        except (OSError, ssl.SSLError) as exc:
            self._deliver(self._locked(self._reconnect_loop.connect_failed, exc))
            return
        with sock:
            self._deliver(self._locked(self._engine.begin, time.monotonic()))
            self._serve(selector, _Link(sock, time.monotonic() + self._connect_timeout))

    def _serve(self, selector: selectors.BaseSelector, link: _Link) -> None:
        """Drive one socket until its link is down, or the client closed."""
        try:
            while self._serve_turn(selector, link):
                pass
        finally:
            link.unwatch(selector)

    def _serve_turn(self, selector: selectors.BaseSelector, link: _Link) -> bool:
        """One turn of the reader: send what the core queued, wait for the socket, a wake-up
        or the first deadline, read, then act on the time. False once the link is over."""
        engine = self._engine
        with self._lock:
            link.out += engine.data_to_send()
            deadline = engine.next_deadline()
            down = engine.link_down
        link.send_some()
        if link.broken and not down:
            self._feed(b"")  # the socket broke while sending: for the core, the stream ended
            return True
        if down:
            if not link.out or link.broken:
                return False
            if link.abort_at is None:
                link.abort_at = time.monotonic() + _CLOSE_TIMEOUT
        with self._queue:
            paused = self._paused = self._buffer.full
        may_read = not (paused or down or link.write_blocked)
        self._wait(selector, link, deadline, may_read)
        return self._act_on_time(link, deadline, paused, may_read)

    def _wait(
        self, selector: selectors.BaseSelector, link: _Link, deadline: float | None, may_read: bool
    ) -> None:
        """Sleep in the selector until the socket is ready, a wake-up comes or the first
        deadline passes; then read what arrived, and what TLS holds already decrypted."""
        link.watch(selector, reading=may_read)
        if link.ready_by is not None and not self._reconnect_loop.connecting:
            link.ready_by = None
        timeout = 0.0 if may_read and link.buffered() else link.timeout(deadline, time.monotonic())
        for key, events in selector.select(timeout):
            if key.fileobj is self._wake_r:
                self._drain_wake()
            elif events & selectors.EVENT_READ:
                self._read(link)
        if may_read and link.buffered():
            self._read(link)

    def _act_on_time(
        self, link: _Link, deadline: float | None, paused: bool, may_read: bool
    ) -> bool:
        """Start closing when asked; give up on a server that does not finish closing, or a
        session not ready in time; run the core's timers when due. False once the link is
        over."""
        now = time.monotonic()
        if self._close_requested and not link.close_sent:
            link.close_sent = True
            link.abort_at = now + _CLOSE_TIMEOUT
            self._deliver(self._locked(self._engine.close, now))
        if link.abort_at is not None and now >= link.abort_at:
            log.info("the server did not finish closing in time; dropping the socket")
            self._feed(b"")
            return False
        if link.ready_by is not None and now >= link.ready_by and self._reconnect_loop.connecting:
            self._deliver(self._locked(self._reconnect_loop.not_ready))
            return False
        if deadline is not None and now >= deadline:
            if may_read:
                self._read(link)  # judge the link, not the program: what waits in it counts
                now = time.monotonic()
            # The time is read before the lock: a caller holding the core is no server silence.
            with self._lock:
                events = self._engine.timer(now, reading_paused=paused)
            self._deliver(events)
        return True

    def _read(self, link: _Link) -> None:
        data = link.receive()
        if data is not None:
            self._feed(data)

    def _feed(self, data: bytes) -> None:
        """Hand the core what arrived (``b""``: the stream ended) and deliver its events."""
        with self._lock:  # the time of arrival is read once the core is ours, not before
            events = self._engine.feed(data, time.monotonic())
        self._deliver(events, len(data))

    def _login_changed(self, events: list[Any], token: str | None) -> None:
        """From a login's thread: the new token to the engine, the events to the caller."""
        if self._engine.finished:
            return
        if token is not None:
            with self._lock:
                events = [*events, *self._engine.token_renewed(token, time.monotonic())]
            self._wake()
        if events:
            self._deliver(events)

    def _locked(self, function: Callable[..., list[Any]], *args: Any) -> list[Any]:
        with self._lock:
            return function(*args)


class TradovateClient(
    _ThreadedClient[TradovateEngine], TradovateCalls[Any, _Future], TradovateHistory
):
    """A blocking Tradovate WebSocket client; see ``TradovateCalls.__init__`` for the options.

    Requests block until their outcome and raise ``RequestError`` subclasses; subscriptions
    are restored after a reconnect.
    """


class CTraderClient(_ThreadedClient[CTraderEngine], CTraderCalls[Any, _Future], CTraderHistory):
    """A blocking cTrader Open API (JSON) client; see ``CTraderCalls.__init__`` for the
    options. Over WebSocket, or raw TCP (``tls://``, ``tcp://``)."""
