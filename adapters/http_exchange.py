"""One HTTP exchange over a real socket: the adapters' half of the core's ``HttpClientConnection``.

The core builds the request and reads the answer; these two helpers only move its bytes, one
for threads (blocking, bounded by the exchange's deadline) and one for asyncio. TLS is used
for ``https://`` with the default context (certificate and host name checked) unless the
caller passes one. Neither raises for what the network does: a refused connection, a reset or
a timeout comes back as the core's ``Failed`` or ``TimedOut``, as a broken answer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time

from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.http.connection import DEFAULT_TIMEOUT, HttpClientConnection
from brokerwire.core.http.events import Failed, HttpEvent, TimedOut
from brokerwire.core.http.request import HttpRequest

from .engine.client_engine import describe

__all__ = ["run_exchange", "run_exchange_async"]

_READ_SIZE = 64 * 1024


def _context(request: HttpRequest, ssl_context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    if request.scheme != "https":
        return None
    return ssl_context if ssl_context is not None else ssl.create_default_context()


def _unreachable(request: HttpRequest, error: BaseException) -> Failed:
    return Failed(
        RemoteProtocolError(f"cannot reach {request.host}:{request.port}: {describe(error)}")
    )


def run_exchange(
    request: HttpRequest,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpEvent:
    """Send ``request`` and return the exchange's one event, within ``timeout`` seconds."""
    conn = HttpClientConnection(timeout=timeout)
    start = time.monotonic()
    conn.send_request(request, start)
    deadline = start + timeout
    try:
        sock = socket.create_connection((request.host, request.port), timeout=timeout)
    except OSError as exc:
        return TimedOut(timeout) if isinstance(exc, TimeoutError) else _unreachable(request, exc)
    with contextlib.closing(sock):
        try:
            context = _context(request, ssl_context)
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=request.host)
            sock.sendall(conn.data_to_send())
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return conn.handle_timer(time.monotonic())[0]
                sock.settimeout(remaining)
                try:
                    data = sock.recv(_READ_SIZE)
                except TimeoutError:
                    continue
                events = conn.receive_data(data, time.monotonic())
                if events:
                    return events[0]
        except (OSError, ssl.SSLError) as exc:
            return _unreachable(request, exc)


async def run_exchange_async(
    request: HttpRequest,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpEvent:
    """``run_exchange`` on the running loop: nothing blocks it."""
    loop = asyncio.get_running_loop()
    conn = HttpClientConnection(timeout=timeout)
    conn.send_request(request, loop.time())
    context = _context(request, ssl_context)
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                request.host,
                request.port,
                ssl=context,
                server_hostname=request.host if context is not None else None,
            )
            try:
                writer.write(conn.data_to_send())
                await writer.drain()
                while True:
                    data = await reader.read(_READ_SIZE)
                    events = conn.receive_data(data, loop.time())
                    if events:
                        return events[0]
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except TimeoutError:
        return TimedOut(timeout)
    except (OSError, ssl.SSLError) as exc:
        return _unreachable(request, exc)
