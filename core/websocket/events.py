"""Every event a ``WebSocketConnection`` returns."""

from __future__ import annotations

from .._event import Event
from ..transport import BinaryMessage, Closed, TextMessage
from .handshake import ConnectionAccepted, ConnectionRejected, ConnectionRequest

__all__ = [
    "BinaryMessage",
    "Closed",
    "ConnectionAccepted",
    "ConnectionRejected",
    "ConnectionRequest",
    "Ping",
    "Pong",
    "TextMessage",
    "WebSocketEvent",
]


class Ping(Event, frozen=True):
    """The peer sent a ping; the connection has already queued the pong."""

    payload: bytes


class Pong(Event, frozen=True):
    """The peer answered a ping (ours, or an unsolicited pong)."""

    payload: bytes


WebSocketEvent = (
    ConnectionRequest
    | ConnectionAccepted
    | ConnectionRejected
    | TextMessage
    | BinaryMessage
    | Ping
    | Pong
    | Closed
)
