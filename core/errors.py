"""The two ways a protocol conversation can go wrong.

``LocalProtocolError`` means *this* side broke the rules: the caller asked for something the
protocol does not allow in the current state (send before open, a newline inside an endpoint
name, a request on a closed connection). It is raised at once, from the call that did it.

``RemoteProtocolError`` means the *peer* broke the rules: it sent bytes that cannot be decoded.
It is never raised out of ``receive_data``; it travels inside the terminal event that a connection
returns after every event it could decode before the bad bytes. ``close_code`` is the WebSocket
close code the connection sent because of it, where one applies.

Every layer raises it where it finds the fault, and the same object reaches the terminal
``Closed`` event (its ``error``) unchanged: nothing re-wraps it on the way up. Subclasses say
which layer found the fault, for a caller who cares; catching ``RemoteProtocolError`` catches
them all:

- ``brokerwire.core.websocket.BadUpgradeRequest``: an HTTP upgrade request a server refuses;
- ``brokerwire.core.websocket.InvalidClosePayload``: a close frame that breaks RFC 6455;
- ``brokerwire.core.tradovate.FrameError``: a Tradovate frame, message or request that is not one;
- ``brokerwire.core.ctrader.EnvelopeError``: a cTrader message that is not an envelope.

Everything else the transports find (bad framing, bad UTF-8 in a text message, a message over
the size limit, a stream that ends mid-message) is a plain ``RemoteProtocolError``. Errors
compare equal when their message and close code are equal, whatever their class.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every protocol error brokerwire reports. Not raised itself."""

    def __init__(self, message: str) -> None:
        if type(self) is ProtocolError:
            raise TypeError(
                "ProtocolError is abstract: raise LocalProtocolError or RemoteProtocolError"
            )
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class LocalProtocolError(ProtocolError):
    """The caller used a connection in a way the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that breaks the protocol.

    ``close_code`` is the WebSocket close code that answers it (1002 protocol error, 1007 bad
    payload data, 1009 message too big, ...), or ``None`` on transports that have no close codes.
    """

    def __init__(self, message: str, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, close_code={self.close_code!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteProtocolError):
            return NotImplemented
        return (self.message, self.close_code) == (other.message, other.close_code)

    def __hash__(self) -> int:
        return hash((self.message, self.close_code))
