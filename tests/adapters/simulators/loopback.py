"""Moving a core client connection's bytes over a real loopback socket, in the test itself."""

from __future__ import annotations

import concurrent.futures
import select
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class BackgroundSimulator(Protocol):
    def call_soon(self, function: Callable[[], None]) -> None: ...


def on_sim_loop(sim: BackgroundSimulator, function: Callable[[], T], timeout: float = 10.0) -> T:
    """``function()`` run on the loop of a simulator running in the background, and its
    result (what it reads there cannot change while it runs)."""
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            result.set_result(function())
        except BaseException as exc:  # handed back to the test's thread
            result.set_exception(exc)

    sim.call_soon(run)
    return result.result(timeout)


class ClientConnection(Protocol):
    def receive_data(self, data: bytes, now: float) -> list[Any]: ...
    def data_to_send(self) -> bytes: ...
    def next_deadline(self) -> float | None: ...
    def handle_timer(self, now: float) -> list[Any]: ...


class Loopback:
    """A blocking socket to a simulator, driving ``conn`` with bounded waits."""

    def __init__(self, conn: ClientConnection, url: str, receive_buffer: int | None = None) -> None:
        """``receive_buffer`` sets the socket's receive buffer (in bytes) before it connects:
        a small one lets a test that stops reading fill the server's send buffer quickly."""
        parts = urlsplit(url)
        assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "tests talk to loopback only"
        self.conn = conn
        self.sock = socket.socket(socket.AF_INET6 if parts.hostname == "::1" else socket.AF_INET)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        try:
            self.sock.settimeout(10.0)
            self.sock.connect((parts.hostname, parts.port or 80))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self.closed = False
        self.events: list[Any] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.closed:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def step(self, wait: float) -> list[Any]:
        """Send what is queued, wait up to ``wait`` seconds for bytes or a timer, handle them."""
        self.flush()
        events: list[Any] = []
        now = time.monotonic()
        deadline = self.conn.next_deadline()
        timeout = wait if deadline is None else max(0.0, min(wait, deadline - now))
        if not self.closed:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if readable:
                try:
                    data = self.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data is not None:
                    if not data:
                        self.closed = True
                    events += self.conn.receive_data(data, time.monotonic())
        else:
            time.sleep(timeout)
        deadline = self.conn.next_deadline()
        if deadline is not None and time.monotonic() >= deadline:
            events += self.conn.handle_timer(time.monotonic())
        self.flush()
        self.events += events
        return events

    def until(self, predicate: Callable[[list[Any]], bool], timeout: float = 15.0) -> list[Any]:
        """Run until ``predicate(all events so far)`` holds; fails after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        start = len(self.events)
        while not predicate(self.events[start:]):
            if time.monotonic() > end:
                names = [type(e).__name__ for e in self.events[start:]][-20:]
                raise AssertionError(f"condition not met within {timeout} s; last events: {names}")
            self.step(min(0.05, max(0.0, end - time.monotonic())))
        return self.events[start:]

    def run_for(self, seconds: float) -> list[Any]:
        end = time.monotonic() + seconds
        start = len(self.events)
        while time.monotonic() < end:
            self.step(min(0.05, max(0.0, end - time.monotonic())))
        return self.events[start:]
