"""The exceptions the clients raise, the same for the threaded and the asyncio adapter.

A request made through a client ends in exactly one way: its result, or one of the
``RequestError`` subclasses below. Those that leave the request's fate open (the request went
out but no answer came) say so in ``outcome_unknown``: an order in that state may or may not
have been placed, and the client never sends it again by itself.

No name here is also the name of a core event: the core's ``ErrorResponse``, ``RateLimited`` and
``Penalty`` are answers as they arrive (matched in ``match`` statements); the exceptions a client
raises for them are ``RequestRefused`` and ``Throttled``, whose ``event`` holds that answer.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "ClientError",
    "ConnectError",
    "ConnectionLost",
    "RequestError",
    "RequestRefused",
    "RequestTimeout",
    "Throttled",
]


class ClientError(Exception):
    """Base of every error a brokerwire client raises (besides ``LocalProtocolError``)."""


class ConnectError(ClientError):
    """The connection could not be made: refused, name not found, TLS failure, the WebSocket
    upgrade refused, or no answer within the connect timeout."""


class AuthenticationError(ConnectError):
    """The broker refused the credentials (a token, a client id and secret)."""


class RequestError(ClientError):
    """A request did not produce a result.

    ``request`` names it (a Tradovate endpoint, a cTrader message name); ``request_id`` is the
    id it had on the wire (None when it never left); ``event`` is the core event that ended it.
    """

    outcome_unknown = False

    def __init__(
        self, message: str, *, request: str, request_id: int | str | None, event: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.request_id = request_id
        self.event = event


class RequestRefused(RequestError):
    """The broker answered with an error.

    ``status`` is Tradovate's HTTP-like status (None for cTrader); ``code`` is cTrader's error
    code name (``"CH_CLIENT_AUTH_FAILURE"``) or Tradovate's ``failureReason``/``errorCode``
    when a 2xx answer still refused.
    """

    def __init__(
        self,
        message: str,
        *,
        request: str,
        request_id: int | str | None,
        status: int | None = None,
        code: str | None = None,
        event: Any = None,
    ) -> None:
        super().__init__(message, request=request, request_id=request_id, event=event)
        self.status = status
        self.code = code


class Throttled(RequestError):
    """The broker refused the request for sending too fast.

    ``retry_after`` is how long to wait, in seconds, when the broker said (None otherwise).
    Tradovate's time penalty also gives a ``ticket`` to add to the retried request's body as
    ``p-ticket``; ``captcha`` is true when no program can lift the penalty.
    """

    def __init__(
        self,
        message: str,
        *,
        request: str,
        request_id: int | str | None,
        retry_after: float | None,
        ticket: str | None = None,
        captcha: bool = False,
        event: Any = None,
    ) -> None:
        super().__init__(message, request=request, request_id=request_id, event=event)
        self.retry_after = retry_after
        self.ticket = ticket
        self.captcha = captcha


class _OutcomeInDoubt(RequestError):
    """A request that ended without an answer: whether it took effect depends on whether it
    had been sent, which ``outcome_unknown`` says."""

    def __init__(
        self,
        message: str,
        *,
        request: str,
        request_id: int | str | None,
        outcome_unknown: bool,
        event: Any = None,
    ) -> None:
        super().__init__(message, request=request, request_id=request_id, event=event)
        self.outcome_unknown = outcome_unknown


class RequestTimeout(_OutcomeInDoubt):
    """No outcome came within the request's timeout.

    ``outcome_unknown`` is True when the request had been sent: the broker may still act on it.
    """


class ConnectionLost(_OutcomeInDoubt):
    """The connection ended (or was not up) before the request's outcome arrived.

    ``outcome_unknown`` is True when the request had been sent: an order in that state may have
    been placed. The client never re-sends it; look the order up after the reconnect.
    """
