"""The machinery every simulator shares: an asyncio loopback server that drives one sans-IO
server connection per client, and a way to run it from synchronous code.

A simulator supplies a *session* per connection: an object that owns the core server
connection (``session.conn``) and reacts to its events. The ``Driver`` moves bytes between the
socket and the core, runs the core's timers on ``loop.call_at``, and gives the session what it
needs to behave like a real service (and to misbehave on purpose): tasks that die with the
connection, backpressure, raw writes, aborts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, cast

__all__ = ["BackgroundRunner", "Driver", "Session", "SimulatorServer"]

log = logging.getLogger("brokerwire.simulator")


class ServerConnection(Protocol):
    """What a session's core connection offers (both brokers' server roles do)."""

    def receive_data(self, data: bytes, now: float) -> list[Any]: ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> list[Any]: ...

    @property
    def opened(self) -> bool: ...

    @property
    def closed(self) -> bool: ...


class Session(Protocol):
    """A simulator's behaviour on one connection."""

    @property
    def conn(self) -> ServerConnection: ...

    def handle(self, events: list[Any]) -> None: ...

    def finished(self) -> None: ...


class Driver(asyncio.Protocol):
    """Drives one connection: socket bytes <-> ``session.conn``, timers, tasks, backpressure."""

    def __init__(self, server: SimulatorServer, make_session: Callable[[Driver], Session]) -> None:
        self._server = server
        self._make_session = make_session
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self._muted = False
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.number = 0

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do all a Transport does without deriving from it: no isinstance.
        self.transport = cast(asyncio.Transport, transport)
        self.number = self._server.register(self)
        self.session = self._make_session(self)
        self.flush()

    def data_received(self, data: bytes) -> None:
        if self.session is None or self._closed:
            return
        self.session.handle(self.session.conn.receive_data(data, self.loop.time()))
        self.flush()

    def eof_received(self) -> bool:
        if self.session is not None and not self._closed:
            self.session.handle(self.session.conn.receive_data(b"", self.loop.time()))
            self.flush()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        if self.session is not None:
            self.session.finished()
        self._server.forget(self)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- what sessions use -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is gone, or going: a transport whose send failed is
        closing before ``connection_lost`` runs, and writing to it only logs warnings."""
        return self._closed or (self.transport is not None and self.transport.is_closing())

    def now(self) -> float:
        return self.loop.time()

    def flush(self) -> None:
        """Write what the core queued; close the socket once the core is closed; re-arm timers."""
        if self.session is None or self.closed or self.transport is None:
            return
        data = self.session.conn.data_to_send()
        if data and not self._muted:
            self.transport.write(data)
        if self.session.conn.closed:
            self.close()
            return
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Move the timer to the core's deadline, leaving it be when that has not changed (a
        stream flushes every message, and a new handle each time would cost more than the
        message)."""
        assert self.session is not None
        deadline = self.session.conn.next_deadline()
        if self._timer is not None:
            if deadline == self._timer_at:
                return
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self.session is None or self._closed:
            return
        self.session.handle(self.session.conn.handle_timer(self.loop.time()))
        self.flush()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a coroutine for as long as this connection lives."""
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task failed", exc_info=task.exception())

    @property
    def unsent(self) -> int:
        """Bytes written but still waiting for room in the socket (a client reading slowly)."""
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    async def writable(self) -> None:
        """Wait while the client is slower than the stream (the socket buffer is full)."""
        await self._writable.wait()

    def mute(self) -> None:
        """From now on nothing reaches the client: it sees a connection that went silent."""
        self._muted = True

    def write_raw(self, data: bytes) -> None:
        """Bytes straight onto the socket, bypassing the protocol (for injected faults)."""
        if self.transport is not None and not self._closed:
            self.transport.write(data)

    def cut(self, data: bytes) -> None:
        """Write ``data`` straight onto the socket, bypassing the protocol, and end the stream
        there: the client receives every byte written so far, ``data`` last, then the end.

        An abort would throw away what still waits for room in the socket, and the client
        would see the stream end between two messages. Closing the socket is no better: bytes
        the client sends meanwhile (a heartbeat) would arrive unread, and the system answers
        that with a reset that discards what it still holds for the client. So only the
        sending side ends (over TLS, which cannot do that, the connection closes after a
        flush); what the client still sends is read and ignored until it closes in turn.
        """
        if self.transport is None or self._closed:
            return
        self.transport.write(data)
        self._end()

    def close(self) -> None:
        """End the connection after what was written so far, as ``cut`` ends it: a client
        that is still sending (requests in flight) gets every byte, its last message too."""
        if self.transport is not None and not self._closed:
            self._end()

    def _end(self) -> None:
        assert self.transport is not None
        self._closed = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        else:
            self.transport.close()

    def abort(self) -> None:
        """Drop the TCP connection at once, discarding anything unsent."""
        if self.transport is not None:
            self._closed = True
            self.transport.abort()


class SimulatorServer:
    """A loopback server that gives every connection a ``Driver`` and a fresh session."""

    def __init__(
        self,
        make_session: Callable[[Driver], Session],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        on_lost: Callable[[int], None] | None = None,
    ) -> None:
        """``on_lost`` hears the number of each connection that ends."""
        self._make_session = make_session
        self._on_lost = on_lost
        self.host = host
        self._requested_port = port
        self._ssl = ssl_context
        self._server: asyncio.Server | None = None
        self._drivers: set[Driver] = set()
        self._count = 0

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the simulator is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def connections(self) -> int:
        """How many clients are connected now."""
        return len(self._drivers)

    def register(self, driver: Driver) -> int:
        self._drivers.add(driver)
        self._count += 1
        return self._count

    def forget(self, driver: Driver) -> None:
        self._drivers.discard(driver)
        if self._on_lost is not None:
            self._on_lost(driver.number)

    def drivers(self) -> list[Driver]:
        return list(self._drivers)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Driver(self, self._make_session), self.host, self._requested_port, ssl=self._ssl
        )

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for driver in list(self._drivers):
            driver.abort()
        if self._server is not None:
            await self._server.wait_closed()
        # Let connection_lost run for the aborted transports.
        for _ in range(3):
            if not self._drivers:
                break
            await asyncio.sleep(0)

    async def restart(self) -> None:
        """Drop every connection and listen again on the same port, as a server that went down
        and came back: what clients had sent but the server had not read yet is lost."""
        port = self.port
        await self.stop()
        self._requested_port = port
        await self.start()


class BackgroundRunner:
    """Runs an asyncio service in a thread that owns its own event loop.

    ``start()`` returns once the service is up (or raises what made it fail); ``stop()`` shuts
    it down, closes the loop and joins the thread, leaving nothing behind.
    """

    def __init__(
        self, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]], name: str
    ) -> None:
        self._start = start
        self._stop = stop
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopping: asyncio.Event | None = None

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self._name} did not start within {timeout} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        try:
            await self._start()
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self._stop()
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()

    def in_its_thread(self) -> bool:
        """Whether the caller runs on the service's own thread."""
        return self._thread is threading.current_thread()

    def call(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the service's loop (thread-safe)."""
        if self._loop is None:
            raise RuntimeError("not running")
        self._loop.call_soon_threadsafe(function)

    def run(self, coroutine: Coroutine[Any, Any, None], timeout: float) -> None:
        """Run ``coroutine`` on the service's loop and wait until it is done (thread-safe)."""
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("not running")
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have finished already
                self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"{self._name} did not stop within {timeout} s")
        self._thread = None
