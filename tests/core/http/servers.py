"""Real HTTP answers for the client connection's tests, written by h11's server role."""

from __future__ import annotations

from collections.abc import Sequence

import h11

from brokerwire.core.http.connection import HttpClientConnection
from brokerwire.core.http.request import HttpRequest, make_request

DATE = "Sun, 06 Dec 2026 20:00:00 GMT"


def request() -> HttpRequest:
    return make_request("POST", "https://example.test/v1/auth/thing", json={"a": 1})


def sent(client: HttpClientConnection, now: float = 0.0) -> HttpClientConnection:
    """``client`` with ``request()`` sent at ``now``."""
    client.send_request(request(), now)
    return client


def server_for(client: HttpClientConnection) -> h11.Connection:
    """An h11 server that has read everything ``client`` queued."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(client.data_to_send())
    while server.next_event() not in (h11.NEED_DATA, h11.PAUSED):
        pass
    return server


def answer(
    server: h11.Connection,
    body: bytes,
    *,
    status: int = 200,
    framing: str = "length",
    chunks: Sequence[bytes] | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A complete answer: ``framing`` is ``length``, ``chunked`` or ``close`` (the body ends
    where the stream does: the caller feeds EOF after it)."""
    head = [("Date", DATE), ("Content-Type", "application/json"), *headers]
    if framing == "length":
        head.append(("Content-Length", str(len(body))))
    elif framing == "chunked":
        head.append(("Transfer-Encoding", "chunked"))
    data = server.send(h11.Response(status_code=status, headers=head)) or b""
    if framing == "close":
        # h11 writes no framing header for an HTTP/1.0-style answer; build one by hand.
        return f"HTTP/1.1 {status} X\r\nDate: {DATE}\r\nConnection: close\r\n\r\n".encode() + body
    for piece in chunks if chunks is not None else [body]:
        if piece:
            data += server.send(h11.Data(data=piece)) or b""
    return data + (server.send(h11.EndOfMessage()) or b"")
