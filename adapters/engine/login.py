"""A login without I/O: one broker's tokens, when to renew them, and what each answer means.

A login signs in once and then keeps its token alive: the ``RenewalSchedule`` of the core says
when a renewal is due, the broker's core module (``core.tradovate.auth``, ``core.ctrader.oauth``)
builds the request and reads the answer, and this engine turns the outcome into the login's
state and its events (``TokenRenewed``, ``TokenRenewalFailed``, ``TokenExpired``). The
adapters' logins run the exchanges on sockets and hand every new token to the clients that use
it, through the ``TokenSource`` those clients were given instead of a plain token.

Tokens are held as ``Secret`` values; the text of one leaves only through ``current()``, for
the one message that sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable

import msgspec

from brokerwire.core.ctrader.oauth import (
    OAuthApp,
    OAuthToken,
    code_exchange_request,
    refresh_request,
)
from brokerwire.core.ctrader.oauth import parse_token_answer as parse_oauth_answer
from brokerwire.core.http.events import HttpEvent
from brokerwire.core.http.request import HttpRequest
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule, TokenFailure, TokenStatus
from brokerwire.core.tradovate.auth import (
    AccessToken,
    Penalty,
    TradovateCredentials,
    access_token_request,
    parse_token_answer,
    renew_access_token_request,
)

from ..errors import AuthenticationError
from ..token_events import TokenExpired, TokenRenewalFailed, TokenRenewed

__all__ = [
    "CTraderLoginEngine",
    "LoginEngine",
    "TokenListener",
    "TokenSource",
    "TradovateLoginEngine",
    "token_text",
]

log = logging.getLogger("brokerwire.login")

#: What a login tells a client after a change: the events to deliver, and the new token's
#: text (None when the token did not change).
TokenListener = Callable[[list[Any], str | None], None]


@runtime_checkable
class TokenSource(Protocol):
    """What a client takes instead of a plain token: the current token, and news of the next."""

    def current(self) -> str:
        """The token to send now; raises ``AuthenticationError`` once it has expired."""
        ...

    def attach(self, listener: TokenListener) -> None:
        """Have ``listener`` hear every later change (held weakly when it is a bound method)."""
        ...


def token_text(token: str | TokenSource) -> str:
    """A plain token as it is, a source's current one (``AuthenticationError`` once expired)."""
    return token if isinstance(token, str) else token.current()


class LoginEngine:
    """The part every broker's login shares: the schedule, failures, expiry, events."""

    broker: ClassVar[str]

    def __init__(self, schedule: RenewalSchedule | None) -> None:
        self.schedule = schedule if schedule is not None else RenewalSchedule()
        self.renewals = 0
        self.expiration_time: datetime | None = None
        self.last_failure = ""
        self.final_failure = False
        self._expiry_told = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} renewals={self.renewals} {self.schedule!r}>"

    # -- what a broker adds ------------------------------------------------------------------------

    def renewal_request(self) -> HttpRequest:
        raise NotImplementedError

    def read_renewal(self, event: HttpEvent, now: float, wall: datetime) -> Any:
        """The broker's token object, or a ``TokenFailure``."""
        raise NotImplementedError

    def adopt(self, token: Any, now: float, wall: datetime) -> str:
        """Take a new token; returns the text clients send from now on."""
        raise NotImplementedError

    # -- state -------------------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        return self.schedule.expires_at is not None

    def expired(self, now: float) -> bool:
        return self.schedule.status(now) is TokenStatus.EXPIRED

    def stale(self, now: float) -> bool:
        """Whether a renewal is due or overdue: a token handed out now may expire before the
        renewal under way replaces it, so a login that starts renews first."""
        return self.schedule.status(now) in (TokenStatus.DUE, TokenStatus.EXPIRED)

    def expires_in(self, now: float) -> float:
        expires_at = self.schedule.expires_at
        return 0.0 if expires_at is None else max(0.0, expires_at - now)

    def expiry_error(self) -> AuthenticationError:
        when = (
            self.expiration_time.isoformat(timespec="seconds")
            if self.expiration_time is not None
            else "an unknown time"
        )
        why = f" (last renewal: {self.last_failure})" if self.last_failure else ""
        return AuthenticationError(
            f"the {self.broker} access token expired at {when} and was not renewed{why}: "
            "sign in again"
        )

    def check_renewable(self) -> None:
        """Raise ``AuthenticationError`` when there is no token to renew."""
        if not self.signed_in:
            raise AuthenticationError(f"the {self.broker} login has no token: sign in first")

    def check(self, now: float) -> None:
        """Raise ``AuthenticationError`` unless a token is held and still valid."""
        if not self.signed_in:
            raise AuthenticationError(f"the {self.broker} login has no token: sign in first")
        if self.expired(now):
            raise self.expiry_error()

    # -- driving -----------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When to look again: a renewal due, or the expiry to announce."""
        if not self.signed_in or self._expiry_told:
            return None
        if self.final_failure:
            return self.schedule.expires_at
        return self.schedule.next_deadline()

    def due(self, now: float) -> HttpRequest | None:
        """The renewal to send now, if one is due (the attempt is then under way)."""
        if self.final_failure or self.schedule.status(now) is not TokenStatus.DUE:
            return None
        self.schedule.attempt_started(now)
        return self.renewal_request()

    def timer(self, now: float) -> list[Any]:
        """``TokenExpired`` once, when the token's time is over."""
        if self.signed_in and not self._expiry_told and self.expired(now):
            self._expiry_told = True
            error = self.expiry_error()
            log.warning("%s", error)
            return [TokenExpired(self.broker, str(error))]
        return []

    def renewal_answered(
        self, event: HttpEvent, now: float, wall: datetime
    ) -> tuple[list[Any], str | None]:
        """The outcome of a renewal: the events, and the new token's text when there is one."""
        result = self.read_renewal(event, now, wall)
        if isinstance(result, TokenFailure):
            return self._failed(result.reason, result.final, now), None
        text = self.adopt(result, now, wall)
        self.renewals += 1
        self.last_failure = ""
        self.final_failure = False
        self._expiry_told = False
        expires_in = self.expires_in(now)
        log.info("the %s token was renewed; it lasts %.0f s", self.broker, expires_in)
        return [TokenRenewed(self.broker, expires_in, self.renewals)], text

    def _failed(self, reason: str, final: bool, now: float) -> list[Any]:
        self.last_failure = reason
        if self.schedule.expires_at is not None:
            self.schedule.attempt_failed(now)
        self.final_failure = final
        renew_at = None if final else self.schedule.renew_at
        retry_in = None if renew_at is None else max(0.0, renew_at - now)
        if retry_in is None:
            log.warning("the %s token renewal failed, not to be retried: %s", self.broker, reason)
        else:
            log.warning(
                "the %s token renewal failed (trying again in %.3g s): %s",
                self.broker,
                retry_in,
                reason,
            )
        return [TokenRenewalFailed(self.broker, reason, final, retry_in, self.expires_in(now))]


class TradovateLoginEngine(LoginEngine):
    """A Tradovate login: one sign-in (one session), then ``renewaccesstoken`` on schedule.

    ``auth_url`` is the REST base (``https://demo.tradovateapi.com/v1``). The trading sockets
    take ``accessToken``, the market-data socket ``mdAccessToken``.
    """

    broker = "Tradovate"

    def __init__(
        self,
        auth_url: str,
        credentials: TradovateCredentials | None,
        schedule: RenewalSchedule | None = None,
    ) -> None:
        super().__init__(schedule)
        self.auth_url = auth_url
        self.credentials = credentials
        self.token: AccessToken | None = None

    def sign_in_request(self, ticket: str | None = None) -> HttpRequest:
        if self.credentials is None:
            raise AuthenticationError("this Tradovate login was given no credentials to sign in")
        return access_token_request(self.auth_url, self.credentials, ticket=ticket)

    def sign_in_answered(
        self, event: HttpEvent, now: float, wall: datetime
    ) -> AccessToken | Penalty | TokenFailure:
        """The sign-in's outcome; a token is adopted at once."""
        result = parse_token_answer(event, now=now, wall_time=wall)
        if isinstance(result, AccessToken):
            self.adopt(result, now, wall)
            self._expiry_told = False
        return result

    def restore(
        self,
        access_token: Secret,
        md_access_token: Secret | None,
        expiration_time: datetime,
        now: float,
        wall: datetime,
    ) -> None:
        """Take tokens kept from an earlier sign-in (a token file)."""
        expires_at = now + (expiration_time - wall).total_seconds()
        self.adopt(
            AccessToken(
                access_token=access_token,
                md_access_token=md_access_token,
                expiration_time=expiration_time,
                expires_at=expires_at,
            ),
            now,
            wall,
        )

    def renewal_request(self) -> HttpRequest:
        assert self.token is not None
        return renew_access_token_request(self.auth_url, self.token.access_token)

    def read_renewal(self, event: HttpEvent, now: float, wall: datetime) -> Any:
        result = parse_token_answer(event, now=now, wall_time=wall)
        if isinstance(result, Penalty):
            return TokenFailure(f"a time penalty of {result.wait:g} s")
        return result

    def adopt(self, token: Any, now: float, wall: datetime) -> str:
        assert isinstance(token, AccessToken)
        given: AccessToken = token
        if given.md_access_token is None and self.token is not None:
            given = msgspec.structs.replace(given, md_access_token=self.token.md_access_token)
        self.token = given
        self.expiration_time = given.expiration_time
        self.schedule.token_received(now, given.expires_at)
        text: str = given.access_token.reveal()
        return text

    def current(self, now: float, *, market_data: bool = False) -> str:
        """The token a socket authorizes with now (``AuthenticationError`` once expired)."""
        self.check(now)
        assert self.token is not None
        chosen: Secret | None = self.token.md_access_token if market_data else None
        secret: Secret = chosen if chosen is not None else self.token.access_token
        return secret.reveal()


class CTraderLoginEngine(LoginEngine):
    """A cTrader login: an authorization code exchanged (or tokens kept from one), then the
    refresh grant on schedule. Each refresh spends the refresh token and gives a new one."""

    broker = "cTrader"

    def __init__(self, app: OAuthApp, schedule: RenewalSchedule | None = None) -> None:
        super().__init__(schedule)
        self.app = app
        self.token: OAuthToken | None = None

    def code_request(self, code: Secret | str) -> HttpRequest:
        return code_exchange_request(self.app, code)

    def code_answered(
        self, event: HttpEvent, now: float, wall: datetime
    ) -> OAuthToken | TokenFailure:
        result = parse_oauth_answer(event, now=now)
        if isinstance(result, OAuthToken):
            self.adopt(result, now, wall)
            self._expiry_told = False
        return result

    def restore(
        self,
        access_token: Secret,
        refresh_token: Secret,
        expiration_time: datetime,
        now: float,
        wall: datetime,
    ) -> None:
        """Take tokens kept from an earlier sign-in (a token file)."""
        expires_in = (expiration_time - wall).total_seconds()
        self.adopt(
            OAuthToken(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_in=expires_in,
                expires_at=now + expires_in,
            ),
            now,
            wall,
        )

    def renewal_request(self) -> HttpRequest:
        assert self.token is not None
        return refresh_request(self.app, self.token.refresh_token)

    def read_renewal(self, event: HttpEvent, now: float, wall: datetime) -> Any:
        return parse_oauth_answer(event, now=now)

    def adopt(self, token: Any, now: float, wall: datetime) -> str:
        assert isinstance(token, OAuthToken)
        self.token = token
        self.expiration_time = wall + timedelta(seconds=token.expires_in)
        self.schedule.token_received(now, token.expires_at)
        return token.access_token.reveal()

    def current(self, now: float) -> str:
        self.check(now)
        assert self.token is not None
        return self.token.access_token.reveal()
