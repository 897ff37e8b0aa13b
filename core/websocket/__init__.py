"""WebSocket transport (RFC 6455), client and server roles, sans-IO."""

from .connection import DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_MESSAGE_SIZE, Role, WebSocketConnection
from .events import (
    BinaryMessage,
    Closed,
    ConnectionAccepted,
    ConnectionRejected,
    ConnectionRequest,
    Ping,
    Pong,
    TextMessage,
    WebSocketEvent,
)
from .frames import CloseCode

__all__ = [
    "DEFAULT_MAX_FRAGMENTS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "BinaryMessage",
    "CloseCode",
    "Closed",
    "ConnectionAccepted",
    "ConnectionRejected",
    "ConnectionRequest",
    "Ping",
    "Pong",
    "Role",
    "TextMessage",
    "WebSocketConnection",
    "WebSocketEvent",
]
