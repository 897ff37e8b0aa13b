"""Every event a ``TradovateConnection`` (client) or ``TradovateServerConnection`` returns.

Data from the wire stays as decoded JSON (dicts and lists): the core names every kind of message
it knows and passes unknown kinds through as ``UnknownEvent``, but does not model Tradovate's
entities. ``helpers.py`` has typed views for quotes and chart tick packets.

Every request gets exactly one outcome event, all of which carry ``request_id`` and
``endpoint``: ``Response``, ``ErrorResponse``, ``Penalty``, ``RateLimited``, ``RequestTimedOut``
or ``RequestFailed``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._event import event
from ..transport import Closed
from ..websocket import ConnectionRejected
from .codec import RequestDocument

__all__ = [
    "Chart",
    "ClientHeartbeat",
    "ClientRequest",
    "CloseFrame",
    "Closed",
    "ConnectionRejected",
    "EntityChanged",
    "ErrorResponse",
    "MarketData",
    "Opened",
    "Penalty",
    "RateLimited",
    "ReplayClock",
    "RequestFailed",
    "RequestOutcome",
    "RequestTimedOut",
    "Response",
    "ServerHeartbeat",
    "Shutdown",
    "TradovateEvent",
    "UnknownEvent",
    "UnmatchedResponse",
]


@event
class Opened(NamedTuple):
    """The server sent its ``o`` frame: requests (starting with ``authorize``) may be sent."""


@event
class ServerHeartbeat(NamedTuple):
    """The server sent ``h``. The client's own ``[]`` heartbeats run on a timer regardless."""


@event
class Response(NamedTuple):
    """A 2xx answer. ``data`` is the decoded ``d`` (None when the server sent none).

    Business failures also arrive as 2xx: look for ``errorText`` / ``failureReason`` in ``data``.
    """

    request_id: int
    status: int
    data: Any
    endpoint: str


@event
class ErrorResponse(NamedTuple):
    """A non-2xx answer; ``message`` is the error text (unwrapped if it was JSON-encoded twice)."""

    request_id: int
    status: int
    message: str
    endpoint: str


@event
class Penalty(NamedTuple):
    """The server imposed a time penalty instead of handling the request.

    Retry after ``retry_after`` seconds with ``ticket`` added to the body as ``p-ticket``; when
    ``captcha`` is true no program can solve it and the retry must wait (about an hour).
    ``retry_after`` is None when the server did not say how long, in a form that can be used:
    ``p-time`` missing, or not a finite, non-negative number of seconds (a string, NaN, an
    integer beyond a double's range). None is "not told", never "at once": choose a wait of
    your own (as ``ErrorResponse.retry_after`` on cTrader, which is None in the same case).
    """

    request_id: int
    ticket: str
    retry_after: float | None
    captcha: bool
    endpoint: str


@event
class RateLimited(NamedTuple):
    """HTTP 429: the server stopped handling requests for a while (no ticket is given)."""

    request_id: int
    message: str
    endpoint: str


@event
class RequestTimedOut(NamedTuple):
    """No answer came within the request's timeout; a later answer is an ``UnmatchedResponse``."""

    request_id: int
    endpoint: str
    timeout: float


@event
class RequestFailed(NamedTuple):
    """The connection closed before the request was answered; its outcome is unknown."""

    request_id: int
    endpoint: str
    reason: str


@event
class UnmatchedResponse(NamedTuple):
    """A response whose id matches no pending request (never sent, or already timed out)."""

    request_id: int
    status: int
    data: Any


@event
class EntityChanged(NamedTuple):
    """A ``props`` event: an entity was Created, Updated or Deleted.

    ``entity`` is the entity's JSON object, a list of them, or None when the server sent none.
    """

    entity_type: str
    event_type: str
    entity: Any


@event
class MarketData(NamedTuple):
    """An ``md`` event: lists of quote, DOM and histogram updates (each list may be empty)."""

    quotes: list[Any]
    doms: list[Any]
    histograms: list[Any]


@event
class Chart(NamedTuple):
    """A ``chart`` event: bar packets, tick packets or end-of-history markers, per subscription."""

    charts: list[Any]

    @property
    def end_of_history(self) -> list[int]:
        """Ids of the subscriptions whose history is complete (``{"id": .., "eoh": true}``).

        A marker without an integer id names no subscription and is left out.
        """
        return [
            c["id"]
            for c in self.charts
            if isinstance(c, dict) and c.get("eoh") and type(c.get("id")) is int
        ]


@event
class ReplayClock(NamedTuple):
    """A ``clock`` event of market replay: the replay time and speed (percent; 0 = throttled)."""

    timestamp: str
    speed: int


@event
class Shutdown(NamedTuple):
    """The server will close the connection: Maintenance, ConnectionQuotaReached, IPQuotaReached."""

    reason_code: str
    reason: str | None


@event
class CloseFrame(NamedTuple):
    """The server sent ``c[code, "reason"]``; the connection now closes."""

    code: int | None
    reason: str


@event
class UnknownEvent(NamedTuple):
    """A server event passed through whole: of a kind this version does not know, or of a known
    kind whose ``d`` is not in the shape that kind's event declares (a ``props`` event without
    string types, an ``md`` field that is not a list)."""

    kind: str
    data: Any
    message: dict[str, Any]


@event
class ClientRequest(NamedTuple):
    """Server role: a client sent a request document."""

    request: RequestDocument


@event
class ClientHeartbeat(NamedTuple):
    """Server role: a client sent its ``[]`` heartbeat."""


RequestOutcome = Response | ErrorResponse | Penalty | RateLimited | RequestTimedOut | RequestFailed

TradovateEvent = (
    Opened
    | ServerHeartbeat
    | RequestOutcome
    | UnmatchedResponse
    | EntityChanged
    | MarketData
    | Chart
    | ReplayClock
    | Shutdown
    | CloseFrame
    | UnknownEvent
    | ConnectionRejected
    | Closed
)
