"""Clients for programs that already run an asyncio loop: ``TradovateClient`` and
``CTraderClient``, with the threaded adapter's methods as coroutines.

An ``asyncio.Protocol`` on ``loop.create_connection`` feeds the core; the core's next deadline
is kept on ``loop.call_at`` and moved after every call into it. Events reach the caller through
``async for event in client.events()`` or a callback. When the queue is full, market data is
conflated and reading goes on, or with ``on_full="pause"`` the transport stops reading
(``pause_reading``) until the consumer catches up (see ``engine.event_queue``). Nothing here
blocks the loop: no blocking socket call, no sleep outside ``asyncio``, names resolved by the
loop's resolver. A client belongs to the loop it connected on: called from another loop, it raises
``LocalProtocolError``.

A request's task may be cancelled at any time: the client stops waiting for the answer (and a
cTrader request still held back by the rate budget is never sent). Closing the client fails
the requests still waiting with ``ConnectionLost``; it cancels nothing of the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from typing import Any, Self, TypeVar, cast

from brokerwire.core.errors import LocalProtocolError

from .engine.client_base import ClientBase
from .engine.client_engine import ClientEngine, Phase
from .engine.ctrader import CTraderCalls, CTraderEngine
from .engine.ctrader_history import AsyncCTraderHistory
from .engine.reconnect_loop import ReconnectLoop, Wait
from .engine.tradovate import TradovateCalls, TradovateEngine
from .engine.tradovate_history import AsyncTradovateHistory
from .errors import ConnectError, RequestError
from .logins_asyncio import CTraderLogin, TradovateLogin
from .order_handles import AsyncOrderHandle

__all__ = ["CTraderClient", "CTraderLogin", "TradovateClient", "TradovateLogin"]

log = logging.getLogger("brokerwire.asyncio")

_CLOSE_TIMEOUT = 5.0
#: A timer this late (seconds) means the loop was held still: the socket is read before it runs.
_LATE_TIMER = 0.05

EngineT = TypeVar("EngineT", bound=ClientEngine[Any, Any])
_Result = Coroutine[Any, Any, Any]
_Future = asyncio.Future[Any]  # what request_async gives


class _Protocol(asyncio.Protocol):
    """Hands one connection's callbacks to its client."""

    def __init__(self, client: _AsyncClient[Any]) -> None:
        self._client = client
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do all a Transport does without deriving from it: no isinstance.
        self.transport = cast(asyncio.Transport, transport)
        self._client._link_made(self)

    def data_received(self, data: bytes) -> None:
        self._client._data(self, data)

    def pause_writing(self) -> None:
        self._client._write_blocked(self, True)

    def resume_writing(self) -> None:
        self._client._write_blocked(self, False)

    def eof_received(self) -> bool:
        self._client._data(self, b"")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._client._link_lost(self, exc)
        if not self.lost.done():
            self.lost.set_result(None)


class _AsyncClient(ClientBase[EngineT]):
    """The protocol, timers, queue and reconnect task; the broker is in the engine."""

    def _setup(self) -> None:
        self._has_events: asyncio.Event | None = None
        self._protocol: _Protocol | None = None
        self._writes_blocked = False
        self._reading_paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._timer_deferred = False
        self._attempt_timer: asyncio.TimerHandle | None = None
        self._abort_timer: asyncio.TimerHandle | None = None
        self._runner: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reconnect_loop = ReconnectLoop(self._engine, self._connect_timeout)

    # -- life ------------------------------------------------------------------------------------

    async def connect(self) -> Self:
        """Connect and authorize; returns once ready. Raises ``ConnectError`` (or its
        ``AuthenticationError``) when that fails within ``connect_timeout``."""
        if self._runner is not None:
            raise LocalProtocolError("connect() was already called on this client")
        loop = self._loop = asyncio.get_running_loop()
        self._has_events = asyncio.Event()
        self._closing = asyncio.Event()
        connected: asyncio.Future[None] = loop.create_future()
        self._runner = loop.create_task(self._run(connected), name=f"brokerwire-{self!r}")
        try:
            await asyncio.wait_for(asyncio.shield(connected), self._connect_timeout + 1.0)
        except TimeoutError:
            await self.close()
            raise ConnectError(
                f"cannot connect to {self._engine.endpoint.display()}: timed out"
            ) from None
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Close the link and stop reconnecting; requests still waiting fail with
        ``ConnectionLost``. Safe to call more than once."""
        if self._runner is None:
            self._engine.finish("the client was closed")
            self._buffer.ended = True
            return
        self._check_loop()
        assert self._closing is not None
        self._closing.set()
        if self._protocol is None:
            # Between links (connecting, or waiting to reconnect): stop our own task.
            self._runner.cancel()
        elif self._engine.phase in (Phase.CONNECTING, Phase.READY) and self._abort_timer is None:
            self._after(self._engine.close(self._now()))
            assert self._loop is not None
            self._abort_timer = self._loop.call_later(_CLOSE_TIMEOUT, self._abort)
        if self._runner is not asyncio.current_task():
            await asyncio.wait({self._runner})

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- events ----------------------------------------------------------------------------------

    def events(self, timeout: float | None = None, *, conflate: bool = False) -> AsyncIterator[Any]:
        self._refuse_events_with_callback()
        self._check_loop(running_only=True)
        self._buffer.conflate_always = conflate
        return self._iterate_events(timeout)

    def _check_loop(self, *, running_only: bool = False) -> None:
        """Refuse a call from a loop other than the one the client connected on (it would
        touch the transport and futures of another loop: a stall or a hang)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if running_only:
                return
            raise LocalProtocolError("call the client from its event loop") from None
        if self._loop is not None and loop is not self._loop:
            raise LocalProtocolError(
                "this client belongs to another event loop (the one it connected on)"
            )

    async def _iterate_events(self, timeout: float | None) -> AsyncIterator[Any]:
        self._check_loop()
        buffer = self._buffer
        queued = buffer.entries
        while True:
            while not queued and not buffer.ended:
                has_events = self._has_events
                if has_events is None:
                    raise LocalProtocolError("connect() first")
                has_events.clear()
                if timeout is None:  # no wait_for: one coroutine less for every wait
                    await has_events.wait()
                    continue
                try:
                    await asyncio.wait_for(has_events.wait(), timeout)
                except TimeoutError:
                    raise TimeoutError(f"no event within {timeout:g} s") from None
            if not queued:
                return
            event = buffer.pop()
            if self._paused and buffer.drained:
                self._paused = False
                self._update_reading()
            yield event

    # -- requests --------------------------------------------------------------------------------

    def _call(self, call: Any) -> _Result:
        return self._request(call)

    async def _request(self, call: Any) -> Any:
        return await self._submit(call)

    def _submit(self, call: Any) -> asyncio.Future[Any]:
        self._check_loop()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        try:
            request_id = self._engine.submit(call, future, loop.time())
        except RequestError as exc:
            future.set_exception(exc)
            return future
        future.add_done_callback(partial(self._forget_cancelled, request_id))
        self._after([])
        return future

    def _forget_cancelled(self, request_id: Any, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            self._engine.forget(request_id)
            self._after([])

    def _track_order(self, call: Any) -> AsyncOrderHandle:
        self._check_loop()
        loop = asyncio.get_running_loop()
        make = partial(AsyncOrderHandle, loop=loop)
        engine: Any = self._engine  # a broker engine: both define track_order
        handle = engine.track_order(call, make, loop.time())
        self._after([])
        return cast("AsyncOrderHandle", handle)

    def _read_state(self, read: Callable[[], Any]) -> Any:
        return read()  # on the loop: the state is never mid-change here

    # -- driving the core ------------------------------------------------------------------------

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _after(self, events: list[Any], nbytes: int = 0) -> None:
        """After every call into the core: send, move the timer, deliver, drop a dead link."""
        engine = self._engine
        protocol = self._protocol
        transport = protocol.transport if protocol is not None else None
        data = engine.data_to_send()
        if data and transport is not None and not transport.is_closing():
            transport.write(data)
        deadline = engine.next_deadline()
        if deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._timer_at = deadline
            if deadline is not None:
                assert self._loop is not None
                self._timer = self._loop.call_at(deadline, self._on_timer)
        if self._attempt_timer is not None and not self._reconnect_loop.connecting:
            self._attempt_timer.cancel()
            self._attempt_timer = None
        self._deliver(events, nbytes)
        if transport is not None and engine.link_down:
            transport.close()

    def _on_timer(self) -> None:
        """The core's deadline came. When it comes late, the loop was held still (a callback
        that blocked, a stopped process) and what the server sent meanwhile may wait unread:
        the timers then run one turn later, since a turn of the loop hands the transport what
        waits in the socket before it runs any timer. The watchdog judges the link, not the
        program."""
        assert self._loop is not None
        now = self._loop.time()
        due = self._timer_at
        if not self._timer_deferred and due is not None and now - due > _LATE_TIMER:
            self._timer_deferred = True
            self._timer = self._loop.call_at(now, self._on_timer)
            return
        self._timer_deferred = False
        self._timer = None
        self._timer_at = None
        self._after(self._engine.timer(now, reading_paused=self._paused))

    def _deliver(self, events: list[Any], nbytes: int = 0) -> None:
        if not events:
            self._buffer.push(events, nbytes)  # a read that completed no event: its bytes wait
            return
        if self._call_back(events):
            return
        self._buffer.push(events, nbytes)
        if self._has_events is not None:
            self._has_events.set()
        if not self._paused and self._buffer.full:
            self._paused = True
            self._update_reading()

    def _login_changed(self, events: list[Any], token: str | None) -> None:
        """A login's news: the new token to the engine, the events to the caller, on the
        client's loop (a threaded login calls from its own thread)."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            with contextlib.suppress(RuntimeError):  # a loop already closed hears nothing
                loop.call_soon_threadsafe(self._login_changed, events, token)
            return
        if self._engine.finished:
            return
        if token is not None:
            now = loop.time() if loop is not None else time.monotonic()
            events = [*events, *self._engine.token_renewed(token, now)]
        if loop is None:
            self._deliver(events)
        else:
            self._after(events)

    def _write_blocked(self, protocol: _Protocol, blocked: bool) -> None:
        """The transport's write buffer passed its high-water mark (or fell back below the low
        one): stop reading meanwhile, so that a peer that sends pings and never reads the pongs
        cannot grow that buffer without end."""
        if protocol is self._protocol:
            self._writes_blocked = blocked
            self._update_reading()

    def _update_reading(self) -> None:
        """Read while neither the event queue is full nor the write buffer."""
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            return
        pause = self._paused or self._writes_blocked
        if pause != self._reading_paused:
            self._reading_paused = pause
            if pause:
                protocol.transport.pause_reading()
            else:
                protocol.transport.resume_reading()

    def _link_made(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        self._paused = False
        self._writes_blocked = False
        self._reading_paused = False
        events = self._engine.begin(self._now())
        assert self._loop is not None
        self._attempt_timer = self._loop.call_later(self._connect_timeout, self._attempt_expired)
        self._after(events)

    def _data(self, protocol: _Protocol, data: bytes) -> None:
        if protocol is self._protocol:
            self._after(self._engine.feed(data, self._now()), len(data))

    def _link_lost(self, protocol: _Protocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        if exc is not None:
            log.debug("the connection was lost: %s", exc)
        if not self._engine.link_down:
            self._after(self._engine.feed(b"", self._now()))
        self._protocol = None
        for handle in (self._timer, self._attempt_timer, self._abort_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._attempt_timer = self._abort_timer = None
        self._timer_at = None
        self._timer_deferred = False

    def _attempt_expired(self) -> None:
        self._attempt_timer = None
        if self._reconnect_loop.connecting:
            self._deliver(self._reconnect_loop.not_ready())
            self._abort()

    def _abort(self) -> None:
        self._abort_timer = None
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            if not self._engine.link_down:
                self._after(self._engine.feed(b"", self._now()))
            protocol.transport.abort()

    # -- connecting and reconnecting -------------------------------------------------------------

    async def _run(self, connected: asyncio.Future[None]) -> None:
        """The runner task: the reconnect loop's steps, carried out on the event loop."""
        assert self._closing is not None
        closing = self._closing
        reconnect = self._reconnect_loop
        reconnect.start(connected)
        try:
            for step in reconnect.steps(closing.is_set):
                if isinstance(step, Wait):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closing.wait(), step.seconds)
                else:
                    await self._connect_and_serve()
        finally:
            self._deliver(reconnect.finish())
            self._buffer.ended = True
            if self._has_events is not None:
                self._has_events.set()

    async def _connect_and_serve(self) -> None:
        """One attempt: open a connection, whose protocol then drives the core, and wait until
        it is lost."""
        assert self._loop is not None
        endpoint = self._engine.endpoint
        tls = self._ssl_context
        try:
            _, protocol = await asyncio.wait_for(
                self._loop.create_connection(
                    partial(_Protocol, self),
                    endpoint.host,
                    endpoint.port,
                    ssl=tls,
                    server_hostname=endpoint.host if tls else None,
                    ssl_handshake_timeout=self._connect_timeout if tls else None,
                ),
                self._connect_timeout,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            self._deliver(self._reconnect_loop.connect_failed(exc))
            return
        await protocol.lost


class TradovateClient(
    _AsyncClient[TradovateEngine], TradovateCalls[_Result, _Future], AsyncTradovateHistory
):
    """An asyncio Tradovate WebSocket client; see ``TradovateCalls.__init__`` for the options.

    Every request helper is a coroutine function's result: ``await client.subscribe_quote(..)``.
    """


class CTraderClient(
    _AsyncClient[CTraderEngine], CTraderCalls[_Result, _Future], AsyncCTraderHistory
):
    """An asyncio cTrader Open API (JSON) client; see ``CTraderCalls.__init__`` for the
    options. Over WebSocket, or raw TCP (``tls://``, ``tcp://``)."""
