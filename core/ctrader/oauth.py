"""cTrader Open API OAuth over HTTP: the code flow and the refresh grant, as typed results.

The code flow: send the user to ``authorization_url(app)``; cTrader sends the browser back to
the application's ``redirect_uri`` with ``?code=...``; ``code_exchange_request(app, code)``
trades that code (it lasts one minute) for tokens. ``refresh_request(app, refresh_token)``
gets a new access token (and a new refresh token: the old one is spent) at any time, before
or after expiry. Both are GET requests to ``https://openapi.ctrader.com/apps/token`` with every
parameter, the client secret included, in the query string: the request's repr hides them.

Run a request on an ``HttpClientConnection`` and give its final event to
``parse_token_answer``: an ``OAuthToken`` (``expires_at`` on the caller's clock, for
``RenewalSchedule.token_received``) or a ``TokenFailure``. A refresh makes cTrader end the
sessions of accounts authorized with the old token (``ProtoOAAccountsTokenInvalidatedEvent``):
the holder of the link authorizes them again with the new one.
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from .._guards import text_of
from ..http.events import Failed, Response, TimedOut
from ..http.request import HttpRequest, make_request
from ..secret import Secret, decode_secret
from ..tokens import TokenFailure, failure_of_exchange, failure_of_status

__all__ = [
    "AUTHORIZE_URL",
    "TOKEN_URL",
    "OAuthApp",
    "OAuthToken",
    "authorization_url",
    "code_exchange_request",
    "parse_token_answer",
    "refresh_request",
]

AUTHORIZE_URL = "https://openapi.ctrader.com/apps/auth"
TOKEN_URL = "https://openapi.ctrader.com/apps/token"  # noqa: S105 - an address, not a secret


class OAuthApp(msgspec.Struct, frozen=True, kw_only=True):
    """An application registered with cTrader Open API. ``client_secret`` may be given as
    text; it is held as a ``Secret`` either way."""

    client_id: str
    client_secret: Secret
    redirect_uri: str
    token_url: str = TOKEN_URL
    authorize_url: str = AUTHORIZE_URL

    def __post_init__(self) -> None:
        given: object = self.client_secret
        if not isinstance(given, Secret):
            msgspec.structs.force_setattr(self, "client_secret", Secret(str(given)))


class OAuthToken(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens from the token endpoint: ``expires_in`` seconds as cTrader gave it, and
    ``expires_at``, the same on the caller's clock."""

    access_token: Secret
    refresh_token: Secret
    expires_in: float
    expires_at: float
    token_type: str = "bearer"  # noqa: S105 - a kind of token, not one


class _Answer(msgspec.Struct, rename="camel"):
    """The token endpoint's answer as the wire spells it; unknown fields are ignored."""

    access_token: Secret | None = None
    refresh_token: Secret | None = None
    expires_in: float | None = None
    token_type: str | None = None
    error_code: str | int | None = None
    description: str | None = None


def authorization_url(app: OAuthApp, *, scope: str = "trading", state: str | None = None) -> str:
    """Where to send the user to grant access: ``scope`` is ``trading`` (trade) or
    ``accounts`` (view only); ``state`` comes back with the code, to match the two."""
    query = {"client_id": app.client_id, "redirect_uri": app.redirect_uri, "scope": scope}
    if state is not None:
        query["state"] = state
    return f"{app.authorize_url}?{urlencode(query)}"


def code_exchange_request(app: OAuthApp, code: Secret | str) -> HttpRequest:
    """The authorization-code grant: ``code`` from the redirect, for the first tokens."""
    query: dict[str, str | Secret] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect_uri,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return make_request("GET", app.token_url, query=query)


def refresh_request(app: OAuthApp, refresh_token: Secret | str) -> HttpRequest:
    """The refresh grant: new tokens for a refresh token (which it spends)."""
    query: dict[str, str | Secret] = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return make_request("GET", app.token_url, query=query)


def parse_token_answer(
    event: Response | Failed | TimedOut, *, now: float
) -> OAuthToken | TokenFailure:
    """The result of a code exchange or a refresh, from its final HTTP event received at
    ``now`` (the caller's monotonic clock)."""
    if not isinstance(event, Response):
        return failure_of_exchange(event)
    answer: _Answer | None = None
    try:
        answer = msgspec.convert(event.data, _Answer, dec_hook=decode_secret, strict=False)
    except msgspec.ValidationError:
        answer = None
    if answer is not None and answer.error_code is not None:
        detail = f": {text_of(answer.description)}" if answer.description else ""
        return TokenFailure(
            f"cTrader refused the grant: {text_of(answer.error_code)}{detail}",
            event.status_code,
            final=True,
        )
    if not event.ok:
        return failure_of_status(event, "cTrader's token endpoint")
    if answer is None:
        return TokenFailure("an answer that is not a token answer", event.status_code)
    return _token_of(answer, event.status_code, now)


def _token_of(answer: _Answer, status: int, now: float) -> OAuthToken | TokenFailure:
    if not answer.access_token or not answer.refresh_token:
        return TokenFailure("an answer without an accessToken and a refreshToken", status)
    expires_in = answer.expires_in
    if expires_in is None or not 0 <= expires_in < float("inf"):
        return TokenFailure("an answer without a valid expiresIn", status)
    return OAuthToken(
        access_token=answer.access_token,
        refresh_token=answer.refresh_token,
        expires_in=expires_in,
        expires_at=now + expires_in,
        token_type=answer.token_type or "bearer",
    )
