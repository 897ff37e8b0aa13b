"""What the protocol connections need from a transport, and the events every transport shares.

Two transports carry broker messages: WebSocket (``brokerwire.core.websocket``) and a raw TCP
byte stream cut into messages by a framer (``brokerwire.core.tcp``). Both follow the connection
contract of the design: ``receive_data(data, now)`` returns events, ``data_to_send()`` drains
the output buffer, ``next_deadline()`` / ``handle_timer(now)`` run the timers, ``state`` tells
where the connection is. A protocol connection that only needs "messages in, messages out"
(cTrader's JSON runs over either) is written against ``MessageTransport``.

Code that drives a connection (the adapters, the simulators) asks where it is through three
typed predicates rather than through the ``state`` enum, which differs per class: ``opened``
(requests or messages can be sent), ``closing`` (a close has begun; nothing new can be sent)
and ``closed`` (over; drop the socket). At most one of them is true; none is while a
handshake runs. ``Connection`` below is that contract, met by every connection in the core:
the WebSocket and TCP transports, the Tradovate and cTrader clients and their server sides.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Protocol

from ._event import Event
from .errors import RemoteProtocolError

__all__ = [
    "BinaryMessage",
    "Closed",
    "Connection",
    "MessageTransport",
    "Outbox",
    "TextMessage",
    "TransportEvent",
    "TransportState",
    "TransportStates",
    "text_rule_first",
]


class TransportState(enum.Enum):
    """Where a transport connection is in its life.

    CONNECTING: the opening handshake has not finished (WebSocket only).
    OPEN: messages flow both ways.
    CLOSING: this side started the closing handshake and waits for the peer's answer.
    CLOSED: nothing more is sent or received; the socket should be closed.
    """

    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class TextMessage(Event, frozen=True):
    """A complete text message (fragments reassembled, UTF-8 validated)."""

    data: str


class BinaryMessage(Event, frozen=True):
    """A complete binary message, or one message cut from a TCP stream by a framer."""

    data: bytes


class Closed(Event, frozen=True, gc=True):
    """The connection is over; this is always the last event a transport returns.

    ``code`` and ``reason`` come from the peer's close frame when it sent one; otherwise they
    describe why this side ended the connection (1006 when the stream simply ended). On
    transports without close codes ``code`` is ``None``. ``error`` is set when the peer broke
    the protocol; it says what was wrong.
    """

    code: int | None
    reason: str = ""
    error: RemoteProtocolError | None = None

    @property
    def clean(self) -> bool:
        """True when both sides completed an orderly close and nobody broke the protocol."""
        return self.error is None and self.code not in (1006, None)


TransportEvent = TextMessage | BinaryMessage | Closed


class Outbox:
    """``data_to_send`` for a connection that queues the bytes for its peer in ``_out``."""

    _out: list[bytes]

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call (``b""`` when nothing is)."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data


class TransportStates:
    """``opened``, ``closing`` and ``closed`` read from ``state``: for the connections whose
    state is a ``TransportState`` (the transports, and the servers, whose state is theirs)."""

    @property
    def state(self) -> TransportState:
        raise NotImplementedError

    @property
    def opened(self) -> bool:
        """Messages can be sent: the handshake is over and no close has begun."""
        return self.state is TransportState.OPEN

    @property
    def closing(self) -> bool:
        """This side began the closing handshake and waits for the peer's answer."""
        return self.state is TransportState.CLOSING

    @property
    def closed(self) -> bool:
        """Over: nothing more is sent or received; the socket can be closed."""
        return self.state is TransportState.CLOSED


class Connection(Protocol):
    """The contract every core connection meets, whatever its protocol and role.

    ``receive_data(b"", now)`` tells it the peer closed the stream. Every call returns the
    events it caused; bytes to send accumulate until ``data_to_send()`` drains them.
    """

    @property
    def opened(self) -> bool:
        """Ready: requests (or messages) can be sent."""
        ...

    @property
    def closing(self) -> bool:
        """A close has begun and waits for the peer; nothing new can be sent."""
        ...

    @property
    def closed(self) -> bool:
        """Over: nothing more is sent or received; the socket can be dropped."""
        ...

    def receive_data(self, data: bytes, now: float) -> Sequence[object]: ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> Sequence[object]: ...


class MessageTransport(Connection, Protocol):
    """The part of a transport that a message-oriented protocol connection uses."""

    @property
    def state(self) -> TransportState: ...

    def receive_data(self, data: bytes, now: float) -> list[object]: ...

    def receive_messages(self, data: bytes, now: float) -> list[object]:
        """As ``receive_data``, but a whole message may come as its bytes (UTF-8 unchecked)."""
        ...

    def data_to_send(self) -> bytes: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> list[object]: ...

    def send_message(self, data: str | bytes) -> None: ...

    def close(self, code: int = 1000, reason: str = "") -> None: ...

    def fail(self, code: int, reason: str) -> int | None:
        """End at once after bad data; returns the close code to report (None without codes)."""
        ...

    def fail_with(self, error: RemoteProtocolError) -> Closed:
        """End at once because the peer broke a rule; the returned ``Closed`` carries ``error``."""
        ...

    def decode_text(self, payload: bytes) -> str:
        """A message's bytes as text, by this transport's rule for text.

        Raises ``RemoteProtocolError`` when they are not UTF-8 (close code 1007 on a WebSocket).
        A protocol layer that could not parse a message's bytes asks this first, so that the
        transport's rule, not the protocol's, says what was wrong with bytes that are not text.
        """
        ...


def not_utf8(error: UnicodeDecodeError) -> str:
    """Why a message that should be text is refused, in the same words whichever transport
    found it and however it came (whole, or in fragments)."""
    return f"text message is not valid UTF-8 ({error.reason})"


def text_rule_first(
    decode_text: Callable[[bytes], str], payload: bytes, error: RemoteProtocolError
) -> RemoteProtocolError:
    """What ends a connection when a protocol could not read a message's raw bytes.

    ``decode_text`` is the transport's: when the bytes are not text at all, its error (in its
    words, with its close code) is the one to report; otherwise the protocol's ``error`` is.
    Only called once parsing failed, so the hot path never decodes twice.
    """
    try:
        decode_text(payload)
    except RemoteProtocolError as not_text:
        return not_text
    return error
