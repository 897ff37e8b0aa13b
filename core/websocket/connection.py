"""A sans-IO WebSocket connection (RFC 6455), client or server role.

The opening handshake runs on h11 (see ``handshake.py``). Frames are decoded here, in one loop
that parses every complete frame of a ``receive_data`` call with an integer cursor over the
bytes read, and holds only an unfinished frame at their end (the next read completes it with
just the bytes it needs, then goes on in place). wsproto's frame layer is the reference this
decoder is tested against (``tests/core/websocket/test_differential.py``), and it is several
times faster because it makes a handful of Python calls per frame instead of dozens.

What the connection does on its own, so that callers never have to:

* answers pings with pongs and echoes the peer's close frame;
* reassembles fragmented messages and validates UTF-8 in text messages (close 1007);
* refuses a message larger than ``max_message_size`` as soon as a frame header announces it,
  before any of its payload is buffered (close 1009), and a message in more than
  ``max_fragments`` frames (close 1009: empty continuation frames cost no bytes, but each one
  costs time); fragments are gathered in one growing buffer;
* sends keepalive pings every ``ping_interval`` seconds and gives up when no pong comes within
  ``ping_timeout`` (close 1011), and stops waiting for the peer's close frame after
  ``close_timeout`` seconds.

Bad bytes from the peer never raise: ``receive_data`` returns every event decoded before them,
then a ``Closed`` event whose ``error`` is a ``RemoteProtocolError`` saying what was wrong; the
answering close frame is queued and the state is ``CLOSED``.
"""

from __future__ import annotations

import codecs
import enum
import os
import struct
from collections.abc import Callable, Sequence
from typing import Any

from .._guards import check_duration
from .._states import Transitions, move
from ..errors import LocalProtocolError, RemoteProtocolError
from ..transport import (
    BinaryMessage,
    Closed,
    Outbox,
    TextMessage,
    TransportState,
    TransportStates,
    not_utf8,
)
from .events import Ping, Pong, WebSocketEvent
from .frames import (
    MAX_CONTROL_PAYLOAD,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    CloseCode,
    apply_mask,
    check_close_code_to_send,
    encode_close_payload,
    encode_frame,
    parse_close_payload,
)
from .handshake import BadUpgradeRequest, ClientHandshake, ConnectionRejected, ServerHandshake

__all__ = [
    "DEFAULT_MAX_FRAGMENTS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WEBSOCKET_TRANSITIONS",
    "Role",
    "WebSocketConnection",
    "WebSocketInput",
]

DEFAULT_MAX_MESSAGE_SIZE = 32 * 1024 * 1024
DEFAULT_MAX_FRAGMENTS = 65_536
_MAX_SKIPPED_HEAD = 64 * 1024

# What the receive path collects: events, and for ``receive_messages`` whole text payloads too.
# (The public methods say which; inside, one list type serves both.)
_Events = list[Any]

_unpack_u64 = struct.Struct("!Q").unpack_from
# The first four bytes of a header: flags and opcode, mask bit and length, a 16-bit length.
_unpack_head: Callable[[bytes, int], tuple[int, int, int]] = struct.Struct("!BBH").unpack_from
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


def _bytes_missing(held: bytearray) -> int:
    """How many more bytes the frame at the start of ``held`` needs before it can be judged.

    The header is asked for in the stages the decoder checks it: the first two bytes, then the
    extended length, and only then the mask key and payload. Asking for more at once would hold
    bytes the decoder refuses when they arrive in one read, and the same stream would fail
    differently depending on where the reads split it.
    """
    size = len(held)
    if size < 2:
        return 2 - size
    second = held[1]
    length = second & 0x7F
    header = 4 if length == 126 else 10 if length == 127 else 2
    if size < header:
        return header - size
    if length == 126:
        length = (held[2] << 8) | held[3]
    elif length == 127:
        (length,) = _unpack_u64(held, 2)
    if second & 0x80:
        header += 4
    return header + length - size


def _read_header(buffer: bytes, pos: int, client: bool) -> tuple[int, int, int, int, int] | None:
    """The header of the frame at ``pos``: ``(opcode, fin, masked, header size, length)``, or
    None when not all of it has arrived. Raises ``RemoteProtocolError`` for a header that breaks
    RFC 6455, checked in the order its bytes arrive, so that the same stream fails the same way
    wherever the reads split it."""
    size = len(buffer)
    first, second = buffer[pos], buffer[pos + 1]
    opcode, fin, length = first & 0x0F, first & 0x80, second & 0x7F
    if opcode > OP_BINARY and opcode not in (OP_CLOSE, OP_PING, OP_PONG):
        raise _broken(f"frame with reserved opcode {opcode:#x}")
    if opcode >= OP_CLOSE:
        if not fin:
            raise _broken("fragmented control frame (control frames must be whole)")
        if length > MAX_CONTROL_PAYLOAD:
            raise _broken(f"control frame with a payload over 125 bytes ({length})")
    header = 2
    if length == 126:
        if size - pos < 4:
            return None
        length = (buffer[pos + 2] << 8) | buffer[pos + 3]
        if length < 126:
            raise _broken(f"payload length {length} sent in 2 bytes instead of 1")
        header = 4
    elif length == 127:
        if size - pos < 10:
            return None
        (length,) = _unpack_u64(buffer, pos + 2)
        if length >> 63:
            raise _broken("64-bit payload length with the most significant bit set")
        if length < 65536:
            raise _broken(f"payload length {length} sent in 8 bytes instead of 2")
        header = 10
    if first & 0x70:
        raise _broken("frame with a reserved bit set (no extension was agreed)")
    masked = second & 0x80
    if masked and client:
        raise _broken("the server sent a masked frame")
    if not masked and not client:
        raise _broken("the client sent an unmasked frame")
    return opcode, fin, masked, header + 4 if masked else header, length


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class WebSocketInput(enum.Enum):
    """What moves a ``WebSocketConnection`` from one state to the next."""

    OPENED = "open"  # the opening handshake succeeded (the 101 came, or the server accepted)
    CLOSE = "close"  # this side starts the closing handshake
    ABANDON = "abandon the handshake"  # ``close()`` before the opening handshake finished
    END = "end"  # over: the close answered, a failure, a refusal, a timeout, the stream's end


_S, _I = TransportState, WebSocketInput

#: Every move of a ``WebSocketConnection``; a missing pair cannot happen, or is a second close.
WEBSOCKET_TRANSITIONS: Transitions[TransportState, WebSocketInput] = {
    (_S.CONNECTING, _I.OPENED): _S.OPEN,
    (_S.CONNECTING, _I.ABANDON): _S.CLOSED,
    (_S.CONNECTING, _I.END): _S.CLOSED,
    (_S.OPEN, _I.CLOSE): _S.CLOSING,
    (_S.OPEN, _I.END): _S.CLOSED,
    (_S.CLOSING, _I.END): _S.CLOSED,
    (_S.CLOSED, _I.END): _S.CLOSED,  # failing an ended connection is harmless
}


_FIN_TEXT = 0x80 | OP_TEXT


def _broken(message: str) -> RemoteProtocolError:
    return RemoteProtocolError(message, CloseCode.PROTOCOL_ERROR)


def _too_big(message: str) -> RemoteProtocolError:
    return RemoteProtocolError(message, CloseCode.MESSAGE_TOO_BIG)


def decode_text(payload: bytes) -> str:
    """A text message's payload as ``str``; RFC 6455 refuses one that is not UTF-8 (close 1007).

    The one place the WebSocket's text rule is decided: for a whole message here, for a
    fragmented one as its fragments arrive (in the same words), and for a protocol layer that
    parses raw payloads itself through ``WebSocketConnection.decode_text``.
    """
    try:
        return payload.decode()
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(not_utf8(exc), CloseCode.INVALID_DATA) from None


class WebSocketConnection(Outbox, TransportStates):
    """One WebSocket conversation, bytes in and bytes out, with no I/O of its own.

    Client role: give ``host`` (and ``target``, ``subprotocols``, ``extra_headers`` such as
    Origin or Authorization); the upgrade request is queued at once, so the first
    ``data_to_send()`` returns it. Server role: ``receive_data`` returns a ``ConnectionRequest``,
    answered with ``accept()`` or ``reject()``.

    ``already_open=True`` starts past the handshake, for streams captured after it; an HTTP head
    at the start (a response head in the client role, a request head in the server role) is
    skipped.

    ``max_message_size`` bounds a message in bytes and ``max_fragments`` in frames (close 1009
    past either). ``ping_interval``, ``ping_timeout`` and ``close_timeout`` are seconds; one that
    is NaN, infinite or negative raises ``LocalProtocolError``.
    """

    def __init__(
        self,
        role: Role,
        *,
        host: str | None = None,
        target: str = "/",
        subprotocols: Sequence[str] = (),
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        ping_interval: float | None = None,
        ping_timeout: float = 20.0,
        close_timeout: float = 10.0,
        already_open: bool = False,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if max_message_size < 1:
            raise ValueError("max_message_size must be at least 1 byte")
        if max_fragments < 1:
            raise ValueError("max_fragments must be at least 1")
        if ping_interval is not None:
            check_duration("ping_interval", ping_interval, positive=True)
        check_duration("ping_timeout", ping_timeout, positive=True)
        check_duration("close_timeout", close_timeout)
        self.role = role
        self._client = role is Role.CLIENT
        self._max_message_size = max_message_size
        self._max_fragments = max_fragments
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._random_bytes = random_bytes

        self._buffer = bytearray()
        self._out: list[bytes] = []
        self._now = 0.0
        # A fragmented message in progress: its opcode (0 when none), its payload so far in one
        # growing buffer, and how many frames brought it.
        self._frag_opcode = 0
        self._frag_buffer = bytearray()
        self._frag_count = 0
        self._frag_decoder: codecs.IncrementalDecoder | None = None
        # Timers, as absolute times on the caller's clock.
        self._next_ping_at: float | None = None
        self._pong_deadline: float | None = None
        self._ping_payload: bytes | None = None
        self._close_deadline: float | None = None

        self._client_handshake: ClientHandshake | None = None
        self._server_handshake: ServerHandshake | None = None
        self._skip_head = False
        self._request_delivered = False
        self._keepalive_unstarted = False
        if already_open:
            # The keepalive clock starts at the first ``now`` the connection is given.
            self._state = TransportState.OPEN
            self._skip_head = True
            self._keepalive_unstarted = ping_interval is not None
        elif self._client:
            if not host:
                raise ValueError("the client role needs the server's host name")
            nonce = codecs.encode(random_bytes(16), "base64").strip()
            self._client_handshake = ClientHandshake(
                host, target, nonce, subprotocols, extra_headers
            )
            self._out.append(self._client_handshake.request_bytes)
            self._state = TransportState.CONNECTING
        else:
            self._server_handshake = ServerHandshake()
            self._state = TransportState.CONNECTING

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.role.value} {self._state.value}>"

    # -- the connection contract ---------------------------------------------------------------

    @property
    def state(self) -> TransportState:
        return self._state

    def receive_data(self, data: bytes, now: float) -> list[WebSocketEvent]:
        """Feed bytes from the peer (``b""`` when the peer closed); returns what they meant."""
        return self._receive(data, now, False)

    def receive_messages(self, data: bytes, now: float) -> list[bytes | WebSocketEvent]:
        """``receive_data`` for a protocol layer that parses text messages itself.

        A whole text message comes as its payload ``bytes``: the layer parses them (a typed
        decoder straight from bytes is the fastest there is), and when it cannot, asks
        ``decode_text`` first, so that bytes that are not text end the connection with this
        layer's error (1007) rather than the protocol's. The UTF-8 of a message that came in one
        frame is not checked yet (the layer checks it); of one that came in fragments, it was
        checked fragment by fragment as they came. This spares an event object and a decode per
        message. Everything else comes as events.
        """
        return self._receive(data, now, True)

    def _receive(self, data: bytes, now: float, raw: bool) -> _Events:
        self._now = now
        if self._state is TransportState.CLOSED:
            return []
        if self._keepalive_unstarted:
            self._keepalive_unstarted = False
            self._start_keepalive()
        events: _Events = []
        if self._state is TransportState.CONNECTING:
            data = self._receive_handshake(data, events)
            # ``self.state``, not ``self._state``: the handshake has just changed it.
            if self.state is not TransportState.OPEN or not data:
                return events
        elif not data:
            self._receive_eof(events)
            return events
        if type(data) is not bytes:
            data = bytes(data)  # the payloads handed out are slices of it, and must be bytes
        if self._skip_head:
            buffer = self._buffer
            buffer += data
            if not self._skip_http_head(events):
                return events
            data = bytes(buffer)
            buffer.clear()
        self._receive_frames(data, events, raw)
        return events

    def _receive_frames(self, data: bytes, events: _Events, raw: bool) -> None:
        """Decode the frames ``data`` completes, and hold an unfinished one at its end."""
        buffer = self._buffer
        start = 0
        if buffer:
            start = self._complete_held_frame(data, events, raw)
            if buffer or self._state is TransportState.CLOSED:
                return
        used = self._decode_frames(data, events, raw, start)
        if used < len(data) and self._state is not TransportState.CLOSED:
            buffer += memoryview(data)[used:]

    def _complete_held_frame(self, data: bytes, events: _Events, raw: bool) -> int:
        """Finish the frame held from the last call; returns how many bytes of ``data`` it took.

        The held frame takes only the bytes it still needs, its header first so that a header
        announcing too much is refused before any payload is held. The frames after it are then
        cut from ``data`` in place: a read seldom ends on a frame boundary, and appending each
        read to the held bytes would copy every payload in it twice more.
        """
        buffer = self._buffer
        view = memoryview(data)
        used = 0
        while used < len(data):
            missing = _bytes_missing(buffer)
            piece = view[used : used + missing]
            buffer += piece
            used += len(piece)
            if len(piece) < missing:
                break  # still unfinished: wait for the next read
            # The header is complete (checked now) or the whole frame is (decoded now).
            del buffer[: self._decode_frames(bytes(buffer), events, raw)]
            if not buffer or self._state is TransportState.CLOSED:
                break
        return used

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must next run, on the clock ``now`` comes from; None if never."""
        if self._state is TransportState.CLOSING:
            return self._close_deadline
        if self._state is not TransportState.OPEN:
            return None
        if self._pong_deadline is not None:
            return self._pong_deadline
        return self._next_ping_at

    def handle_timer(self, now: float) -> list[WebSocketEvent]:
        """Run whatever timers are due at ``now``: keepalive pings, pong and close deadlines."""
        self._now = now
        events: list[WebSocketEvent] = []
        if self._state is TransportState.CLOSING:
            if self._close_deadline is not None and now >= self._close_deadline:
                self._finish(
                    events,
                    Closed(
                        CloseCode.ABNORMAL,
                        f"the peer did not answer the close frame within {self._close_timeout:g} s",
                    ),
                )
        elif self._state is TransportState.OPEN:
            if self._pong_deadline is not None:
                if now >= self._pong_deadline:
                    reason = f"keepalive ping timed out: no pong within {self._ping_timeout:g} s"
                    self._queue_close(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
                    self._finish(events, Closed(CloseCode.INTERNAL_ERROR, reason))
            elif self._next_ping_at is not None and now >= self._next_ping_at:
                self._ping_payload = self._random_bytes(4)
                self._out.append(self._frame(OP_PING, self._ping_payload))
                self._pong_deadline = now + self._ping_timeout
                assert self._ping_interval is not None
                self._next_ping_at = now + self._ping_interval
        return events

    # -- sending ---------------------------------------------------------------------------------

    def send_text(self, data: str | bytes) -> None:
        """Queue a text message. ``bytes`` must already be UTF-8 text (as ``dumps`` writes)."""
        self._require_open("send a message")
        self._out.append(self._frame(OP_TEXT, data.encode() if isinstance(data, str) else data))

    send_message = send_text

    def send_binary(self, data: bytes) -> None:
        """Queue a binary message."""
        self._require_open("send a message")
        self._out.append(self._frame(OP_BINARY, bytes(data)))

    def ping(self, payload: bytes = b"") -> None:
        """Queue a ping; its pong arrives as a ``Pong`` event."""
        self._require_open("send a ping")
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError(
                f"a ping payload may hold at most 125 bytes, not {len(payload)}"
            )
        self._out.append(self._frame(OP_PING, bytes(payload)))

    def close(
        self, code: int = CloseCode.NORMAL, reason: str = "", *, now: float | None = None
    ) -> None:
        """Start the closing handshake (or, before the handshake finished, simply give up).

        The peer's answering close frame arrives as a ``Closed`` event. Without one within
        ``close_timeout`` seconds (counted from ``now``, or from the last time the connection was
        given), ``handle_timer`` ends the connection with code 1006.
        """
        if now is not None:
            self._now = now
        if self._state is TransportState.CONNECTING:
            self._move(WebSocketInput.ABANDON)
            self._client_handshake = self._server_handshake = None
            return
        move(WEBSOCKET_TRANSITIONS, self._state, WebSocketInput.CLOSE)  # refuses a second close
        problem = check_close_code_to_send(code)
        if problem is not None:
            raise LocalProtocolError(problem)
        self._queue_close(code, reason)
        self._move(WebSocketInput.CLOSE)
        self._close_deadline = self._now + self._close_timeout
        self._next_ping_at = self._pong_deadline = None

    def fail(self, code: int, reason: str) -> int:
        """End the connection at once because the peer broke a rule of the protocol on top.

        The close frame is queued but no answer is awaited: the state becomes CLOSED and the
        socket can be closed as soon as ``data_to_send()`` is flushed. Used by protocol
        connections when a well-formed WebSocket message holds something they cannot decode.
        Returns ``code``, the close code to report (transports without codes return None).
        """
        problem = check_close_code_to_send(code)
        if problem is not None:
            raise LocalProtocolError(problem)
        if self._state is TransportState.OPEN:
            self._queue_close(code, reason)
        self._shut_down()
        return code

    def fail_with(self, error: RemoteProtocolError) -> Closed:
        """End at once because the peer broke a rule, found here or by the protocol on top.

        The close frame answering ``error`` (its ``close_code``, 1002 when it has none) is queued
        and no answer is awaited, as with ``fail``. Returns the terminal ``Closed`` event, which
        carries ``error`` itself.
        """
        code = error.close_code if error.close_code is not None else CloseCode.PROTOCOL_ERROR
        self.fail(code, error.message)
        return Closed(code, error.message, error)

    def decode_text(self, payload: bytes) -> str:
        """A text message handed out as raw bytes by ``receive_messages``, as ``str``.

        Raises ``RemoteProtocolError`` (close code 1007) when it is not UTF-8: the protocol layer
        lets that error end the connection rather than report its own reading of the bytes.
        """
        return decode_text(payload)

    def accept(
        self,
        subprotocol: str | None = None,
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
    ) -> list[WebSocketEvent]:
        """Server role: accept the ``ConnectionRequest``; the connection becomes OPEN.

        Returns the events of any frames the client sent before this answer (RFC 6455 asks
        clients to wait, so this is nearly always empty).
        """
        handshake = self._pending_server_handshake("accept")
        response, early_bytes = handshake.accept(subprotocol, extra_headers)
        self._out.append(response)
        self._server_handshake = None
        self._open()
        events: _Events = []
        if early_bytes:
            self._receive_frames(bytes(early_bytes), events, False)
        return events

    def reject(
        self,
        status_code: int = 403,
        body: bytes = b"",
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
    ) -> None:
        """Server role: refuse the ``ConnectionRequest`` with an HTTP response, and close."""
        handshake = self._pending_server_handshake("reject")
        self._out.append(handshake.reject(status_code, body, extra_headers))
        self._server_handshake = None
        self._move(WebSocketInput.END)

    # -- internals -------------------------------------------------------------------------------

    def _pending_server_handshake(self, verb: str) -> ServerHandshake:
        if self._server_handshake is None or not self._request_delivered:
            raise LocalProtocolError(f"{verb}() answers a ConnectionRequest, and none is waiting")
        return self._server_handshake

    def _require_open(self, action: str) -> None:
        if self._state is not TransportState.OPEN:
            raise LocalProtocolError(f"cannot {action}: the connection is {self._state.value}")

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        mask_key = self._random_bytes(4) if self._client else None
        return encode_frame(opcode, payload, mask_key=mask_key)

    def _queue_close(self, code: int, reason: str) -> None:
        self._out.append(self._frame(OP_CLOSE, encode_close_payload(code, reason)))

    def _open(self) -> None:
        self._move(WebSocketInput.OPENED)
        self._start_keepalive()

    def _start_keepalive(self) -> None:
        if self._ping_interval is not None:
            self._next_ping_at = self._now + self._ping_interval

    def _move(self, happened: WebSocketInput) -> None:
        """The one place the state changes: by ``WEBSOCKET_TRANSITIONS``."""
        self._state = move(WEBSOCKET_TRANSITIONS, self._state, happened)

    def _shut_down(self) -> None:
        self._move(WebSocketInput.END)
        self._buffer.clear()
        self._frag_buffer = bytearray()
        self._next_ping_at = self._pong_deadline = self._close_deadline = None

    def _finish(self, events: _Events, closed: Closed) -> None:
        self._shut_down()
        events.append(closed)

    def _receive_handshake(self, data: bytes, events: _Events) -> bytes:
        """Advance the opening handshake; returns the frame bytes that followed it, if any."""
        if self._client_handshake is not None:
            try:
                result, trailing = self._client_handshake.receive_data(data)
            except RemoteProtocolError as exc:
                self._finish(events, Closed(CloseCode.ABNORMAL, exc.message, exc))
                return b""
            if result is None:
                return b""
            events.append(result)
            self._client_handshake = None
            if isinstance(result, ConnectionRejected):
                reason = f"the server refused the WebSocket upgrade with HTTP {result.status_code}"
                self._finish(events, Closed(CloseCode.ABNORMAL, reason))
                return b""
            self._open()
            return trailing
        assert self._server_handshake is not None
        try:
            request = self._server_handshake.receive_data(data)
        except BadUpgradeRequest as exc:
            self._out.append(
                self._server_handshake.reject(exc.status_code, exc.message.encode(), exc.headers)
            )
            self._server_handshake = None
            self._finish(events, Closed(CloseCode.ABNORMAL, exc.message, exc))
            return b""
        if request is not None and not self._request_delivered:
            self._request_delivered = True
            events.append(request)
        return b""

    def _skip_http_head(self, events: _Events) -> bool:
        """For captured streams: drop an HTTP head at the start. False while undecided."""
        prefix = b"HTTP/" if self._client else b"GET "
        buffer = self._buffer
        if len(buffer) < len(prefix) and prefix.startswith(buffer):
            return False
        if buffer.startswith(prefix):
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_SKIPPED_HEAD:
                    message = (
                        f"the stream starts with an HTTP head over {_MAX_SKIPPED_HEAD} bytes long"
                    )
                    events.append(self.fail_with(_broken(message)))
                return False
            del buffer[: end + 4]
        self._skip_head = False
        return True

    def _receive_eof(self, events: _Events) -> None:
        if self._buffer or self._frag_opcode:
            if self._buffer:
                what = f"inside a frame ({len(self._buffer)} bytes of it had arrived)"
            else:
                size = len(self._frag_buffer)
                what = f"inside a fragmented message ({size} bytes of it had arrived)"
            message = f"the stream ended {what}"
            self._finish(
                events,
                Closed(
                    CloseCode.ABNORMAL, message, RemoteProtocolError(message, CloseCode.ABNORMAL)
                ),
            )
        elif self._state is TransportState.CLOSING:
            self._finish(
                events,
                Closed(
                    CloseCode.ABNORMAL,
                    "the peer closed the connection without answering the close frame",
                ),
            )
        else:
            self._finish(
                events,
                Closed(
                    CloseCode.ABNORMAL, "the peer closed the connection without a closing handshake"
                ),
            )

    def _receive_close(self, events: _Events, code: int, reason: str) -> None:
        if self._state is TransportState.OPEN:
            # Echo the peer's code, as RFC 6455 §5.5.1 asks (an empty close when it gave none).
            self._out.append(self._frame(OP_CLOSE, encode_close_payload(code, reason)))
        self._finish(events, Closed(code, reason))

    def _decode_frames(self, buffer: bytes, events: _Events, raw: bool, start: int = 0) -> int:
        """Decode every complete frame in ``buffer`` from ``start`` on; returns where they end.

        On bad bytes, fails the connection (what follows them no longer matters). ``raw``: a
        whole text message is appended as its payload bytes, not as a ``TextMessage``.
        """
        size = len(buffer)
        pos = start
        try:
            while size - pos >= 2:
                if self._client and not self._frag_opcode:
                    pos = self._take_text_frames(buffer, pos, events, raw)
                    if size - pos < 2:
                        break
                end = self._decode_frame(buffer, pos, events, raw)
                if end < 0 or self._state is TransportState.CLOSED:
                    return pos if end < 0 else end
                pos = end
        except RemoteProtocolError as exc:
            events.append(self.fail_with(exc))
        return pos

    def _take_text_frames(self, buffer: bytes, pos: int, events: _Events, raw: bool) -> int:
        """The decoder for the frames a stream is made of: whole, unmasked text frames from the
        server of up to 64 KiB, each header read with one call. Returns where the first frame
        of any other shape (or an unfinished one) starts, for ``_decode_frame`` to judge."""
        append = events.append
        size = len(buffer)
        short_limit = min(125, self._max_message_size)  # a length in the second byte, as it is
        long_limit = self._max_message_size
        last_header = size - 4  # the last position whose four header bytes are all read
        while pos <= last_header:
            first, second, length = _unpack_head(buffer, pos)
            if first != _FIN_TEXT:
                break
            if second <= short_limit:
                start = pos + 2
                end = start + second
            elif second == 126 and 126 <= length <= long_limit:
                start = pos + 4
                end = start + length
            else:
                break
            if end > size:
                break
            payload = buffer[start:end]
            pos = end
            append(payload if raw else TextMessage(decode_text(payload)))
        return pos

    def _decode_frame(self, buffer: bytes, pos: int, events: _Events, raw: bool) -> int:
        """Decode the frame at ``pos``, of any shape; returns where it ends, or -1 when it is
        not complete yet. Raises ``RemoteProtocolError`` for a frame that breaks RFC 6455."""
        header = _read_header(buffer, pos, self._client)
        if header is None:
            return -1
        opcode, fin, masked, header_size, length = header
        if opcode < OP_CLOSE and (
            opcode == OP_CONTINUATION or self._frag_opcode or length > self._max_message_size
        ):
            self._check_data_frame(opcode, length)
        start = pos + header_size
        end = start + length
        if end > len(buffer):
            return -1
        payload = buffer[start:end]
        if masked:
            payload = apply_mask(payload, buffer[start - 4 : start])
        self._receive_frame(opcode, fin, payload, events, raw)
        return end

    def _receive_frame(
        self, opcode: int, fin: int, payload: bytes, events: _Events, raw: bool
    ) -> None:
        """Act on one whole frame's payload."""
        if opcode == OP_TEXT and fin:
            events.append(payload if raw else TextMessage(decode_text(payload)))
        elif opcode == OP_BINARY and fin:
            events.append(BinaryMessage(payload))
        elif opcode < OP_CLOSE:
            self._receive_fragment(events.append, opcode, payload, fin, raw)
        elif opcode == OP_PING:
            if self._state is TransportState.OPEN:
                self._out.append(self._frame(OP_PONG, payload))
            events.append(Ping(payload))
        elif opcode == OP_PONG:
            if self._ping_payload is not None and payload == self._ping_payload:
                self._ping_payload = self._pong_deadline = None
            events.append(Pong(payload))
        else:
            code, reason = parse_close_payload(payload)  # InvalidClosePayload: ends here
            self._receive_close(events, code, reason)

    def _check_data_frame(self, opcode: int, length: int) -> None:
        """Check fragment order and the size limit from the header, before buffering the payload."""
        if opcode == OP_CONTINUATION:
            if not self._frag_opcode:
                raise _broken("continuation frame with no fragmented message in progress")
            if self._frag_count >= self._max_fragments:
                raise _too_big(
                    f"message in more than {self._max_fragments} fragments exceeds the limit",
                )
            total = len(self._frag_buffer) + length
        else:
            if self._frag_opcode:
                raise _broken("new data frame while a fragmented message is in progress")
            total = length
        if total > self._max_message_size:
            raise _too_big(
                f"message of {total} bytes or more exceeds the limit of "
                f"{self._max_message_size} bytes",
            )

    def _receive_fragment(
        self, append: Callable[[Any], None], opcode: int, payload: bytes, fin: int, raw: bool
    ) -> None:
        if opcode != OP_CONTINUATION:
            self._frag_opcode = opcode
            self._frag_count = 0
            self._frag_decoder = None
        self._frag_count += 1
        if self._frag_opcode == OP_TEXT:
            self._check_text_fragment(payload, fin)
        buffer = self._frag_buffer
        buffer += payload
        if fin:
            if self._frag_opcode != OP_TEXT:
                append(BinaryMessage(bytes(buffer)))
            else:
                append(bytes(buffer) if raw else TextMessage(buffer.decode()))
            self._frag_buffer = bytearray()
            self._frag_opcode = 0
            self._frag_decoder = None

    def _check_text_fragment(self, payload: bytes, fin: int) -> None:
        """Validate each fragment of a text message as it comes, so bad UTF-8 fails at once
        (as wsproto does). While every fragment so far was ASCII no character can be unfinished,
        so an ASCII fragment needs no decoder; the first other one starts it. The text itself is
        decoded once, whole: a list of pieces costs an object per fragment, which a peer sending
        2-byte fragments turns into 30 times the payload."""
        decoder = self._frag_decoder
        if decoder is None:
            if payload.isascii():
                return
            decoder = self._frag_decoder = _Utf8Decoder()
        try:
            decoder.decode(payload, bool(fin))
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError(not_utf8(exc), CloseCode.INVALID_DATA) from None
