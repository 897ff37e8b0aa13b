"""A message transport over a plain (or TLS) TCP byte stream, sans-IO.

It follows the same contract as ``WebSocketConnection`` so that a protocol connection can run
over either. TCP has no handshake, no close frames and no timers of its own: the connection is
OPEN from the start, ``close()`` ends it at once (the adapter then closes the socket), and a
``Closed`` event (``code`` is ``None``) reports the end of the peer's stream or bad bytes in it.
"""

from __future__ import annotations

from ..errors import LocalProtocolError, RemoteProtocolError
from ..transport import BinaryMessage, Closed, Outbox, TransportState, TransportStates, not_utf8
from .framers import Framing, JsonStreamFramer, LengthPrefixFramer, detect_framing, make_framer

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "TcpConnection"]

DEFAULT_MAX_MESSAGE_SIZE = 32 * 1024 * 1024

TcpEvent = BinaryMessage | Closed


def _framing_of(framer: LengthPrefixFramer | JsonStreamFramer | None) -> Framing | None:
    if framer is None:
        return None
    return Framing.LENGTH_PREFIX if isinstance(framer, LengthPrefixFramer) else Framing.JSON_STREAM


class TcpConnection(Outbox, TransportStates):
    """Messages over a TCP stream, cut by a framer.

    ``framing`` is what this side sends; ``None`` answers in the peer's framing once it is
    known (what a server wants). ``receive_framing`` is what the peer is expected to send; left
    as ``None`` it is recognised from the first byte the peer sends.
    """

    def __init__(
        self,
        framing: Framing | None = Framing.LENGTH_PREFIX,
        *,
        receive_framing: Framing | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        if max_message_size < 1:
            raise ValueError("max_message_size must be at least 1 byte")
        self._max_message_size = max_message_size
        self._send_framer = make_framer(framing, max_message_size) if framing is not None else None
        self._receive_framer: LengthPrefixFramer | JsonStreamFramer | None = (
            make_framer(receive_framing, max_message_size) if receive_framing is not None else None
        )
        self._state = TransportState.OPEN
        self._out: list[bytes] = []

    def __repr__(self) -> str:
        sent = self.framing.value if self.framing else "the peer's framing"
        received = self.receive_framing.value if self.receive_framing else "not yet known"
        return f"<TcpConnection sends {sent}, receives {received}, {self._state.value}>"

    @property
    def state(self) -> TransportState:
        return self._state

    @property
    def framing(self) -> Framing | None:
        """The framing this side sends (None while it waits to follow the peer's)."""
        return _framing_of(self._send_framer)

    @property
    def receive_framing(self) -> Framing | None:
        """The peer's framing, once configured or recognised."""
        return _framing_of(self._receive_framer)

    def receive_data(self, data: bytes, now: float) -> list[TcpEvent]:
        """Feed bytes from the peer (``b""`` when it closed); returns the messages they complete."""
        return [
            m if isinstance(m, Closed) else BinaryMessage(m)
            for m in self.receive_messages(data, now)
        ]

    def receive_messages(self, data: bytes, now: float) -> list[bytes | Closed]:
        """``receive_data`` with each message as its bytes rather than a ``BinaryMessage``."""
        if self._state is TransportState.CLOSED:
            return []
        if not data:
            return self._receive_eof()
        framer = self._receive_framer
        if framer is None:
            framing = detect_framing(data[0])
            framer = self._receive_framer = make_framer(framing, self._max_message_size)
            if self._send_framer is None:
                self._send_framer = make_framer(framing, self._max_message_size)
        messages: list[bytes | Closed] = []
        try:
            framer.feed(data, messages)  # type: ignore[arg-type]
        except RemoteProtocolError as exc:
            messages.append(self._close_with(Closed(None, exc.message, exc)))
        return messages

    def _receive_eof(self) -> list[bytes | Closed]:
        buffered = self._receive_framer.buffered if self._receive_framer is not None else 0
        if buffered:
            message = f"the stream ended inside a message ({buffered} bytes of it had arrived)"
            return [self._close_with(Closed(None, message, RemoteProtocolError(message)))]
        return [self._close_with(Closed(None, "the peer closed the connection"))]

    def _close_with(self, closed: Closed) -> Closed:
        self._end()
        self._receive_framer = None
        return closed

    def _end(self) -> None:
        """The one move a TCP connection makes: OPEN to CLOSED (there is no closing handshake)."""
        self._state = TransportState.CLOSED

    def next_deadline(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> list[TcpEvent]:
        return []

    def send_message(self, data: str | bytes) -> None:
        """Queue one message (``str`` is sent as UTF-8)."""
        if self._state is not TransportState.OPEN:
            raise LocalProtocolError(
                f"cannot send a message: the connection is {self._state.value}"
            )
        if self._send_framer is None:
            raise LocalProtocolError("cannot send yet: this side answers in the peer's framing")
        payload = data.encode() if isinstance(data, str) else bytes(data)
        self._out.append(self._send_framer.frame(payload))

    def fail(self, code: int, reason: str) -> None:
        """End the connection at once because the protocol on top found bad data.

        The same verb as ``WebSocketConnection.fail``; TCP has no close codes, so there is
        nothing to send and None is the code to report. Ending an ended connection is harmless.
        """
        self._end()

    def fail_with(self, error: RemoteProtocolError) -> Closed:
        """End at once because the peer broke a rule of the protocol on top.

        TCP has no close codes: nothing is sent, and ``error.close_code`` is cleared, since it
        tells which code was sent. Returns the terminal ``Closed``, which carries ``error``.
        """
        self._end()
        error.close_code = None
        return Closed(None, error.message, error)

    def decode_text(self, payload: bytes) -> str:
        """A message's bytes as ``str``, for a protocol that parses text messages.

        A TCP stream carries bytes, not text, so nothing checks its messages on the way in.
        Both JSON framings carry JSON, which is UTF-8 (RFC 8259 §8.1): a protocol that cannot
        parse a message asks here first, and bytes that are not UTF-8 are refused by this rule,
        in the words the WebSocket uses for a text message (a ``RemoteProtocolError`` without a
        close code).
        """
        try:
            return payload.decode()
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError(not_utf8(exc)) from None

    def close(self, code: int = 1000, reason: str = "") -> None:
        """End the connection; TCP has no closing handshake, so the socket can close at once.

        ``code`` and ``reason`` are accepted so callers can treat every transport alike; TCP has
        nowhere to send them.
        """
        if self._state is TransportState.CLOSED:
            raise LocalProtocolError("cannot close: the connection is already closed")
        self._end()
