"""Events the clients add to the core's: the link going down, coming back, or giving up.

Every other event a client yields is the core's own (``MarketData``, ``SpotEvent``,
``FollowUp`` ...). Request outcomes are not among them: they go to whoever made the request.
"""

from __future__ import annotations

from typing import Any

from brokerwire.core._event import Event
from brokerwire.core.errors import RemoteProtocolError

from .errors import ConnectError

__all__ = ["AccountSynced", "Disconnected", "ReconnectFailed", "Reconnected", "UnknownOrder"]


class UnknownOrder(Event, frozen=True):
    """An order request that went out and got no answer before the link went down.

    It may or may not have been placed; the client does not send it again. ``request`` names
    the request (endpoint or message name), ``body`` is what was sent.
    """

    request_id: int | str
    request: str
    body: Any


class Disconnected(Event, frozen=True, gc=True):
    """The link went down. ``code``/``reason``/``error`` say why (as the core's ``Closed``).

    When the client itself failed on what the server sent (a fault of brokerwire, logged at
    ERROR with its traceback), the link is dropped as if the server had broken the protocol:
    ``error`` is a ``RemoteProtocolError`` whose ``__cause__`` is the original exception.

    ``unknown_orders`` lists the order requests whose outcome is unknown. ``reconnecting`` is
    True when the client will try to reconnect (a ``Reconnected`` or ``ReconnectFailed``
    follows).
    """

    code: int | None
    reason: str
    error: RemoteProtocolError | None
    unknown_orders: tuple[UnknownOrder, ...]
    reconnecting: bool


class Reconnected(Event, frozen=True):
    """The link is back: authorized again, with ``resubscribed`` subscriptions sent again.

    ``attempts`` is how many connection attempts it took. Nothing sent on the server's side
    while the link was down is replayed: ask for a fresh snapshot if the gap matters.
    """

    attempts: int
    resubscribed: int


class ReconnectFailed(Event, frozen=True, gc=True):
    """The client stopped trying to reconnect and is now closed; ``reason`` says why.

    ``error`` is the ``AuthenticationError`` when the broker refused the credentials on a
    reconnect: the type ``connect()`` raises when it refuses them on the first connection,
    the same for both adapters. It is None when reconnecting was off, ran out of attempts, or
    the client was closed.
    """

    attempts: int
    reason: str
    error: ConnectError | None = None


class AccountSynced(Event, frozen=True):
    """A client that tracks account state took a fresh snapshot (after connecting, a
    reconnect, or an account's authorization) and emitted the changes it made, just before
    this event. ``account_id`` is the cTrader account (None for Tradovate, whose one snapshot
    holds every account of the user); ``epoch`` counts the snapshots of that target."""

    account_id: int | None
    epoch: int
