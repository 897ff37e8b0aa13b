"""Helpers for the Tradovate tests: a client past the handshake, and a client-server pair."""

from __future__ import annotations

from typing import Any

import msgspec

from brokerwire.core.jsonlib import dumps_str
from brokerwire.core.tradovate import (
    TradovateConnection,
    TradovateServerConnection,
    TradovateState,
    UnknownEvent,
    response_message,
)
from brokerwire.core.tradovate.events import Opened
from brokerwire.core.transport import Closed, TextMessage
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket.frames import OP_TEXT
from tests.helpers import server_frame


def reply(request_id: int, status: int = 200, data: Any = None) -> str:
    """The JSON text of one response message, as the server would put it in an ``a`` frame."""
    return dumps_str(response_message(request_id, status, data))


def raw_event(event: object) -> UnknownEvent:
    """``event``, which must be an ``UnknownEvent`` giving a reason, with the reason left out.

    What the reason says is the validator's wording; that there is one is the contract. The
    rest of the event (kind, data, whole message) then compares exactly.
    """
    assert type(event) is UnknownEvent, f"expected an UnknownEvent, got {event!r}"
    assert event.reason, f"an UnknownEvent of a known shape rule without a reason: {event!r}"
    return msgspec.structs.replace(event, reason=None)


def state_of(conn: TradovateConnection) -> TradovateState:
    """``conn.state`` read afresh (a type checker would keep what an earlier check narrowed)."""
    return conn.state


def reason_of(event: object) -> str:
    """The reason an ``UnknownEvent`` gives (which must be there)."""
    assert type(event) is UnknownEvent, f"expected an UnknownEvent, got {event!r}"
    assert event.reason, f"no reason given: {event!r}"
    return event.reason


def frames(*texts: str) -> bytes:
    """Server-to-client WebSocket text frames holding ``texts``."""
    return b"".join(server_frame(OP_TEXT, text.encode()) for text in texts)


def open_client(now: float = 0.0, **kwargs: Any) -> TradovateConnection:
    """A client past the WebSocket handshake that has received ``o`` at ``now``."""
    conn = TradovateConnection(already_open=True, **kwargs)
    assert conn.receive_data(frames("o"), now) == [Opened()]
    return conn


class SentTexts:
    """Decodes what a client sends (masked frames) back into text messages."""

    def __init__(self) -> None:
        self._server = WebSocketConnection(Role.SERVER, already_open=True)

    def __call__(self, conn: TradovateConnection) -> list[str]:
        data = conn.data_to_send()
        if not data:
            return []
        return [e.data for e in self._server.receive_data(data, 0.0) if isinstance(e, TextMessage)]


def connected(
    client_kwargs: dict[str, Any] | None = None, server_kwargs: dict[str, Any] | None = None
) -> tuple[TradovateConnection, TradovateServerConnection]:
    """A client and a server through a real WebSocket handshake and the ``o`` frame."""
    client = TradovateConnection("demo.broker.test", **(client_kwargs or {}))
    server = TradovateServerConnection(**(server_kwargs or {}))
    (request,) = server.receive_data(client.data_to_send(), 0.0)
    assert type(request).__name__ == "ConnectionRequest"
    assert server.accept(now=0.0) == []
    assert client.receive_data(server.data_to_send(), 0.0) == [Opened()]
    return client, server


def to_server(
    client: TradovateConnection, server: TradovateServerConnection, now: float = 0.0
) -> list[Any]:
    data = client.data_to_send()
    return server.receive_data(data, now) if data else []


def to_client(
    server: TradovateServerConnection, client: TradovateConnection, now: float = 0.0
) -> list[Any]:
    data = server.data_to_send()
    return client.receive_data(data, now) if data else []


def close_code_sent(conn: TradovateConnection) -> int | None:
    """The code of the WebSocket close frame among what the client sends, if there is one."""
    server = WebSocketConnection(Role.SERVER, already_open=True)
    for event in server.receive_data(conn.data_to_send(), 0.0):
        if isinstance(event, Closed):
            return event.code
    return None
