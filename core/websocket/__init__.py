"""WebSocket transport (RFC 6455), client and server roles, sans-IO."""

from .connection import (
    DEFAULT_MAX_FRAGMENTS,
    DEFAULT_MAX_MESSAGE_SIZE,
    WEBSOCKET_TRANSITIONS,
    Role,
    WebSocketConnection,
    WebSocketInput,
)
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
from .frames import CloseCode, InvalidClosePayload
from .handshake import BadUpgradeRequest

__all__ = [
    "DEFAULT_MAX_FRAGMENTS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WEBSOCKET_TRANSITIONS",
    "BadUpgradeRequest",
    "BinaryMessage",
    "CloseCode",
    "Closed",
    "ConnectionAccepted",
    "ConnectionRejected",
    "ConnectionRequest",
    "InvalidClosePayload",
    "Ping",
    "Pong",
    "Role",
    "TextMessage",
    "WebSocketConnection",
    "WebSocketEvent",
    "WebSocketInput",
]
