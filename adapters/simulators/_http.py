"""A small HTTP/1.1 server on loopback, for the brokers' token endpoints in the simulators.

Each connection carries one request (the clients ask to close after it, as the core's
``HttpClientConnection`` does): h11 reads it, the simulator's handler answers it at once with
JSON (or a redirect), and the connection closes. It runs on the simulator's own loop, beside
its WebSocket port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import h11

__all__ = ["HttpAnswer", "HttpCall", "HttpServer"]

log = logging.getLogger("brokerwire.simulator")

_READ_SIZE = 64 * 1024
_REQUEST_TIMEOUT = 10.0


class HttpCall(NamedTuple):
    """A request as the handler sees it: the path, its query, headers (lower-case names)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        return f"HttpCall({self.method} {self.path})"  # queries and bodies hold credentials


class HttpAnswer(NamedTuple):
    """What to send back: a status, a JSON body (None: none), extra headers."""

    status: int
    data: Any = None
    headers: tuple[tuple[str, str], ...] = ()


Handler = Callable[[HttpCall], HttpAnswer]


class HttpServer:
    """Serves ``handler`` on ``host`` (port 0 picks a free one) until ``stop()``."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self.host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.requests = 0

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the HTTP endpoint is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT):
                call = await self._read(conn, reader)
                if call is not None:
                    self.requests += 1
                    writer.write(self._answer(conn, self._handler(call)))
                    await writer.drain()
        except (h11.RemoteProtocolError, TimeoutError, OSError) as exc:
            log.debug("HTTP request dropped: %s", type(exc).__name__)
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _read(self, conn: h11.Connection, reader: asyncio.StreamReader) -> HttpCall | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(_READ_SIZE))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                parts = urlsplit(head.target.decode("latin-1"))
                return HttpCall(
                    head.method.decode("ascii"),
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    {k.decode("latin-1"): v.decode("latin-1") for k, v in head.headers},
                    bytes(body),
                )
            elif isinstance(event, h11.ConnectionClosed):
                return None

    @staticmethod
    def _answer(conn: h11.Connection, answer: HttpAnswer) -> bytes:
        data = b"" if answer.data is None else json.dumps(answer.data).encode()
        headers = [
            ("Date", formatdate(usegmt=True)),
            ("Content-Length", str(len(data))),
            ("Connection", "close"),
            *answer.headers,
        ]
        if answer.data is not None:
            headers.append(("Content-Type", "application/json"))
        out = conn.send(h11.Response(status_code=answer.status, headers=headers)) or b""
        if data:
            out += conn.send(h11.Data(data=data)) or b""
        return out + (conn.send(h11.EndOfMessage()) or b"")
