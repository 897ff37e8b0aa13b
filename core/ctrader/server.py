"""The server side of a cTrader Open API (JSON) connection, over WebSocket or TCP, sans-IO.

The simulators and the tests are built on it. Every message from the client becomes a
``ClientMessage`` (heartbeats included); the server answers with ``send`` and ``send_error``.
Over TCP it answers in whichever framing the client uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._server_connection import ServerConnection
from .._timers import earliest
from ..errors import LocalProtocolError, RemoteProtocolError
from ..tcp import DEFAULT_MAX_MESSAGE_SIZE, TcpConnection
from ..transport import BinaryMessage, Closed, TextMessage, TransportState, text_rule_first
from ..websocket import DEFAULT_MAX_FRAGMENTS, ConnectionRequest, Role, WebSocketConnection
from .codec import decode_envelope, encode_envelope
from .events import ClientMessage
from .tables import PayloadType

__all__ = ["CTraderServerConnection"]

ServerSideEvent = ConnectionRequest | ClientMessage | Closed
_HEARTBEAT_MESSAGE = encode_envelope(PayloadType.HEARTBEAT_EVENT)


class CTraderServerConnection(
    ServerConnection[ServerSideEvent, WebSocketConnection | TcpConnection]
):
    """A server's conversation with one cTrader client.

    ``heartbeat_interval`` sends ``{"payloadType": 51}`` at the end of each such interval in
    which nothing else was sent; ``idle_timeout`` ends the connection when the client sends
    nothing for that long. Both are off when ``None``; a duration that is NaN, infinite, zero
    or negative raises ``LocalProtocolError``.

    Its state is the transport's until the conversation ends, then CLOSED (``ServerConnection``).
    """

    def __init__(
        self,
        transport: WebSocketConnection | TcpConnection,
        *,
        heartbeat_interval: float | None = 30.0,
        idle_timeout: float | None = None,
    ) -> None:
        self._set_timers(heartbeat_interval, idle_timeout)
        self._transport = transport

    @classmethod
    def websocket(
        cls,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        **options: Any,
    ) -> CTraderServerConnection:
        """Over a WebSocket; ``max_message_size`` and ``max_fragments`` bound one message."""
        transport = WebSocketConnection(
            Role.SERVER, max_message_size=max_message_size, max_fragments=max_fragments
        )
        return cls(transport, **options)

    @classmethod
    def tcp(
        cls, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE, **options: Any
    ) -> CTraderServerConnection:
        """Over TCP, recognising the client's framing and answering in it."""
        return cls(TcpConnection(None, max_message_size=max_message_size), **options)

    def __repr__(self) -> str:
        return f"<CTraderServerConnection {self.state.value}>"

    def receive_data(self, data: bytes, now: float) -> list[ServerSideEvent]:
        self._now = now
        if self._closed:
            return []
        if data:
            self._last_received = now
            if self._heartbeat.due is None:
                self._heartbeat.start(now)  # over TCP, the first bytes mark the start
        events: list[ServerSideEvent] = []
        self._translate(self._transport.receive_data(data, now), events)
        return events

    def _translate(self, transport_events: Sequence[object], events: list[ServerSideEvent]) -> None:
        for t_event in transport_events:
            if isinstance(t_event, TextMessage | BinaryMessage):
                try:
                    events.append(ClientMessage(decode_envelope(t_event.data)))
                except RemoteProtocolError as exc:
                    if type(t_event) is BinaryMessage:
                        exc = text_rule_first(self._transport.decode_text, t_event.data, exc)
                    self._fail(events, exc)
                    return
            elif isinstance(t_event, ConnectionRequest):
                events.append(t_event)
            elif isinstance(t_event, Closed):
                self._end()
                events.append(t_event)

    def next_deadline(self) -> float | None:
        if self._closed:
            return None
        return earliest(self._transport.next_deadline(), self._heartbeat.due, self._idle_deadline())

    def handle_timer(self, now: float) -> list[ServerSideEvent]:
        self._now = now
        events: list[ServerSideEvent] = []
        if self._closed:
            return events
        self._translate(self._transport.handle_timer(now), events)
        if self._closed or self._transport.state is not TransportState.OPEN:
            return events
        if self._idle_timed_out(now, events):
            return events
        if self._heartbeat.check(now):
            self._transport.send_message(_HEARTBEAT_MESSAGE)
        return events

    # -- sending -----------------------------------------------------------------------------------

    def accept(self, *, now: float | None = None) -> list[ServerSideEvent]:
        """WebSocket only: accept the upgrade. Returns events of anything the client sent early."""
        if not isinstance(self._transport, WebSocketConnection):
            raise LocalProtocolError("a TCP connection has no handshake to accept")
        if now is not None:
            self._now = now
        early = self._transport.accept()
        self._last_received = self._now
        self._heartbeat.start(self._now)
        events: list[ServerSideEvent] = []
        self._translate(early, events)
        return events

    def reject(self, status_code: int = 403, body: bytes = b"") -> None:
        """WebSocket only: refuse the upgrade with an HTTP response."""
        if not isinstance(self._transport, WebSocketConnection):
            raise LocalProtocolError("a TCP connection has no handshake to reject")
        self._transport.reject(status_code, body)
        self._end()

    def send(
        self,
        payload_type: int,
        payload: Mapping[str, Any] | None = None,
        client_msg_id: str | None = None,
    ) -> None:
        """Send one message (an answer carries the request's ``client_msg_id``)."""
        if self._closed:
            raise LocalProtocolError("cannot send: the connection is closed")
        self._transport.send_message(encode_envelope(payload_type, payload, client_msg_id))
        self._heartbeat.note_sent()

    def send_error(
        self,
        client_msg_id: str | None,
        error_code: str,
        description: str = "",
        *,
        payload_type: int = PayloadType.PROTO_OA_ERROR_RES,
        **fields: Any,
    ) -> None:
        """Send an error answer (2142 by default; 50 or 2132 by ``payload_type``)."""
        payload: dict[str, Any] = {"errorCode": error_code}
        if description:
            payload["description"] = description
        payload.update(fields)
        self.send(payload_type, payload, client_msg_id)

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """Close: the WebSocket closing handshake, or the TCP stream at once."""
        if isinstance(self._transport, WebSocketConnection):
            self._transport.close(code, reason, now=now)
        else:
            self._transport.close()
            self._end()
