"""Helpers for the cTrader tests: one client per transport, and what goes over each wire."""

from __future__ import annotations

import struct
from typing import Any

from brokerwire.core.ctrader import CTraderConnection, CTraderServerConnection
from brokerwire.core.jsonlib import dumps, loads
from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.transport import TextMessage
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket.frames import OP_TEXT
from tests.helpers import server_frame

TRANSPORTS = ["websocket", "tcp-length-prefix", "tcp-json-stream"]


def client(kind: str, **options: Any) -> CTraderConnection:
    """A client that is open (past the WebSocket handshake, or on TCP)."""
    if kind == "websocket":
        return CTraderConnection.websocket(already_open=True, **options)
    framing = Framing.LENGTH_PREFIX if kind == "tcp-length-prefix" else Framing.JSON_STREAM
    return CTraderConnection.tcp(framing=framing, **options)


def encode(message: Any) -> bytes:
    return (
        message
        if isinstance(message, bytes)
        else message.encode()
        if isinstance(message, str)
        else dumps(message)
    )


def wire(kind: str, *messages: Any) -> bytes:
    """Server-to-client bytes carrying each message (dicts are JSON-encoded)."""
    out = b""
    for message in messages:
        data = encode(message)
        if kind == "websocket":
            out += server_frame(OP_TEXT, data)
        elif kind == "tcp-length-prefix":
            out += struct.pack("!I", len(data)) + data
        else:
            out += data + b"\n"
    return out


class Sent:
    """Decodes what a client sends into JSON messages, for any transport."""

    def __init__(self, kind: str) -> None:
        self._ws = (
            WebSocketConnection(Role.SERVER, already_open=True) if kind == "websocket" else None
        )
        self._tcp = TcpConnection(None) if kind != "websocket" else None

    def __call__(self, conn: CTraderConnection) -> list[dict[str, Any]]:
        data = conn.data_to_send()
        if not data:
            return []
        if self._ws is not None:
            return [
                loads(e.data)
                for e in self._ws.receive_data(data, 0.0)
                if isinstance(e, TextMessage)
            ]
        assert self._tcp is not None
        return [loads(e.data) for e in self._tcp.receive_data(data, 0.0) if hasattr(e, "data")]


def server_for(kind: str, **options: Any) -> CTraderServerConnection:
    if kind == "websocket":
        return CTraderServerConnection.websocket(**options)
    return CTraderServerConnection.tcp(**options)
