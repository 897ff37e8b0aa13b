"""brokerwire's sans-IO core: bytes in, events out, bytes to send, and no I/O of its own.

Nothing in this package touches a socket, a thread, an event loop or a clock; time comes in as
``now`` arguments. The adapters in ``brokerwire.adapters`` drive it.
"""

from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .transport import (
    BinaryMessage,
    Closed,
    Connection,
    MessageTransport,
    TextMessage,
    TransportState,
)

__all__ = [
    "BinaryMessage",
    "Closed",
    "Connection",
    "LocalProtocolError",
    "MessageTransport",
    "ProtocolError",
    "RemoteProtocolError",
    "TextMessage",
    "TransportState",
]
