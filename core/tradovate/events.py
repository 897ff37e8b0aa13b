"""Every event a ``TradovateConnection`` (client) or ``TradovateServerConnection`` returns.

Market data is typed (``MarketData`` holds ``Quote``, ``Dom`` and ``Histogram`` Structs); other
data from the wire stays as decoded JSON (dicts and lists). Every kind of message the core does
not know, and every message in a shape its kind cannot hold, passes through as ``UnknownEvent``.

Every request gets exactly one outcome event, all of which carry ``request_id`` and
``endpoint``: ``Response``, ``ErrorResponse``, ``Penalty``, ``RateLimited``, ``RequestTimedOut``
or ``RequestFailed``.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from .._event import Event
from ..transport import Closed
from ..websocket import ConnectionRejected
from .codec import RequestDocument
from .market import ChartPacket, Dom, EndOfHistory, Histogram, Quote
from .models import Entity

__all__ = [
    "Chart",
    "ClientHeartbeat",
    "ClientRequest",
    "CloseFrame",
    "Closed",
    "ConnectionRejected",
    "EntityChanged",
    "EntityEventType",
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


class Opened(Event, frozen=True):
    """The server sent its ``o`` frame: requests (starting with ``authorize``) may be sent."""


class ServerHeartbeat(Event, frozen=True):
    """The server sent ``h``. The client's own ``[]`` heartbeats run on a timer regardless."""


class Response(Event, frozen=True):
    """A 2xx answer. ``data`` is the decoded ``d`` (None when the server sent none).

    Business failures also arrive as 2xx: look for ``errorText`` / ``failureReason`` in ``data``.
    """

    request_id: int
    status: int
    data: Any
    endpoint: str


class ErrorResponse(Event, frozen=True):
    """A non-2xx answer; ``message`` is the error text (unwrapped if it was JSON-encoded twice)."""

    request_id: int
    status: int
    message: str
    endpoint: str


class Penalty(Event, frozen=True):
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


class RateLimited(Event, frozen=True):
    """HTTP 429: the server stopped handling requests for a while (no ticket is given)."""

    request_id: int
    message: str
    endpoint: str


class RequestTimedOut(Event, frozen=True):
    """No answer came within the request's timeout; a later answer is an ``UnmatchedResponse``."""

    request_id: int
    endpoint: str
    timeout: float


class RequestFailed(Event, frozen=True):
    """The connection closed before the request was answered; its outcome is unknown."""

    request_id: int
    endpoint: str
    reason: str


class UnmatchedResponse(Event, frozen=True):
    """A response whose id matches no pending request (never sent, or already timed out).

    An error's text is unwrapped as ``ErrorResponse.message`` is, when the server encoded it
    twice (``"\\"Access is denied\\""`` reads ``Access is denied``)."""

    request_id: int
    status: int
    data: Any


class EntityEventType(enum.StrEnum):
    """What happened to the entity of a ``props`` event."""

    CREATED = "Created"
    UPDATED = "Updated"
    DELETED = "Deleted"


class EntityChanged(Event, frozen=True):
    """A ``props`` event: an entity was Created, Updated or Deleted.

    ``entity`` is the typed entity of ``entity_type`` (``models.ENTITY_TYPES``: an ``Order``
    for ``"order"``), a list of them where the server batches, or None when it sent none. An
    entity type without a model, or an entity its model refuses, arrives as ``UnknownEvent``.
    """

    entity_type: str
    event_type: EntityEventType
    entity: Entity | list[Entity] | None


class MarketData(Event, frozen=True):
    """An ``md`` event: quote, DOM and histogram updates, typed (each list may be empty).

    Decoded straight from the frame's bytes into ``Quote``, ``Dom`` and ``Histogram`` Structs
    (``market.py``); an ``md`` event they cannot hold arrives as an ``UnknownEvent``.
    """

    quotes: list[Quote] = msgspec.field(default_factory=list)
    doms: list[Dom] = msgspec.field(default_factory=list)
    histograms: list[Histogram] = msgspec.field(default_factory=list)


class Chart(Event, frozen=True):
    """A ``chart`` event: bar packets, tick packets or end-of-history markers, per subscription
    (``BarPacket``, ``TickPacket``, ``EndOfHistory`` of ``market.py``)."""

    charts: list[ChartPacket]

    @property
    def end_of_history(self) -> list[int]:
        """Ids of the subscriptions whose history is complete (``{"id": .., "eoh": true}``)."""
        return [c.id for c in self.charts if type(c) is EndOfHistory and c.eoh]


class ReplayClock(Event, frozen=True):
    """A ``clock`` event of market replay: the replay time and speed (percent; 0 = throttled)."""

    timestamp: str
    speed: int


class Shutdown(Event, frozen=True):
    """The server will close the connection: Maintenance, ConnectionQuotaReached, IPQuotaReached."""

    reason_code: str
    reason: str | None


class CloseFrame(Event, frozen=True):
    """The server sent ``c[code, "reason"]``; the connection now closes."""

    code: int | None
    reason: str


class UnknownEvent(Event, frozen=True):
    """A server message passed through whole, with ``reason`` saying why it is not typed.

    A message of a kind this version does not know (``reason`` is None), or valid JSON in a
    shape its kind's event cannot hold: a quote price that is a string, a ``props`` event
    without string types, a message that is not an object (``kind`` is then ""). ``data`` is
    the message's ``d``; ``message`` the whole message as decoded.
    """

    kind: str
    data: Any
    message: Any
    reason: str | None = None


class ClientRequest(Event, frozen=True):
    """Server role: a client sent a request document."""

    request: RequestDocument


class ClientHeartbeat(Event, frozen=True):
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
