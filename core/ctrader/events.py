"""Every event a ``CTraderConnection`` (client) or ``CTraderServerConnection`` returns.

Every message is decoded straight from its bytes into its generated Struct (``models.py``).
Spot and depth events, the market data, are those Structs themselves (``SpotEvent``,
``DepthEvent``). The other events hold the payload by wire name (``payload``, a dict) and the
typed Struct it decoded to (``message``); a payload the model refused is held as sent, and
``message`` raises the refusal (``ServerEvent`` also carries it as ``reason``).

Every request gets exactly one outcome event, each carrying ``client_msg_id`` and
``request_type``: ``Response``, ``ErrorResponse``, ``RequestTimedOut`` or ``RequestFailed``.
Messages that arrive later with the same ``clientMsgId`` (a market order's ORDER_FILLED after
its ORDER_ACCEPTED) are ``FollowUp`` events.
Credentials in payloads (client secret, access and refresh tokens) never appear in a repr.
"""

from __future__ import annotations

from typing import Any

from .._event import Event
from ..transport import Closed
from ..websocket import ConnectionRejected
from .codec import Envelope, redact
from .messages import typed_payload
from .models import DepthEvent, SpotEvent
from .tables import ERROR_CODE_DESCRIPTIONS, message_name

__all__ = [
    "AccountDisconnected",
    "CTraderEvent",
    "ClientDisconnected",
    "ClientMessage",
    "Closed",
    "ConnectionRejected",
    "DepthEvent",
    "ErrorResponse",
    "FollowUp",
    "Heartbeat",
    "Opened",
    "RequestFailed",
    "RequestOutcome",
    "RequestTimedOut",
    "Response",
    "ServerEvent",
    "SpotEvent",
    "TokenInvalidated",
    "UnknownMessage",
]


class TypedPayload:
    """For the events that carry a payload of a known type: the payload as its typed Struct."""

    __slots__ = ()
    payload_type: int
    payload: dict[str, Any]

    @property
    def message(self) -> Any:
        """The payload as its typed Struct (``ExecutionEvent``, ``SymbolByIdRes`` ...), as it was
        decoded with the message; None for a payload type without a model. Raises
        ``ValidationError`` (a ``ValueError``) when the payload does not fit its model."""
        return typed_payload(self.payload_type, self.payload)


def _payload_repr(name: str, fields: str, payload: Any) -> str:
    try:
        shown = repr(redact(payload))
    except RecursionError:  # a payload nested too deep to walk (it decoded)
        shown = "<nested too deep to show>"
    return f"{name}({fields}, payload={shown})"


class Opened(Event, frozen=True):
    """The transport is open: send the application auth (``authorize_application``) first."""


class Heartbeat(Event, frozen=True):
    """The server sent ``{"payloadType": 51}``. The client's own heartbeats run on a timer."""


class Response(Event, TypedPayload, frozen=True):
    """The message that completes a request (its ``..._RES``, or the first execution event)."""

    client_msg_id: str
    payload_type: int
    payload: dict[str, Any]
    request_type: int

    @property
    def name(self) -> str:
        return message_name(self.payload_type)

    def __repr__(self) -> str:
        fields = f"client_msg_id={self.client_msg_id!r}, payload_type={self.payload_type!r}"
        return _payload_repr(
            "Response", fields + f", request_type={self.request_type!r}", self.payload
        )


class ErrorResponse(Event, TypedPayload, frozen=True):
    """A request failed: ProtoOAErrorRes (2142), ProtoErrorRes (50), ProtoOAOrderErrorEvent (2132).

    ``error_code`` is the code's name as sent (``"CH_CLIENT_AUTH_FAILURE"``); ``retry_after`` is
    set when the server blocked the payload type for a while (``BLOCKED_PAYLOAD_TYPE``).
    """

    client_msg_id: str
    payload_type: int
    error_code: str
    description: str
    retry_after: float | None
    request_type: int
    payload: dict[str, Any]

    @property
    def meaning(self) -> str:
        """What the error code means, from the .proto comments ("" for codes not published)."""
        return ERROR_CODE_DESCRIPTIONS.get(self.error_code, "")


class RequestTimedOut(Event, frozen=True):
    """No outcome within the request's timeout. ``sent`` is False when the request was still
    waiting for the rate budget and never left; when True, its outcome is unknown."""

    client_msg_id: str
    request_type: int
    timeout: float
    sent: bool


class RequestFailed(Event, frozen=True):
    """The connection closed before the request's outcome arrived (``sent`` as for timeouts)."""

    client_msg_id: str
    request_type: int
    reason: str
    sent: bool


class FollowUp(Event, TypedPayload, frozen=True):
    """A later message for a request that already has its outcome (ORDER_FILLED after ACCEPTED)."""

    client_msg_id: str
    payload_type: int
    payload: dict[str, Any]
    request_type: int

    def __repr__(self) -> str:
        fields = f"client_msg_id={self.client_msg_id!r}, payload_type={self.payload_type!r}"
        return _payload_repr(
            "FollowUp", fields + f", request_type={self.request_type!r}", self.payload
        )


class TokenInvalidated(Event, frozen=True):
    """ProtoOAAccountsTokenInvalidatedEvent (2147): these accounts must be authorized again."""

    account_ids: tuple[int, ...]
    reason: str


class ClientDisconnected(Event, frozen=True):
    """ProtoOAClientDisconnectEvent (2148): the server cancelled the application's session."""

    reason: str


class AccountDisconnected(Event, frozen=True):
    """ProtoOAAccountDisconnectEvent (2164): the account's session was dropped by the server."""

    account_id: int | None


class ServerEvent(Event, TypedPayload, frozen=True):
    """Any other message of a known payload type that is not tied to a request.

    Also a spot or depth event in a shape its model cannot hold (a price that is not a number,
    a missing symbol id), and any such message: then ``reason`` says what did not fit, and
    ``payload`` is as sent.
    """

    payload_type: int
    payload: dict[str, Any]
    client_msg_id: str | None
    reason: str | None = None

    @property
    def name(self) -> str:
        return message_name(self.payload_type)

    def __repr__(self) -> str:
        fields = f"payload_type={self.payload_type!r} ({self.name}), "
        fields += f"client_msg_id={self.client_msg_id!r}"
        if self.reason is not None:
            fields += f", reason={self.reason!r}"
        return _payload_repr("ServerEvent", fields, self.payload)


class UnknownMessage(Event, frozen=True):
    """A message passed through whole: its payload type is one this version does not know
    (``reason`` says so, ``payload`` is as sent), or it is valid JSON that is not an envelope
    (a list, a missing ``payloadType``, a payload that is not an object): then
    ``payload_type`` is None, ``payload`` is the whole message as decoded and ``reason`` says
    what was wrong."""

    payload_type: int | None
    payload: Any
    client_msg_id: str | None
    reason: str | None = None

    def __repr__(self) -> str:
        fields = f"payload_type={self.payload_type!r}, client_msg_id={self.client_msg_id!r}"
        if self.reason is not None:
            fields += f", reason={self.reason!r}"
        return _payload_repr("UnknownMessage", fields, self.payload)


class ClientMessage(Event, frozen=True):
    """Server role: a message from the client (requests and heartbeats alike)."""

    envelope: Envelope


RequestOutcome = Response | ErrorResponse | RequestTimedOut | RequestFailed

CTraderEvent = (
    Opened
    | Heartbeat
    | RequestOutcome
    | FollowUp
    | SpotEvent
    | DepthEvent
    | TokenInvalidated
    | ClientDisconnected
    | AccountDisconnected
    | ServerEvent
    | UnknownMessage
    | ConnectionRejected
    | Closed
)
