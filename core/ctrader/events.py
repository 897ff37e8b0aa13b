"""Every event a ``CTraderConnection`` (client) or ``CTraderServerConnection`` returns.

Payloads stay the decoded JSON objects. Every request gets exactly one outcome event, each
carrying ``client_msg_id`` and ``request_type``: ``Response``, ``ErrorResponse``,
``RequestTimedOut`` or ``RequestFailed``. Messages that arrive later with the same
``clientMsgId`` (a market order's ORDER_FILLED after its ORDER_ACCEPTED) are ``FollowUp`` events.
Credentials in payloads (client secret, access and refresh tokens) never appear in a repr.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._event import event
from ..transport import Closed
from ..websocket import ConnectionRejected
from .codec import Envelope, as_int, redact
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


def _payload_repr(name: str, fields: str, payload: Any) -> str:
    try:
        shown = repr(redact(payload))
    except RecursionError:  # a payload nested too deep to walk (it decoded; orjson goes 1,024 deep)
        shown = "<nested too deep to show>"
    return f"{name}({fields}, payload={shown})"


@event
class Opened(NamedTuple):
    """The transport is open: send the application auth (``authorize_application``) first."""


@event
class Heartbeat(NamedTuple):
    """The server sent ``{"payloadType": 51}``. The client's own heartbeats run on a timer."""


@event
class Response(NamedTuple):
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


@event
class ErrorResponse(NamedTuple):
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


@event
class RequestTimedOut(NamedTuple):
    """No outcome within the request's timeout. ``sent`` is False when the request was still
    waiting for the rate budget and never left; when True, its outcome is unknown."""

    client_msg_id: str
    request_type: int
    timeout: float
    sent: bool


@event
class RequestFailed(NamedTuple):
    """The connection closed before the request's outcome arrived (``sent`` as for timeouts)."""

    client_msg_id: str
    request_type: int
    reason: str
    sent: bool


@event
class FollowUp(NamedTuple):
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


@event
class SpotEvent(NamedTuple):
    """ProtoOASpotEvent (2131): prices in 1/100000 of a unit (see ``units.price``)."""

    payload: dict[str, Any]

    @property
    def account_id(self) -> int | None:
        return as_int(self.payload.get("ctidTraderAccountId"))

    @property
    def symbol_id(self) -> int | None:
        return as_int(self.payload.get("symbolId"))

    @property
    def bid(self) -> int | None:
        """Raw bid, or None when this event carries no bid (keep the last one)."""
        return as_int(self.payload.get("bid"))

    @property
    def ask(self) -> int | None:
        return as_int(self.payload.get("ask"))


@event
class DepthEvent(NamedTuple):
    """ProtoOADepthEvent (2155): ``newQuotes`` and ``deletedQuotes`` of the order book."""

    payload: dict[str, Any]


@event
class TokenInvalidated(NamedTuple):
    """ProtoOAAccountsTokenInvalidatedEvent (2147): these accounts must be authorized again."""

    account_ids: tuple[int, ...]
    reason: str


@event
class ClientDisconnected(NamedTuple):
    """ProtoOAClientDisconnectEvent (2148): the server cancelled the application's session."""

    reason: str


@event
class AccountDisconnected(NamedTuple):
    """ProtoOAAccountDisconnectEvent (2164): the account's session was dropped by the server."""

    account_id: int | None


@event
class ServerEvent(NamedTuple):
    """Any other message of a known payload type that is not tied to a request."""

    payload_type: int
    payload: dict[str, Any]
    client_msg_id: str | None

    @property
    def name(self) -> str:
        return message_name(self.payload_type)

    def __repr__(self) -> str:
        fields = f"payload_type={self.payload_type!r} ({self.name}), "
        fields += f"client_msg_id={self.client_msg_id!r}"
        return _payload_repr("ServerEvent", fields, self.payload)


@event
class UnknownMessage(NamedTuple):
    """A message whose payload type this version does not know, passed through whole."""

    payload_type: int
    payload: dict[str, Any]
    client_msg_id: str | None

    def __repr__(self) -> str:
        fields = f"payload_type={self.payload_type!r}, client_msg_id={self.client_msg_id!r}"
        return _payload_repr("UnknownMessage", fields, self.payload)


@event
class ClientMessage(NamedTuple):
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
