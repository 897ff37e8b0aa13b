"""The client side of a cTrader Open API (JSON) connection, sans-IO, over WebSocket or TCP.

``CTraderConnection`` matches answers to requests by ``clientMsgId``: a request completes on
its response type (or, for order requests, on the first execution event), or on an error
(2142, 50, 2132); later messages with the same id are ``FollowUp`` events; everything else is
an event of its own. It knows which accounts are authorized, sends the heartbeat whenever
nothing else went out for ``heartbeat_interval`` seconds (inside cTrader's 10 s), watches for a
silent server, times requests out, and keeps two rate budgets — 50 requests/s and 5/s for
historical data — queueing what does not fit and releasing it on its timer, never dropping it.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import msgspec

from .._client_connection import ClientConnection
from .._guards import check_duration, finite_seconds, text_of
from .._states import Transitions, move
from .._timers import Deadlines, earliest
from ..errors import LocalProtocolError, RemoteProtocolError
from ..tcp import DEFAULT_MAX_MESSAGE_SIZE, Framing, TcpConnection
from ..transport import BinaryMessage, Closed, TransportState, text_rule_first
from ..websocket import (
    DEFAULT_MAX_FRAGMENTS,
    ConnectionAccepted,
    ConnectionRejected,
    Role,
    WebSocketConnection,
)
from .codec import (
    Envelope,
    EnvelopeError,
    as_int,
    as_ints,
    decode_typed,
    encode_envelope,
    envelope_from,
    parse_message,
    typed_envelope,
    typed_envelope_of,
)
from .events import (
    AccountDisconnected,
    ClientDisconnected,
    CTraderEvent,
    DepthEvent,
    ErrorResponse,
    FollowUp,
    Heartbeat,
    Opened,
    RequestFailed,
    RequestTimedOut,
    Response,
    ServerEvent,
    SpotEvent,
    TokenInvalidated,
    UnknownMessage,
)
from .messages import WirePayload, payload_of
from .models import OpenApiMessage
from .ratelimit import Held, RateBudget, ReleaseQueue
from .registry import CTraderSubscriptionRegistry
from .tables import (
    ACCOUNT_SCOPED_REQUESTS,
    HISTORICAL_REQUESTS,
    MESSAGE_NAMES,
    RESPONSE_OF,
    PayloadType,
)

__all__ = [
    "CTRADER_TRANSITIONS",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_WATCHDOG_TIMEOUT",
    "MAX_REQUEST_BLOCK",
    "CTraderConnection",
    "CTraderInput",
    "CTraderState",
]

#: The longest a ``retryAfter`` holds back requests of its type, in seconds; the error's own
#: ``retry_after`` still says what the server sent.
MAX_REQUEST_BLOCK = 3600.0
DEFAULT_HEARTBEAT_INTERVAL = 9.0  # cTrader drops a client that sends nothing for 10 s or so
DEFAULT_WATCHDOG_TIMEOUT = 60.0  # the server's own heartbeat comes about every 30 s
DEFAULT_REQUEST_TIMEOUT = 30.0
# Five historical requests per this many seconds, not per 1 s: the server counts them as they
# arrive, and a request that took a little longer on its way than the five after it would
# otherwise make six in one second by the server's count (seen on loopback: 0.999 s).
HISTORICAL_WINDOW = 1.1
_REMEMBERED_COMPLETIONS = 4096  # completed requests whose follow-ups are still recognised

_ERROR_TYPES = frozenset(
    {PayloadType.ERROR_RES, PayloadType.PROTO_OA_ERROR_RES, PayloadType.PROTO_OA_ORDER_ERROR_EVENT}
)
_HEARTBEAT = PayloadType.HEARTBEAT_EVENT
_SPOT = PayloadType.PROTO_OA_SPOT_EVENT
_SPOT_TYPE = int(_SPOT)
_MARKET = frozenset({_SPOT, PayloadType.PROTO_OA_DEPTH_EVENT})
_APP_AUTH = PayloadType.PROTO_OA_APPLICATION_AUTH_REQ
_ACCOUNT_AUTH = PayloadType.PROTO_OA_ACCOUNT_AUTH_REQ
_HEARTBEAT_MESSAGE = encode_envelope(_HEARTBEAT)

Transport = WebSocketConnection | TcpConnection


def _request_of(
    payload_type: int | OpenApiMessage, payload: Mapping[str, Any] | None
) -> tuple[int, Mapping[str, Any]]:
    """The payload type and payload of a request given either way."""
    if not isinstance(payload_type, msgspec.Struct):
        return int(payload_type), payload or {}
    if payload is not None:
        raise LocalProtocolError("give a typed message alone, or a payload type and its payload")
    return payload_of(payload_type)


def _market_event(envelope: Envelope, reason: str | None) -> CTraderEvent:
    """A spot or depth event as its Struct; raw, with the reason, when its model refused it."""
    payload = envelope.payload
    if type(payload) is WirePayload:
        return payload.message  # type: ignore[return-value]  # a SpotEvent or a DepthEvent
    return ServerEvent(envelope.payload_type, payload, envelope.client_msg_id, reason)


class CTraderState(enum.Enum):
    """CONNECTING until the transport is open; OPEN; APP_AUTHORIZED once the application auth
    succeeded (accounts are tracked separately); CLOSING; CLOSED."""

    CONNECTING = "connecting"
    OPEN = "open"
    APP_AUTHORIZED = "app authorized"
    CLOSING = "closing"
    CLOSED = "closed"


class CTraderInput(enum.Enum):
    """What moves a ``CTraderConnection`` from one state to the next."""

    ACCEPTED = "open"  # the WebSocket handshake succeeded
    APP_AUTHORIZED = "authorize the application"  # the answer to the application auth
    CLIENT_DISCONNECTED = "take a client disconnect"  # the server's ProtoOAClientDisconnectEvent
    CLOSE = "close"  # the caller's ``close()``
    END = "end"  # the transport ended, the server broke the protocol, or the watchdog fired


_S, _I = CTraderState, CTraderInput

#: Every move of a ``CTraderConnection``. A missing pair cannot happen, or is a second close.
CTRADER_TRANSITIONS: Transitions[CTraderState, CTraderInput] = {
    (_S.CONNECTING, _I.ACCEPTED): _S.OPEN,
    (_S.CONNECTING, _I.CLOSE): _S.CLOSING,
    (_S.CONNECTING, _I.END): _S.CLOSED,
    (_S.OPEN, _I.APP_AUTHORIZED): _S.APP_AUTHORIZED,
    (_S.OPEN, _I.CLIENT_DISCONNECTED): _S.OPEN,
    (_S.OPEN, _I.CLOSE): _S.CLOSING,
    (_S.OPEN, _I.END): _S.CLOSED,
    (_S.APP_AUTHORIZED, _I.APP_AUTHORIZED): _S.APP_AUTHORIZED,  # authorized again: no change
    (_S.APP_AUTHORIZED, _I.CLIENT_DISCONNECTED): _S.OPEN,  # the application must authorize again
    (_S.APP_AUTHORIZED, _I.CLOSE): _S.CLOSING,
    (_S.APP_AUTHORIZED, _I.END): _S.CLOSED,
    (_S.CLOSING, _I.APP_AUTHORIZED): _S.CLOSING,  # an answer that crossed our close: too late
    (_S.CLOSING, _I.CLIENT_DISCONNECTED): _S.CLOSING,
    (_S.CLOSING, _I.END): _S.CLOSED,
    (_S.CLOSED, _I.CLIENT_DISCONNECTED): _S.CLOSED,  # a closed connection reads nothing more
    (_S.CLOSED, _I.END): _S.CLOSED,
}


class _Pending:
    __slots__ = ("held", "payload", "request_type", "response_type", "sent", "timeout")

    def __init__(
        self,
        request_type: int,
        response_type: int,
        payload: Mapping[str, Any],
        timeout: float | None,
    ) -> None:
        self.request_type = request_type
        self.response_type = response_type
        self.payload = payload
        self.timeout = timeout
        self.sent = False
        self.held: Held | None = None


class CTraderConnection(ClientConnection[CTraderEvent, Transport]):
    """A client's conversation with a cTrader Open API proxy, in JSON.

    Build it with ``CTraderConnection.websocket(host)`` or ``CTraderConnection.tcp()``, or hand
    it a transport. Over TCP the connection is OPEN at once; over WebSocket an ``Opened`` event
    follows the handshake.

    ``heartbeat_interval``, ``watchdog_timeout`` and ``request_timeout`` are seconds on the clock
    ``now`` comes from; one that is NaN, infinite or negative raises ``LocalProtocolError``, as
    does such a ``timeout`` given to ``request``. Generated ``clientMsgId`` values (the prefix
    and a counter) skip any a caller chose that is pending or recently completed.
    Historical requests are held to ``historical_requests_per_second`` in any
    ``historical_window`` seconds (``HISTORICAL_WINDOW``: a little over one, see there).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        watchdog_timeout: float | None = DEFAULT_WATCHDOG_TIMEOUT,
        request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
        requests_per_second: int = 50,
        historical_requests_per_second: int = 5,
        historical_window: float = HISTORICAL_WINDOW,
        registry: CTraderSubscriptionRegistry | None = None,
        client_msg_id_prefix: str = "bw-",
    ) -> None:
        self._set_durations(heartbeat_interval, watchdog_timeout, request_timeout)
        self._transport = transport
        self.registry = registry if registry is not None else CTraderSubscriptionRegistry()
        self._budget = RateBudget(requests_per_second)
        self._historical_budget = RateBudget(historical_requests_per_second, historical_window)
        self._prefix = client_msg_id_prefix
        self._state = (
            CTraderState.OPEN if transport.state is TransportState.OPEN else CTraderState.CONNECTING
        )
        self._now: float | None = None
        self._counter = 0
        self._pending: dict[str, _Pending] = {}
        self._completed: OrderedDict[str, int] = OrderedDict()  # client_msg_id -> request type
        self._queue = ReleaseQueue(self._budget, self._historical_budget, HISTORICAL_REQUESTS)
        self._timeouts: Deadlines[str] = Deadlines()
        self._undated: list[str] = []  # requests made before any time was known
        self._accounts: set[int] = set()
        self._last_sent: float | None = None
        self._closing_without_handshake = False

    @classmethod
    def websocket(
        cls,
        host: str | None = None,
        *,
        target: str = "/",
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        already_open: bool = False,
        **options: Any,
    ) -> CTraderConnection:
        """Over a WebSocket: one text frame per message (``max_fragments`` bounds how many
        frames one message may come in)."""
        transport = WebSocketConnection(
            Role.CLIENT,
            host=host,
            target=target,
            extra_headers=extra_headers,
            max_message_size=max_message_size,
            max_fragments=max_fragments,
            already_open=already_open,
        )
        return cls(transport, **options)

    @classmethod
    def tcp(
        cls,
        *,
        framing: Framing = Framing.LENGTH_PREFIX,
        receive_framing: Framing | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        **options: Any,
    ) -> CTraderConnection:
        """Over a raw (TLS) TCP stream: 4-byte length prefixes, or concatenated JSON."""
        transport = TcpConnection(
            framing, receive_framing=receive_framing, max_message_size=max_message_size
        )
        return cls(transport, **options)

    def __repr__(self) -> str:
        return (
            f"<CTraderConnection {self._state.value}, {len(self._accounts)} accounts, "
            f"{len(self._pending)} pending, {len(self._queue)} queued>"
        )

    # -- introspection -----------------------------------------------------------------------------

    @property
    def state(self) -> CTraderState:
        return self._state

    @property
    def opened(self) -> bool:
        """Requests can be sent: the transport is open and no close has begun."""
        return self._state is CTraderState.OPEN or self._state is CTraderState.APP_AUTHORIZED

    @property
    def app_authorized(self) -> bool:
        """The application auth succeeded on this connection (and it is not closing)."""
        return self._state is CTraderState.APP_AUTHORIZED

    @property
    def closing(self) -> bool:
        """The close runs; no request can be sent."""
        return self._state is CTraderState.CLOSING

    @property
    def closed(self) -> bool:
        """Over: every request has had its outcome; the socket can be closed."""
        return self._state is CTraderState.CLOSED

    @property
    def authorized_accounts(self) -> frozenset[int]:
        """The trading accounts whose account auth succeeded on this connection."""
        return frozenset(self._accounts)

    @property
    def pending_requests(self) -> int:
        """Requests without an outcome yet (queued or sent)."""
        return len(self._pending)

    @property
    def queued_requests(self) -> int:
        """Requests held back by a rate budget or a server's ``retryAfter``, not yet sent."""
        return len(self._queue)

    # -- the connection contract ---------------------------------------------------------------

    def _decode(self, data: bytes, now: float) -> Iterator[CTraderEvent]:
        self._touch(now)
        if self._state is CTraderState.CLOSED:
            return iter(())
        if data:
            self._last_received = now
        return self._interpret(self._transport.receive_messages(data, now), now)

    def _interpret(self, t_events: Sequence[object], now: float) -> Iterator[CTraderEvent]:
        """The cTrader events of the transport's, made as they are asked for.

        A message is typed in one pass (``decode_typed``); a spot or depth event that is no
        request's answer is then the event itself. A message that path does not take goes the
        general way (``_receive_message``), which says why if it cannot be typed.
        """
        decode = decode_typed
        for t_event in t_events:
            if type(t_event) is bytes:
                typed = decode(t_event)
                if (kind := type(typed)) is SpotEvent or kind is DepthEvent:
                    yield typed
                    continue
                data = t_event
            elif type(t_event) is BinaryMessage:  # read as a text message is
                typed, data = None, t_event.data
            else:
                yield from self._transport_event(t_event, now)
                continue
            out: list[CTraderEvent] = []
            received = self._receive(typed, data, out)
            yield from out
            if not received:
                return

    def _transport_event(self, t_event: object, now: float) -> list[CTraderEvent]:
        """The events of what the transport says besides messages."""
        if type(t_event) is Closed:
            out: list[CTraderEvent] = []
            self._finish(out, t_event)
            return out
        if type(t_event) is ConnectionAccepted:
            self._move(CTraderInput.ACCEPTED)
            self._last_sent = now
            return [Opened()]
        if type(t_event) is ConnectionRejected:
            return [t_event]
        return []

    def _receive(self, typed: Any, data: bytes, events: list[CTraderEvent]) -> bool:
        """Append the events of a message, as ``decode_typed`` read it (None: it did not);
        False when it was not JSON, and the connection has failed (see ``_receive_message``)."""
        if typed is None:
            return self._receive_message(data, events)
        if isinstance(typed, OpenApiMessage):
            message, client_msg_id = typed, None
        else:
            message, client_msg_id = typed.payload, typed.client_msg_id
        try:
            envelope = typed_envelope_of(message, client_msg_id, data)
        except (ValueError, RecursionError):
            # The payload as sent does not read as JSON (an integer of thousands of digits in a
            # field the model does not have): the general path says so and ends the connection.
            return self._receive_message(data, events)
        self._receive_envelope(envelope, events, None)
        return True

    def _receive_message(self, data: bytes, events: list[CTraderEvent]) -> bool:
        """Append the events of a message the one-pass path did not take; False when it was
        not JSON, and the connection has failed (its last event, ``Closed``, is in ``events``).

        Valid JSON that is not an envelope arrives as ``UnknownMessage`` with the reason; an
        envelope whose payload cannot be typed arrives with its payload as sent and the reason.
        """
        try:
            message = parse_message(data)
        except RemoteProtocolError as exc:
            self._fail(events, text_rule_first(self._transport.decode_text, data, exc))
            return False
        try:
            envelope = envelope_from(message, data)
        except EnvelopeError as exc:
            events.append(UnknownMessage(None, message, None, exc.message))
            return True
        envelope, reason = typed_envelope(envelope)
        self._receive_envelope(envelope, events, reason)
        return True

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must next run; None when no timer is set."""
        if self._state is CTraderState.CLOSED:
            return None
        if self._closing_without_handshake:
            return self._now if self._now is not None else 0.0
        candidates = [self._transport.next_deadline()]
        if self._state in (CTraderState.OPEN, CTraderState.APP_AUTHORIZED):
            if self._last_sent is not None:
                candidates.append(self._last_sent + self._heartbeat_interval)
            candidates.append(self._watchdog_deadline())
            candidates.append(self._next_release())
        candidates.append(self._timeouts.soonest(self._pending))
        return earliest(*candidates)

    def handle_timer(self, now: float) -> list[CTraderEvent]:
        """Run what is due at ``now``: heartbeat, watchdog, timeouts, queued requests."""
        events = self._settle()
        self._touch(now)
        if self._state is CTraderState.CLOSED:
            return events
        if self._closing_without_handshake:
            self._finish(events, Closed(None, "closed by this side"))
            return events
        if self._transport_timers_ended(now, events):
            return events
        if self._state in (
            CTraderState.OPEN,
            CTraderState.APP_AUTHORIZED,
        ) and self._watchdog_fired(now, events):
            return events
        for client_msg_id in self._timeouts.pop_due(now):
            pending = self._pending.pop(client_msg_id, None)
            if pending is not None:
                if pending.held is not None:
                    self._queue.withdraw(pending.held)
                assert pending.timeout is not None
                events.append(
                    RequestTimedOut(
                        client_msg_id, pending.request_type, pending.timeout, pending.sent
                    )
                )
        if self._state in (CTraderState.OPEN, CTraderState.APP_AUTHORIZED):
            self._release()
            if self._last_sent is not None and now >= self._last_sent + self._heartbeat_interval:
                self.send_heartbeat()
        return events

    # -- requests ----------------------------------------------------------------------------------

    def request(
        self,
        payload_type: int | OpenApiMessage,
        payload: Mapping[str, Any] | None = None,
        client_msg_id: str | None = None,
        timeout: float | None = None,
        *,
        response_type: int | None = None,
        now: float | None = None,
    ) -> str:
        """Send a request; returns its ``clientMsgId``, which its outcome event carries.

        The request is a payload type and its payload, or a typed message alone
        (``request(NewOrderReq(...))``), checked against its model first: a field of the wrong
        type raises ``LocalProtocolError`` and nothing is sent. A request that the rate budget
        cannot take now is queued and sent by ``handle_timer``. ``response_type`` names the
        answer for a payload type this version does not know. Account-scoped requests need the
        account to be authorized first.
        """
        if now is not None:
            self._touch(now)
        if self._state not in (CTraderState.OPEN, CTraderState.APP_AUTHORIZED):
            raise LocalProtocolError(
                f"cannot send a request: the connection is {self._state.value}"
            )
        request_type, body = _request_of(payload_type, payload)
        expected = response_type if response_type is not None else RESPONSE_OF.get(request_type)
        if expected is None:
            raise LocalProtocolError(
                f"payload type {request_type} is not a request this version knows: "
                "pass response_type"
            )
        if request_type in ACCOUNT_SCOPED_REQUESTS and request_type != _ACCOUNT_AUTH:
            account = as_int(body.get("ctidTraderAccountId"))
            if account is None:
                raise LocalProtocolError(
                    f"{MESSAGE_NAMES[request_type]} needs a ctidTraderAccountId"
                )
            if account not in self._accounts:
                raise LocalProtocolError(
                    f"account {account} is not authorized on this connection: "
                    "authorize_account() first"
                )
        if timeout is not None:
            check_duration("timeout", timeout)
        if client_msg_id is None:
            client_msg_id = self._new_client_msg_id()
        elif client_msg_id in self._pending:
            raise LocalProtocolError(
                f"clientMsgId {client_msg_id!r} belongs to a request still pending"
            )
        data = encode_envelope(request_type, body, client_msg_id)
        timeout = timeout if timeout is not None else self._request_timeout
        pending = self._pending[client_msg_id] = _Pending(request_type, expected, body, timeout)
        if timeout is not None:
            if self._now is None:
                # No time known yet (a TCP client's first requests): the timeout starts counting
                # from the first time the connection is given.
                self._undated.append(client_msg_id)
            else:
                self._timeouts.add(self._now + timeout, client_msg_id)
        pending.held = self._queue.push(client_msg_id, request_type, data)
        self.registry.request_sent(request_type, body)
        self._release()
        return client_msg_id

    def cancel(self, client_msg_id: str) -> bool:
        """Take back a request that the rate budget still holds; True when it never left.

        It then gets no outcome event: the caller gave up on it. A request already sent cannot
        be taken back (False): its answer still comes as its outcome.
        """
        pending = self._pending.get(client_msg_id)
        if pending is None or pending.sent:
            return False
        del self._pending[client_msg_id]
        if pending.held is not None:
            self._queue.withdraw(pending.held)
        return True

    def authorize_application(
        self, client_id: str, client_secret: str, *, now: float | None = None
    ) -> str:
        """ProtoOAApplicationAuthReq: must succeed before anything else is accepted."""
        payload = {"clientId": client_id, "clientSecret": client_secret}
        return self.request(_APP_AUTH, payload, now=now)

    def authorize_account(
        self, account_id: int, access_token: str, *, now: float | None = None
    ) -> str:
        """ProtoOAAccountAuthReq for one trading account (repeat for each account)."""
        payload = {"ctidTraderAccountId": account_id, "accessToken": access_token}
        return self.request(_ACCOUNT_AUTH, payload, now=now)

    def get_accounts(self, access_token: str, *, now: float | None = None) -> str:
        """ProtoOAGetAccountListByAccessTokenReq: the accounts an access token may use."""
        payload = {"accessToken": access_token}
        return self.request(PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ, payload, now=now)

    def refresh_token(self, refresh_token: str, *, now: float | None = None) -> str:
        """ProtoOARefreshTokenReq: a new access token (sessions on the old one end)."""
        payload = {"refreshToken": refresh_token}
        return self.request(PayloadType.PROTO_OA_REFRESH_TOKEN_REQ, payload, now=now)

    def replay_subscriptions(self, account_id: int, *, now: float | None = None) -> list[str]:
        """After a reconnect and account auth: restore the account's subscriptions."""
        if account_id not in self._accounts:
            raise LocalProtocolError(
                f"authorize account {account_id} before replaying its subscriptions"
            )
        return [
            self.request(payload_type, payload, now=now)
            for payload_type, payload in self.registry.replay(account_id)
        ]

    def send_heartbeat(self) -> None:
        """Send ``{"payloadType": 51}`` now (the timer does this whenever the link is idle)."""
        if self._state not in (CTraderState.OPEN, CTraderState.APP_AUTHORIZED):
            raise LocalProtocolError(
                f"cannot send a heartbeat: the connection is {self._state.value}"
            )
        self._transport.send_message(_HEARTBEAT_MESSAGE)
        self._last_sent = self._now

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """Close; pending requests fail with ``RequestFailed`` when the close completes.

        Over WebSocket that is when the closing handshake ends; over TCP, which has none, at the
        next ``handle_timer`` (``next_deadline`` says so at once).
        """
        if now is not None:
            self._touch(now)
        self._move(CTraderInput.CLOSE)  # refuses a second close
        if (
            isinstance(self._transport, WebSocketConnection)
            and self._transport.state is TransportState.OPEN
        ):
            self._transport.close(code, reason, now=self._now)
        else:
            if self._transport.state is not TransportState.CLOSED:
                self._transport.close()
            self._closing_without_handshake = True

    # -- internals ---------------------------------------------------------------------------------

    def _touch(self, now: float) -> None:
        self._now = now
        if self._undated:
            for client_msg_id in self._undated:
                pending = self._pending.get(client_msg_id)
                if pending is not None and pending.timeout is not None:
                    self._timeouts.add(now + pending.timeout, client_msg_id)
            self._undated.clear()
        if self._last_sent is None and self._state in (
            CTraderState.OPEN,
            CTraderState.APP_AUTHORIZED,
        ):
            self._last_sent = now  # the heartbeat clock starts at the first time we are given

    def _clock(self) -> float:
        return self._now if self._now is not None else 0.0

    def _new_client_msg_id(self) -> str:
        """The next generated ``clientMsgId``, skipping any a caller chose that is in use.

        An id still pending would have its entry overwritten (two requests, one outcome), and a
        recently completed one would take the old request's follow-ups.
        """
        while True:
            self._counter += 1
            client_msg_id = f"{self._prefix}{self._counter}"
            if client_msg_id not in self._pending and client_msg_id not in self._completed:
                return client_msg_id

    def _next_release(self) -> float | None:
        """When the first queued request could go out."""
        return self._queue.next_release(self._clock())

    def _release(self) -> None:
        """Send every queued request the budgets allow now, in order within each budget."""
        released = self._queue.release(self._clock())
        if not released:
            return
        for held in released:
            self._transport.send_message(held.data)
            pending = self._pending[held.client_msg_id]
            pending.sent = True
            pending.held = None
        if self._now is not None:
            self._last_sent = self._now

    def _receive_envelope(
        self, envelope: Envelope, events: list[CTraderEvent], reason: str | None
    ) -> None:
        """Deliver a message: ``reason`` says why its payload is not typed (None when it is).

        The answer to a request is its outcome whether typed or not (its ``message`` then
        raises the model's refusal); any other message that is not typed arrives raw with
        ``reason``.
        """
        payload_type = envelope.payload_type
        client_msg_id = envelope.client_msg_id
        if client_msg_id is not None:
            pending = self._pending.get(client_msg_id)
            if pending is not None:
                # An answer to a request that has not left the queue cannot be its answer.
                if pending.sent and self._complete(client_msg_id, pending, envelope, events):
                    return
            else:
                request_type = self._completed.get(client_msg_id)
                if request_type is not None:
                    events.append(
                        FollowUp(client_msg_id, payload_type, envelope.payload, request_type)
                    )
                    return
        self._receive_unsolicited(envelope, events, reason)

    def _complete(
        self, client_msg_id: str, pending: _Pending, envelope: Envelope, events: list[CTraderEvent]
    ) -> bool:
        """Deliver an answer to a pending request; False when the message is not its outcome."""
        payload_type, payload = envelope.payload_type, envelope.payload
        if payload_type in _ERROR_TYPES:
            error_code = text_of(payload.get("errorCode"))
            # A uint64, as a number or a numeric string; one beyond a double (or negative, or
            # not a number) is left in the payload and not obeyed.
            retry = finite_seconds(as_int(payload.get("retryAfter")))
            if retry is not None:
                # Obeyed up to an hour: a huge wait would block the request type for good.
                block = min(retry, MAX_REQUEST_BLOCK)
                self._queue.blocked_until[pending.request_type] = self._clock() + block
            if pending.request_type == _ACCOUNT_AUTH and error_code == "ALREADY_LOGGED_IN":
                self._authorize_account_from(pending.payload)
            event: CTraderEvent = ErrorResponse(
                client_msg_id,
                payload_type,
                error_code,
                text_of(payload.get("description")),
                retry,
                pending.request_type,
                payload,
            )
        elif payload_type == pending.response_type:
            if pending.request_type == _APP_AUTH:
                self._move(CTraderInput.APP_AUTHORIZED)
            elif pending.request_type == _ACCOUNT_AUTH:
                self._authorize_account_from(pending.payload)
            self.registry.request_succeeded(pending.request_type, pending.payload)
            event = Response(client_msg_id, payload_type, payload, pending.request_type)
        else:
            events.append(FollowUp(client_msg_id, payload_type, payload, pending.request_type))
            return True
        del self._pending[client_msg_id]
        self._completed[client_msg_id] = pending.request_type
        if len(self._completed) > _REMEMBERED_COMPLETIONS:
            self._completed.popitem(last=False)
        events.append(event)
        return True

    def _authorize_account_from(self, request_payload: Mapping[str, Any]) -> None:
        account = as_int(request_payload.get("ctidTraderAccountId"))
        if account is not None:
            self._accounts.add(account)

    def _receive_unsolicited(
        self, envelope: Envelope, events: list[CTraderEvent], reason: str | None
    ) -> None:
        payload_type, payload = envelope.payload_type, envelope.payload
        if payload_type == _HEARTBEAT:
            events.append(Heartbeat())
        elif payload_type in _MARKET:
            events.append(_market_event(envelope, reason))
        elif payload_type == PayloadType.PROTO_OA_ACCOUNTS_TOKEN_INVALIDATED_EVENT:
            ids = as_ints(payload.get("ctidTraderAccountIds"))
            self._accounts.difference_update(ids)
            events.append(TokenInvalidated(ids, text_of(payload.get("reason"))))
        elif payload_type == PayloadType.PROTO_OA_CLIENT_DISCONNECT_EVENT:
            self._accounts.clear()
            self._move(CTraderInput.CLIENT_DISCONNECTED)
            events.append(ClientDisconnected(text_of(payload.get("reason"))))
        elif payload_type == PayloadType.PROTO_OA_ACCOUNT_DISCONNECT_EVENT:
            account = as_int(payload.get("ctidTraderAccountId"))
            if account is not None:
                self._accounts.discard(account)
            events.append(AccountDisconnected(account))
        elif payload_type in MESSAGE_NAMES:
            events.append(ServerEvent(payload_type, payload, envelope.client_msg_id, reason))
        else:
            events.append(UnknownMessage(payload_type, payload, envelope.client_msg_id, reason))

    def _move(self, happened: CTraderInput) -> None:
        """The one place the state changes: by ``CTRADER_TRANSITIONS``."""
        self._state = move(CTRADER_TRANSITIONS, self._state, happened)

    def _finish(self, events: list[CTraderEvent], closed: Closed) -> None:
        """End the connection: every pending request fails, then ``closed`` is the last event."""
        self._move(CTraderInput.END)
        self._closing_without_handshake = False
        reason = closed.reason or "the connection closed"
        for client_msg_id, pending in self._pending.items():
            events.append(RequestFailed(client_msg_id, pending.request_type, reason, pending.sent))
        self._pending.clear()
        self._queue.clear()
        self._timeouts.clear()
        self._accounts.clear()
        events.append(closed)
