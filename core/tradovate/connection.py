"""The client side of a Tradovate WebSocket connection, sans-IO.

``TradovateConnection`` owns the WebSocket underneath and everything the protocol asks of a
client: it waits for the ``o`` frame, sends ``authorize``, numbers requests and matches their
answers, sends the ``[]`` heartbeat every 2.5 s on a timer whatever the server is doing (the
server sends no ``h`` while it streams, so a client that only answers ``h`` starves the link),
watches for a silent link, times requests out, and remembers subscriptions for a reconnect.

Every request gets exactly one outcome event — ``Response``, ``ErrorResponse``, ``Penalty``,
``RateLimited``, ``RequestTimedOut``, or ``RequestFailed`` when the connection closes first.
Bad bytes or bad frames from the server end the connection with a ``Closed`` event whose
``error`` says what was wrong, after every event decoded before them.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from .._client_connection import ClientConnection
from .._guards import check_duration, finite_seconds, text_of
from .._states import Transitions, move
from .._timers import Deadlines, earliest
from ..errors import LocalProtocolError, RemoteProtocolError
from ..transport import BinaryMessage, Closed, TransportState, text_rule_first
from ..websocket import (
    DEFAULT_MAX_FRAGMENTS,
    DEFAULT_MAX_MESSAGE_SIZE,
    ConnectionRejected,
    Role,
    WebSocketConnection,
    WebSocketEvent,
)
from .codec import (
    CLIENT_HEARTBEAT,
    Body,
    FrameError,
    Query,
    decode_array_frame,
    decode_frame,
    encode_request,
    unwrap_error_text,
)
from .events import (
    CloseFrame,
    ErrorResponse,
    Opened,
    Penalty,
    RateLimited,
    RequestFailed,
    RequestTimedOut,
    Response,
    ServerHeartbeat,
    TradovateEvent,
    UnmatchedResponse,
)
from .messages import (
    SYNC_ENDPOINT,
    answer_request_id,
    decode_market_frame,
    decode_sync_answer,
    not_an_object,
    read_frame_messages,
    server_event,
    sync_snapshot_of,
)
from .registry import SubscriptionRegistry

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_WATCHDOG_TIMEOUT",
    "TRADOVATE_TRANSITIONS",
    "TradovateConnection",
    "TradovateInput",
    "TradovateState",
]

DEFAULT_HEARTBEAT_INTERVAL = 2.5
DEFAULT_WATCHDOG_TIMEOUT = 10.0
DEFAULT_REQUEST_TIMEOUT = 30.0


class TradovateState(enum.Enum):
    """CONNECTING until the server's ``o`` frame; OPEN; AUTHORIZED once ``authorize`` succeeds;
    CLOSING while the WebSocket closing handshake runs; CLOSED."""

    CONNECTING = "connecting"
    OPEN = "open"
    AUTHORIZED = "authorized"
    CLOSING = "closing"
    CLOSED = "closed"


class TradovateInput(enum.Enum):
    """What moves a ``TradovateConnection`` from one state to the next."""

    OPEN_FRAME = "take the open frame"  # the server's ``o``
    AUTHORIZED = "authorize"  # a 2xx answer (without a penalty) to ``authorize``
    CLOSE_FRAME = "take a close frame"  # the server's ``c[code, "reason"]``
    CLOSE = "close"  # the caller's ``close()`` once the WebSocket is open
    ABANDON = "abandon the handshake"  # the caller's ``close()`` before it is
    END = "end"  # the WebSocket ended, the server broke the protocol, or the watchdog fired


_S, _I = TradovateState, TradovateInput

#: Every move of a ``TradovateConnection``. A missing pair cannot happen, or is a second close.
TRADOVATE_TRANSITIONS: Transitions[TradovateState, TradovateInput] = {
    (_S.CONNECTING, _I.OPEN_FRAME): _S.OPEN,
    (_S.CONNECTING, _I.CLOSE_FRAME): _S.CLOSING,
    (_S.CONNECTING, _I.CLOSE): _S.CLOSING,
    (_S.CONNECTING, _I.ABANDON): _S.CLOSED,
    (_S.CONNECTING, _I.END): _S.CLOSED,
    (_S.OPEN, _I.OPEN_FRAME): _S.OPEN,  # a second ``o`` changes nothing
    (_S.OPEN, _I.AUTHORIZED): _S.AUTHORIZED,
    (_S.OPEN, _I.CLOSE_FRAME): _S.CLOSING,
    (_S.OPEN, _I.CLOSE): _S.CLOSING,
    (_S.OPEN, _I.END): _S.CLOSED,
    (_S.AUTHORIZED, _I.OPEN_FRAME): _S.AUTHORIZED,
    (_S.AUTHORIZED, _I.CLOSE_FRAME): _S.CLOSING,
    (_S.AUTHORIZED, _I.CLOSE): _S.CLOSING,
    (_S.AUTHORIZED, _I.END): _S.CLOSED,
    (_S.CLOSING, _I.OPEN_FRAME): _S.CLOSING,
    (_S.CLOSING, _I.AUTHORIZED): _S.CLOSING,  # an answer that crossed our close: too late
    (_S.CLOSING, _I.CLOSE_FRAME): _S.CLOSING,
    (_S.CLOSING, _I.END): _S.CLOSED,
    (_S.CLOSED, _I.OPEN_FRAME): _S.CLOSED,  # a closed connection reads nothing more
    (_S.CLOSED, _I.CLOSE_FRAME): _S.CLOSED,
    (_S.CLOSED, _I.END): _S.CLOSED,
}


class _Pending(NamedTuple):
    endpoint: str
    query: Query
    body: Body
    timeout: float | None


class TradovateConnection(ClientConnection[TradovateEvent, WebSocketConnection]):
    """A client's conversation with a Tradovate WebSocket server.

    ``host`` and ``target`` name the WebSocket (``target`` defaults to ``/v1/websocket``).
    ``already_open=True`` starts past the WebSocket handshake, for captured server-to-client
    streams (an HTTP response head at the start is skipped).

    Timers, in seconds on the clock that ``now`` comes from: ``heartbeat_interval`` between
    ``[]`` heartbeats (from the ``o`` frame on); ``watchdog_timeout`` of silence after which the
    link is declared dead; ``request_timeout``, the default time a request may wait for its
    answer (``None`` waits until the connection closes). A duration that is NaN, infinite or
    negative raises ``LocalProtocolError``. ``max_message_size`` and ``max_fragments`` bound
    one WebSocket message, in bytes and in frames.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        target: str = "/v1/websocket",
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        watchdog_timeout: float | None = DEFAULT_WATCHDOG_TIMEOUT,
        request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        registry: SubscriptionRegistry | None = None,
        already_open: bool = False,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._set_durations(heartbeat_interval, watchdog_timeout, request_timeout)
        self._transport = WebSocketConnection(
            Role.CLIENT,
            host=host,
            target=target,
            extra_headers=extra_headers,
            max_message_size=max_message_size,
            max_fragments=max_fragments,
            already_open=already_open,
            random_bytes=random_bytes,
        )
        self.registry = registry if registry is not None else SubscriptionRegistry()
        self._state = TradovateState.CONNECTING
        self._now = 0.0
        self._next_id = 1
        self._pending: dict[int, _Pending] = {}
        self._timeouts: Deadlines[int] = Deadlines()
        self._authorize_id: int | None = None
        self._next_heartbeat: float | None = None

    def __repr__(self) -> str:
        return (
            f"<TradovateConnection {self._state.value}, {len(self._pending)} pending, "
            f"{len(self.registry)} subscriptions>"
        )

    # -- the connection contract ---------------------------------------------------------------

    @property
    def state(self) -> TradovateState:
        return self._state

    @property
    def opened(self) -> bool:
        """Requests can be sent: the ``o`` frame came and no close has begun."""
        return self._state is TradovateState.OPEN or self._state is TradovateState.AUTHORIZED

    @property
    def authorized(self) -> bool:
        """``authorize`` succeeded on this connection (and it is not closing)."""
        return self._state is TradovateState.AUTHORIZED

    @property
    def closing(self) -> bool:
        """The closing handshake runs; no request can be sent."""
        return self._state is TradovateState.CLOSING

    @property
    def closed(self) -> bool:
        """Over: every request has had its outcome; the socket can be closed."""
        return self._state is TradovateState.CLOSED

    @property
    def pending_requests(self) -> int:
        """How many requests are waiting for their outcome."""
        return len(self._pending)

    def _decode(self, data: bytes, now: float) -> Iterator[TradovateEvent]:
        self._now = now
        if self._state is TradovateState.CLOSED:
            return iter(())
        if data:
            self._last_received = now
        return self._interpret(self._transport.receive_messages(data, now))

    def _interpret(self, ws_events: list[bytes | WebSocketEvent]) -> Iterator[TradovateEvent]:
        """The Tradovate events of the WebSocket's, made as they are asked for.

        A frame's events are handed out one by one as its messages are read, so by the time
        a bad frame raises ``RemoteProtocolError`` every event before it has been handed out.
        """
        for ws_event in ws_events:
            if type(ws_event) is bytes:
                market_data = decode_market_frame(ws_event)
                if market_data is not None:
                    for message in market_data:
                        yield message.d
                    continue
                try:
                    yield from self._text_frame_events(ws_event)
                except RemoteProtocolError as exc:
                    yield from self._failed(
                        text_rule_first(self._transport.decode_text, ws_event, exc)
                    )
                    return
            elif type(ws_event) is Closed:
                out: list[TradovateEvent] = []
                self._finish(out, ws_event)
                yield from out
            elif type(ws_event) is BinaryMessage:
                yield from self._failed(
                    FrameError("the server sent a binary message; Tradovate speaks text only", 1003)
                )
                return
            elif type(ws_event) is ConnectionRejected:
                yield ws_event
            # ConnectionAccepted, Ping and Pong need nothing from this layer.

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must next run; None when no timer is set."""
        if self._state is TradovateState.CLOSED:
            return None
        candidates = [self._transport.next_deadline()]
        if self._state is not TradovateState.CLOSING:
            candidates.append(self._next_heartbeat)
            candidates.append(self._watchdog_deadline())
        candidates.append(self._timeouts.soonest(self._pending))
        return earliest(*candidates)

    def handle_timer(self, now: float) -> list[TradovateEvent]:
        """Run the timers due at ``now``: heartbeat, watchdog, request timeouts."""
        events = self._settle()
        self._now = now
        if self._state is TradovateState.CLOSED:
            return events
        if self._transport_timers_ended(now, events):
            return events
        if self._state is not TradovateState.CLOSING and self._watchdog_fired(now, events):
            return events
        for request_id in self._timeouts.pop_due(now):
            pending = self._pending.pop(request_id, None)
            if pending is not None:
                if request_id == self._authorize_id:
                    self._authorize_id = None
                assert pending.timeout is not None
                events.append(RequestTimedOut(request_id, pending.endpoint, pending.timeout))
        if self._next_heartbeat is not None and now >= self._next_heartbeat:
            if self._state in (TradovateState.OPEN, TradovateState.AUTHORIZED):
                self._transport.send_text(CLIENT_HEARTBEAT)
                self._next_heartbeat = now + self._heartbeat_interval
            else:
                self._next_heartbeat = None
        return events

    # -- requests ----------------------------------------------------------------------------------

    def authorize(self, token: str, *, now: float | None = None) -> int:
        """Send ``authorize`` with the access token; returns its request id.

        On a 2xx answer the state becomes AUTHORIZED. Authorizing twice is a mistake, but after
        a refused attempt another token may be tried.
        """
        if self._state is TradovateState.AUTHORIZED:
            raise LocalProtocolError("the connection is already authorized")
        if self._authorize_id is not None:
            raise LocalProtocolError("authorize was already sent and awaits its answer")
        if not token or any(c in token for c in "\r\n"):
            raise LocalProtocolError("the access token must be a non-empty string without newlines")
        self._authorize_id = self._send("authorize", None, token, None, now)
        return self._authorize_id

    def request(
        self,
        endpoint: str,
        query: Query = None,
        body: Body = None,
        timeout: float | None = None,
        *,
        now: float | None = None,
    ) -> int:
        """Send a request; returns its id, which its outcome event will carry.

        ``endpoint`` is the REST operation (``"contract/find"``); ``query`` a string or a mapping
        (url-encoded); ``body`` a mapping or list (sent as compact JSON) or a string sent as is.
        ``timeout`` overrides the connection's ``request_timeout``. ``now`` is the current time,
        for the timeout; without it the last time the connection was given is used. A timeout
        that is NaN, infinite or negative raises ``LocalProtocolError`` (``None`` means the
        connection's default).
        """
        if timeout is not None:
            check_duration("timeout", timeout)
        return self._send(
            endpoint, query, body, timeout if timeout is not None else self._request_timeout, now
        )

    def replay_subscriptions(self, *, now: float | None = None) -> list[int]:
        """After a reconnect and ``authorize``: send every live subscription again, in order."""
        if self._state is not TradovateState.AUTHORIZED:
            raise LocalProtocolError("replay subscriptions once authorize has succeeded")
        return [
            self.request(endpoint, query, body, now=now)
            for endpoint, query, body in self.registry.replay()
        ]

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """Close the connection; pending requests fail when the close completes."""
        if now is not None:
            self._now = now
        if self._transport.state is TransportState.CONNECTING:
            self._transport.close()
            self._move(TradovateInput.ABANDON)
            return
        move(TRADOVATE_TRANSITIONS, self._state, TradovateInput.CLOSE)  # refuses a second close
        self._transport.close(code, reason, now=self._now)
        self._move(TradovateInput.CLOSE)

    # -- internals ---------------------------------------------------------------------------------

    def _send(
        self, endpoint: str, query: Query, body: Body, timeout: float | None, now: float | None
    ) -> int:
        if now is not None:
            self._now = now
        if self._state not in (TradovateState.OPEN, TradovateState.AUTHORIZED):
            if self._state is TradovateState.CONNECTING:
                raise LocalProtocolError(
                    "cannot send a request before the server's open frame ('o')"
                )
            raise LocalProtocolError(
                f"cannot send a request: the connection is {self._state.value}"
            )
        request_id = self._next_id
        text = encode_request(endpoint, request_id, query, body)
        self._transport.send_text(text)
        self._next_id += 1
        self._pending[request_id] = _Pending(endpoint.lstrip("/"), query, body, timeout)
        if timeout is not None:
            self._timeouts.add(self._now + timeout, request_id)
        self.registry.request_sent(endpoint.lstrip("/"), query, body)
        return request_id

    def _frame_events(self, text: str) -> Iterator[TradovateEvent]:
        """The events of one frame, each made once the one before it is handed out.

        Raises ``FrameError`` at the first thing wrong, after the events before it.
        """
        letter, payload = decode_frame(text)
        if letter == "a":
            yield from self._array_events(payload)
        elif letter == "h":
            yield ServerHeartbeat()
        elif letter == "o":
            first = self._state is TradovateState.CONNECTING
            self._move(TradovateInput.OPEN_FRAME)
            if first:
                self._next_heartbeat = self._now + self._heartbeat_interval
                yield Opened()
        else:
            code, reason = payload
            if self._transport.state is TransportState.OPEN:
                self._transport.close(1000, "", now=self._now)
            self._move(TradovateInput.CLOSE_FRAME)
            yield CloseFrame(code, reason)

    def _text_frame_events(self, frame: bytes) -> Iterator[TradovateEvent]:
        """The events of a text frame that is not market data alone (its bytes)."""
        if frame[:1] != b"a":
            yield from self._frame_events(self._transport.decode_text(frame))
            return
        answer = self._sync_answer(frame)
        if answer is not None:
            yield answer
            return
        messages = read_frame_messages(frame)
        yield from self._array_events(
            messages if messages is not None else decode_array_frame(frame)
        )

    def _sync_answer(self, frame: bytes) -> TradovateEvent | None:
        """The outcome of a ``user/syncrequest`` whose answer is the frame, typed in one pass
        from its bytes; None for any other frame."""
        request_id = answer_request_id(frame)
        pending = self._pending.get(request_id) if request_id is not None else None
        if pending is None or pending.endpoint != SYNC_ENDPOINT:
            return None
        answer = decode_sync_answer(frame)
        if answer is None or answer[0] != request_id:
            return None
        return self._response_event({"i": request_id, "s": answer[1], "d": answer[2]})

    def _array_events(self, messages: Any) -> Iterator[TradovateEvent]:
        """The events of the messages of an ``a`` frame, one by one."""
        if type(messages) is not list:
            yield not_an_object(messages, "an 'a' frame must hold a JSON array")
            return
        for message in messages:
            yield self._message_event(message)

    def _message_event(self, message: Any) -> TradovateEvent:
        """The event of one message of an ``a`` frame."""
        if type(message) is not dict:
            return not_an_object(message, "a message in an 'a' frame is not a JSON object")
        if "e" in message:
            return server_event(message, message["e"])
        if "i" in message:
            return self._response_event(message)
        return not_an_object(message, "a message is neither a response (i, s) nor an event (e)")

    def _response_event(self, message: dict[str, Any]) -> TradovateEvent:
        """The outcome of the request a response answers (or ``UnmatchedResponse``)."""
        request_id = message["i"]
        status = message.get("s")
        if type(request_id) is not int or type(status) is not int:
            return not_an_object(message, "a response needs an integer id (i) and status (s)")
        data = message.get("d")
        pending = self._pending.pop(request_id, None)
        if pending is None:
            if isinstance(data, str) and not 200 <= status < 300:
                data = unwrap_error_text(data)  # the text itself, however it was quoted
            return UnmatchedResponse(request_id, status, data)
        endpoint = pending.endpoint
        answers_authorize = request_id == self._authorize_id
        if answers_authorize:
            self._authorize_id = None
        # A penalty first: it comes in a 200 answer, and it is not a success. An authorize
        # that got one leaves the connection unauthorized, to be tried again with the ticket.
        if type(data) is dict and "p-ticket" in data:
            return Penalty(
                request_id,
                text_of(data["p-ticket"]),
                finite_seconds(data.get("p-time")),
                bool(data.get("p-captcha")),
                endpoint,
            )
        if 200 <= status < 300:
            if answers_authorize:
                self._move(TradovateInput.AUTHORIZED)
            self.registry.request_succeeded(endpoint, pending.query, pending.body, data)
            return Response(request_id, status, sync_snapshot_of(endpoint, data), endpoint)
        if status == 429:
            return RateLimited(request_id, unwrap_error_text(data), endpoint)
        return ErrorResponse(request_id, status, unwrap_error_text(data), endpoint)

    def _move(self, happened: TradovateInput) -> None:
        """The one place the state changes: by ``TRADOVATE_TRANSITIONS``."""
        self._state = move(TRADOVATE_TRANSITIONS, self._state, happened)

    def _finish(self, events: list[TradovateEvent], closed: Closed) -> None:
        """End the connection: every pending request fails, then ``closed`` is the last event."""
        self._move(TradovateInput.END)
        reason = closed.reason or f"the connection closed (code {closed.code})"
        for request_id in sorted(self._pending):
            events.append(RequestFailed(request_id, self._pending[request_id].endpoint, reason))
        self._pending.clear()
        self._timeouts.clear()
        self._authorize_id = None
        self._next_heartbeat = None
        events.append(closed)
