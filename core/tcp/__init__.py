"""Raw TCP transport: messages cut from a byte stream by a length prefix or JSON boundaries."""

from .connection import DEFAULT_MAX_MESSAGE_SIZE, TcpConnection
from .framers import Framing, JsonStreamFramer, LengthPrefixFramer, detect_framing

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "Framing",
    "JsonStreamFramer",
    "LengthPrefixFramer",
    "TcpConnection",
    "detect_framing",
]
