"""Tradovate sign-in and token renewal over HTTP: requests to send, answers as typed results.

``access_token_request`` builds ``POST {base}/auth/accesstokenrequest``, which signs in and
starts a session (Tradovate allows two at once, and closes the oldest beyond that);
``renew_access_token_request`` builds ``GET {base}/auth/renewaccesstoken``, which extends the
current session's token without opening another. Run either on an ``HttpClientConnection`` and
give its final event to ``parse_token_answer``, which returns one of:

- ``AccessToken``: the tokens (``access_token`` for the trading socket, ``md_access_token`` for
  market data) and when they expire, both as the server's UTC wall time and on the caller's
  monotonic clock (``expires_at``), ready for ``RenewalSchedule.token_received``;
- ``Penalty``: too many sign-ins; send the same request again after ``wait`` seconds with the
  ticket (``access_token_request(..., ticket=penalty.ticket)``);
- ``TokenFailure``: no token. ``final`` for a refused sign-in (``errorText``), a CAPTCHA (which
  only a person can answer, in a browser) or a token the server no longer accepts; passing for
  a server that did not answer or answered with an error of its own.

Every password, secret and token is held as a ``Secret``: nothing here shows one in a repr.

The expiry is a wall time; the core reads no clock, so the caller says which wall time goes
with ``now``: by default the answer's ``Date`` header (the server's clock, like the expiry), or
``wall_time`` when given (the caller's UTC clock at ``now``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from .._event import Event
from .._guards import finite_seconds, text_of
from ..http.events import Failed, Response, TimedOut
from ..http.request import HttpRequest, make_request
from ..secret import Secret, decode_secret, reveal
from ..tokens import (
    TokenFailure,
    expiry_on_monotonic_clock,
    failure_of_exchange,
    failure_of_status,
)

__all__ = [
    "DEMO_URL",
    "LIVE_URL",
    "AccessToken",
    "Penalty",
    "TradovateCredentials",
    "access_token_request",
    "parse_token_answer",
    "renew_access_token_request",
]

DEMO_URL = "https://demo.tradovateapi.com/v1"
LIVE_URL = "https://live.tradovateapi.com/v1"

_CAPTCHA = (
    "Tradovate asks for a CAPTCHA, which only a person can answer: sign in once at "
    "https://trader.tradovate.com in a browser, then try again"
)


class TradovateCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """What ``auth/accesstokenrequest`` signs in with. ``password`` and ``sec`` may be given
    as text; they are held as ``Secret`` either way."""

    name: str
    password: Secret
    app_id: str
    app_version: str
    cid: int | str
    sec: Secret
    device_id: str | None = None

    def __post_init__(self) -> None:
        for field in ("password", "sec"):
            value = getattr(self, field)
            if not isinstance(value, Secret):
                msgspec.structs.force_setattr(self, field, Secret(value))


class AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    """A granted or renewed token.

    ``expiration_time`` is the server's (aware, UTC); ``expires_at`` is the same instant on the
    caller's monotonic clock. A renewal answer may carry no ``md_access_token``: the one
    received at sign-in stays in use then.
    """

    access_token: Secret
    md_access_token: Secret | None
    expiration_time: datetime
    expires_at: float
    user_id: int | None = None
    user_status: str | None = None
    has_live: bool | None = None
    name: str | None = None


class Penalty(Event, frozen=True):
    """Tradovate imposed a time penalty: send the sign-in again ``wait`` seconds after the
    answer, with ``ticket``."""

    ticket: str
    wait: float

    def retry_at(self, now: float) -> float:
        """When to send again, for an answer received at ``now``."""
        return now + self.wait


class _Answer(msgspec.Struct, rename="camel"):
    """``AccessTokenResponse`` as the wire spells it; unknown fields are ignored."""

    error_text: str | None = None
    access_token: Secret | None = None
    md_access_token: Secret | None = None
    expiration_time: str | None = None
    user_id: int | None = None
    user_status: str | None = None
    has_live: bool | None = None
    name: str | None = None


def _url(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}"


def access_token_request(
    base_url: str, credentials: TradovateCredentials, *, ticket: str | None = None
) -> HttpRequest:
    """``POST auth/accesstokenrequest``; ``ticket`` is a ``Penalty``'s, when sending again."""
    body: dict[str, Any] = {
        "name": credentials.name,
        "password": reveal(credentials.password),
        "appId": credentials.app_id,
        "appVersion": credentials.app_version,
        "cid": credentials.cid,
        "sec": reveal(credentials.sec),
    }
    if credentials.device_id is not None:
        body["deviceId"] = credentials.device_id
    if ticket is not None:
        body["p-ticket"] = ticket
    return make_request("POST", _url(base_url, "auth/accesstokenrequest"), json=body)


def renew_access_token_request(base_url: str, access_token: Secret | str) -> HttpRequest:
    """``GET auth/renewaccesstoken`` with the current (not yet expired) token as Bearer."""
    return make_request("GET", _url(base_url, "auth/renewaccesstoken"), bearer=access_token)


def _penalty(data: dict[str, Any]) -> Penalty | TokenFailure | None:
    if "p-ticket" not in data and "p-captcha" not in data:
        return None
    wait = finite_seconds(data.get("p-time", 0))
    if data.get("p-captcha") is True:
        after = f" (Tradovate says after {wait:g} s)" if wait else ""
        return TokenFailure(_CAPTCHA + after, final=True)
    ticket = data.get("p-ticket")
    if type(ticket) is not str or wait is None:
        return TokenFailure(f"a time penalty without a usable ticket or wait: p-time {wait!r}")
    return Penalty(ticket, wait)


def _parse_expiry(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_token_answer(
    event: Response | Failed | TimedOut, *, now: float, wall_time: datetime | None = None
) -> AccessToken | Penalty | TokenFailure:
    """The result of a sign-in or renewal exchange, from its final HTTP event.

    ``now`` is the caller's monotonic time when the answer arrived; ``wall_time`` the UTC wall
    time at that moment (by default the answer's ``Date`` header).
    """
    if not isinstance(event, Response):
        return failure_of_exchange(event)
    data = event.data
    if isinstance(data, dict):
        penalty = _penalty(data)
        if penalty is not None:
            return penalty
    if event.status_code == 401:
        return TokenFailure(
            "Tradovate did not accept the token (expired or revoked): sign in again",
            401,
            final=True,
        )
    if not event.ok:
        return failure_of_status(event, "Tradovate's token endpoint")
    try:
        answer = msgspec.convert(data, _Answer, dec_hook=decode_secret)
    except msgspec.ValidationError as exc:
        return TokenFailure(f"an answer that is not a token answer: {exc}", event.status_code)
    return _token_of(answer, event, now, wall_time)


def _token_of(
    answer: _Answer, event: Response, now: float, wall_time: datetime | None
) -> AccessToken | TokenFailure:
    status = event.status_code
    if answer.error_text:
        return TokenFailure(f"sign-in refused: {text_of(answer.error_text)}", status, final=True)
    if not answer.access_token:
        return TokenFailure("an answer without an accessToken", status)
    expiry = _parse_expiry(answer.expiration_time)
    if expiry is None:
        return TokenFailure("an answer without a valid expirationTime", status)
    wall = wall_time if wall_time is not None else event.date
    if wall is None:
        return TokenFailure(
            "cannot place expirationTime on the caller's clock: the answer has no Date "
            "header and no wall_time was given",
            status,
        )
    return AccessToken(
        access_token=answer.access_token,
        md_access_token=answer.md_access_token,
        expiration_time=expiry,
        expires_at=expiry_on_monotonic_clock(expiry, wall, now),
        user_id=answer.user_id,
        user_status=answer.user_status,
        has_live=answer.has_live,
        name=answer.name,
    )
