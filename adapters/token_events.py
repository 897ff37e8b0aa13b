"""Events a login adds to the clients that use it: a token renewed, a renewal failed, expiry.

A login (``TradovateLogin``, ``CTraderLogin``) hands each of these to its ``on_event`` callback
and to every client that takes its tokens, among that client's own events. None carries a
token: they say when, how often and why, never what.
"""

from __future__ import annotations

from brokerwire.core._event import Event

__all__ = ["TokenExpired", "TokenRenewalFailed", "TokenRenewed"]


class TokenRenewed(Event, frozen=True):
    """The login renewed its token: clients use the new one from now on (cTrader accounts are
    authorized again with it). ``expires_in`` is the new token's life in seconds;
    ``renewals`` counts renewals since sign-in."""

    broker: str
    expires_in: float
    renewals: int


class TokenRenewalFailed(Event, frozen=True):
    """A renewal failed. Unless ``final`` (the server will not renew this token: sign in
    again), it is tried again in ``retry_in`` seconds; ``expires_in`` says how long the token
    still lasts."""

    broker: str
    reason: str
    final: bool
    retry_in: float | None
    expires_in: float


class TokenExpired(Event, frozen=True):
    """The token expired without a renewal: a reconnect now fails with
    ``AuthenticationError`` until a new sign-in."""

    broker: str
    reason: str
