"""The server side of a Tradovate WebSocket connection, sans-IO.

The simulators and the tests are built on it. It turns client request documents and ``[]``
heartbeats into events, and sends what a Tradovate server sends: the ``o`` frame, responses and
server events in ``a`` frames, ``h`` heartbeats while idle (never while streaming), and ``c``
close frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._server_connection import ServerConnection
from .._timers import earliest
from ..errors import LocalProtocolError, RemoteProtocolError
from ..transport import BinaryMessage, Closed, TextMessage, TransportState
from ..websocket import (
    DEFAULT_MAX_FRAGMENTS,
    DEFAULT_MAX_MESSAGE_SIZE,
    ConnectionRequest,
    Role,
    WebSocketConnection,
    WebSocketEvent,
)
from .codec import (
    CLIENT_HEARTBEAT,
    FRAME_HEARTBEAT,
    FRAME_OPEN,
    FrameError,
    decode_request,
    encode_close,
    encode_messages,
    event_message,
    response_message,
)
from .events import ClientHeartbeat, ClientRequest

__all__ = ["TradovateServerConnection"]

ServerEvent = ConnectionRequest | ClientRequest | ClientHeartbeat | Closed


class TradovateServerConnection(ServerConnection[ServerEvent, WebSocketConnection]):
    """A server's conversation with one Tradovate client.

    ``receive_data`` first returns a ``ConnectionRequest``: answer it with ``accept()`` (which
    sends ``o``) or ``reject()``. ``heartbeat_interval`` sends ``h`` at the end of each such
    interval in which nothing else was sent; ``idle_timeout`` closes the connection when the
    client sends nothing (not even ``[]``) for that long. Both are off when ``None``; a
    duration that is NaN, infinite, zero or negative raises ``LocalProtocolError``.
    ``max_message_size`` and ``max_fragments`` bound what one client message may take, as on
    ``WebSocketConnection``.

    Its state is the WebSocket's until the conversation ends, then CLOSED (``ServerConnection``).
    """

    def __init__(
        self,
        *,
        heartbeat_interval: float | None = 2.5,
        idle_timeout: float | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
    ) -> None:
        self._set_timers(heartbeat_interval, idle_timeout)
        self._transport = WebSocketConnection(
            Role.SERVER, max_message_size=max_message_size, max_fragments=max_fragments
        )

    def __repr__(self) -> str:
        return f"<TradovateServerConnection {self.state.value}>"

    def receive_data(self, data: bytes, now: float) -> list[ServerEvent]:
        """Feed bytes from the client (``b""`` when it closed); returns what they meant."""
        self._now = now
        if self._closed:
            return []
        if data:
            self._last_received = now
        events: list[ServerEvent] = []
        self._translate(self._transport.receive_data(data, now), events)
        return events

    def _translate(self, ws_events: Sequence[WebSocketEvent], events: list[ServerEvent]) -> None:
        """Turn WebSocket events into Tradovate server-side events."""
        for ws_event in ws_events:
            if type(ws_event) is TextMessage:
                text = ws_event.data
                if text == CLIENT_HEARTBEAT:
                    events.append(ClientHeartbeat())
                    continue
                try:
                    events.append(ClientRequest(decode_request(text)))
                except RemoteProtocolError as exc:
                    self._fail(events, exc)
                    return
            elif type(ws_event) is BinaryMessage:
                message = "the client sent a binary message; Tradovate speaks text only"
                self._fail(events, FrameError(message, 1003))
                return
            elif type(ws_event) is ConnectionRequest:
                events.append(ws_event)
            elif type(ws_event) is Closed:
                self._end()
                events.append(ws_event)

    def next_deadline(self) -> float | None:
        if self.state is not TransportState.OPEN:
            return self._transport.next_deadline() if not self._closed else None
        return earliest(self._transport.next_deadline(), self._heartbeat.due, self._idle_deadline())

    def handle_timer(self, now: float) -> list[ServerEvent]:
        self._now = now
        events: list[ServerEvent] = []
        if self._closed:
            return events
        for ws_event in self._transport.handle_timer(now):
            if type(ws_event) is Closed:
                self._end()
                events.append(ws_event)
                return events
        if self.state is not TransportState.OPEN:
            return events
        if self._idle_timed_out(now, events):
            return events
        if self._heartbeat.check(now):
            self._transport.send_text(FRAME_HEARTBEAT)
        return events

    # -- sending -----------------------------------------------------------------------------------

    def accept(self, *, now: float | None = None) -> list[ServerEvent]:
        """Accept the WebSocket upgrade and send the ``o`` frame.

        Returns the events of anything the client sent before this answer (usually nothing).
        """
        if now is not None:
            self._now = now
        early = self._transport.accept()
        self._last_received = self._now
        self._send_text(FRAME_OPEN)
        self._heartbeat.start(self._now)
        events: list[ServerEvent] = []
        self._translate(early, events)
        return events

    def reject(self, status_code: int = 403, body: bytes = b"") -> None:
        """Refuse the WebSocket upgrade with an HTTP response."""
        self._transport.reject(status_code, body)
        self._end()

    def respond(self, request_id: int, status: int = 200, data: Any = None) -> None:
        """Answer a request (``data`` becomes ``d``; for errors, pass the error text)."""
        self.send_messages([response_message(request_id, status, data)])

    def send_event(self, kind: str, data: Any) -> None:
        """Send one server event, e.g. ``send_event("md", {"quotes": [...]})``."""
        self.send_messages([event_message(kind, data)])

    def send_messages(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Send responses and events together in one ``a`` frame, in order."""
        if not messages:
            raise LocalProtocolError("an 'a' frame needs at least one message")
        self._send_text(encode_messages(messages))

    def send_heartbeat(self) -> None:
        """Send ``h`` now (the heartbeat timer does this on its own while idle)."""
        self._send_text(FRAME_HEARTBEAT)

    def send_close_frame(self, code: int = 3000, reason: str = "Go away!") -> None:
        """Send ``c[code, "reason"]``; the client answers by closing the WebSocket."""
        self._send_text(encode_close(code, reason))

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """Close the WebSocket."""
        self._transport.close(code, reason, now=now)

    def _send_text(self, text: str) -> None:
        if self._closed:
            raise LocalProtocolError("cannot send: the connection is closed")
        self._transport.send_text(text)
        self._heartbeat.note_sent()
