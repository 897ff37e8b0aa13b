"""Logins for threaded programs: sign in once, renew in a thread, hand tokens to clients.

``TradovateLogin`` signs in with ``auth/accesstokenrequest`` (one session) and then renews with
``auth/renewaccesstoken`` on the core's ``RenewalSchedule``; give ``login.trading`` to the
trading clients and ``login.market_data`` to the market-data client as their ``token``.
``CTraderLogin`` exchanges an authorization code (or takes saved tokens) and refreshes on
schedule; give the login itself as a ``CTraderClient``'s ``access_token``. Every client reads
the current token whenever it authorizes; a refreshed cTrader token also re-authorizes every
account on the link. Renewals that fail are retried with backoff until expiry, and each change
is an event (``brokerwire.adapters.token_events``) for ``on_event`` and for every client.

The exchanges run one at a time on a thread of the login's own, with the blocking
``run_exchange``; nothing here blocks a client's reader.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from types import MethodType
from typing import Any, Generic, Self, TypeVar

from brokerwire.core.ctrader.oauth import OAuthApp, OAuthToken
from brokerwire.core.http.events import HttpEvent
from brokerwire.core.http.request import HttpRequest
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule, TokenFailure
from brokerwire.core.tradovate.auth import AccessToken, Penalty, TradovateCredentials

from .engine.login import (
    CTraderLoginEngine,
    LoginEngine,
    TokenListener,
    TradovateLoginEngine,
)
from .errors import AuthenticationError, ConnectError
from .http_exchange import run_exchange

__all__ = ["CTraderLogin", "TradovateLogin"]

log = logging.getLogger("brokerwire.login")

EngineT = TypeVar("EngineT", bound=LoginEngine)
EventCallback = Callable[[Any], object]

#: The longest time penalty a sign-in waits out before it gives up.
MAX_PENALTY_WAIT = 60.0
_MAX_PENALTIES = 3


def clocks() -> tuple[float, datetime]:
    """The monotonic time and the UTC wall time, read together."""
    return time.monotonic(), datetime.now(UTC)


class Listeners:
    """The clients that take a login's tokens, held weakly (a closed, dropped client leaves)."""

    def __init__(self) -> None:
        self._held: list[Callable[[], TokenListener | None]] = []
        self._lock = threading.Lock()

    def add(self, listener: TokenListener) -> None:
        if isinstance(listener, MethodType):
            ref: Callable[[], TokenListener | None] = weakref.WeakMethod(listener)
        else:

            def ref() -> TokenListener | None:
                return listener

        with self._lock:
            self._held.append(ref)

    def tell(self, events: list[Any], token: str | None) -> None:
        with self._lock:
            listeners = [ref() for ref in self._held]
            self._held = [ref for ref, got in zip(self._held, listeners, strict=True) if got]
        for listener in listeners:
            if listener is None:
                continue
            try:
                listener(events, token)
            except Exception:
                log.exception("a client failed to take the login's news")


def call_back(callback: EventCallback | None, events: list[Any]) -> None:
    """Each event to the login's ``on_event``; one that raises is logged."""
    if callback is None:
        return
    for event in events:
        try:
            callback(event)
        except Exception:
            log.exception("the login's on_event callback raised on %s", type(event).__name__)


class _ThreadedLogin(Generic[EngineT]):
    """The renewal thread and the listeners; the broker is in the engine."""

    def __init__(
        self,
        engine: EngineT,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        on_event: EventCallback | None,
        on_tokens: Callable[[Any], object] | None,
    ) -> None:
        self._engine = engine
        self._ssl_context = ssl_context
        self._timeout = timeout
        self._on_event = on_event
        self._on_tokens = on_tokens
        self._lock = threading.RLock()  # the engine's state
        self._exchanging = threading.Lock()  # one exchange at a time
        self._listeners = Listeners()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "idle"
        return f"<{type(self).__name__} {state} renewals={self.renewals}>"

    # -- what clients use --------------------------------------------------------------------------

    def attach(self, listener: TokenListener) -> None:
        """A client that takes this login's tokens hears of each change."""
        self._listeners.add(listener)

    @property
    def renewals(self) -> int:
        """Renewals since sign-in."""
        return self._engine.renewals

    @property
    def expires_in(self) -> float:
        """Seconds the current token still lasts (0 without one)."""
        with self._lock:
            return self._engine.expires_in(time.monotonic())

    @property
    def expiration_time(self) -> datetime | None:
        return self._engine.expiration_time

    # -- life --------------------------------------------------------------------------------------

    def _run_exchange(self, request: HttpRequest) -> HttpEvent:
        return run_exchange(request, timeout=self._timeout, ssl_context=self._ssl_context)

    def _start_renewing(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"brokerwire-{type(self).__name__}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop renewing (the token stays valid until it expires). Safe to call twice."""
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + 5.0)

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                deadline = self._engine.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._step()
            except Exception:  # a fault of brokerwire: logged, and the thread goes on
                log.exception("the login's renewal failed inside brokerwire")
                self._wake.wait(1.0)

    def _step(self) -> None:
        with self._exchanging:
            now = time.monotonic()
            with self._lock:
                events = self._engine.timer(now)
                request = self._engine.due(now)
            self._tell(events, None)
            if request is not None:
                self._renew(request)

    def renew_now(self) -> None:
        """Renew at once, whatever the schedule (a cTrader refresh also works after expiry).
        Raises ``AuthenticationError`` when the renewal fails."""
        with self._exchanging:
            with self._lock:
                self._engine.check_renewable()
                request = self._engine.renewal_request()
            if not self._renew(request):
                raise AuthenticationError(
                    f"the {self._engine.broker} token could not be renewed: "
                    f"{self._engine.last_failure}"
                )
        self._wake.set()

    def _renew(self, request: HttpRequest) -> bool:
        event = self._run_exchange(request)
        now, wall = clocks()
        with self._lock:
            events, token = self._engine.renewal_answered(event, now, wall)
        self._tell(events, token)
        return token is not None

    def _tell(self, events: list[Any], token: str | None) -> None:
        if token is not None and self._on_tokens is not None:
            try:
                self._on_tokens(self)
            except Exception:
                log.exception("the login's on_tokens callback raised")
        if events or token is not None:
            call_back(self._on_event, events)
            self._listeners.tell(events, token)

    def _sleep(self, seconds: float) -> None:
        if self._wake.wait(seconds):
            self._wake.clear()
        if self._stopping:
            raise ConnectError("the login was closed")


class _TokenView:
    """One of a Tradovate login's two tokens, as a client's ``token``."""

    def __init__(self, login: TradovateLogin, market_data: bool) -> None:
        self._login = login
        self._market_data = market_data

    def __repr__(self) -> str:
        kind = "mdAccessToken" if self._market_data else "accessToken"
        return f"<{kind} of {self._login!r}>"

    def current(self) -> str:
        return self._login.current(market_data=self._market_data)

    def attach(self, listener: TokenListener) -> None:
        self._login.attach(listener)


class TradovateLogin(_ThreadedLogin[TradovateLoginEngine]):
    """One Tradovate sign-in, renewed on schedule, shared by every socket of the user.

    ``auth_url`` is the REST base (``https://demo.tradovateapi.com/v1`` or ``live.``).
    ``start()`` (or the ``with`` block) signs in, waiting out time penalties of up to
    ``MAX_PENALTY_WAIT`` seconds, and starts renewing; ``schedule`` sets when (the core's
    ``RenewalSchedule``). Give ``login.trading`` to trading clients and ``login.market_data``
    to the market-data client: ``TradovateClient(url, token=login.market_data)``. ``timeout``
    bounds each HTTP exchange. ``on_event`` hears ``TokenRenewed``, ``TokenRenewalFailed`` and
    ``TokenExpired`` (on the login's thread); ``on_tokens(login)`` is called after each new
    token (to save it).
    """

    def __init__(
        self,
        auth_url: str,
        credentials: TradovateCredentials | None = None,
        *,
        schedule: RenewalSchedule | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        on_event: EventCallback | None = None,
        on_tokens: Callable[[Any], object] | None = None,
    ) -> None:
        super().__init__(
            TradovateLoginEngine(auth_url, credentials, schedule),
            ssl_context=ssl_context,
            timeout=timeout,
            on_event=on_event,
            on_tokens=on_tokens,
        )
        self.trading = _TokenView(self, market_data=False)
        self.market_data = _TokenView(self, market_data=True)

    @property
    def token(self) -> AccessToken | None:
        """The current tokens (``Secret`` values) and their expiry."""
        return self._engine.token

    def current(self, *, market_data: bool = False) -> str:
        """The token a socket sends now; ``AuthenticationError`` once it has expired."""
        with self._lock:
            return self._engine.current(time.monotonic(), market_data=market_data)

    def restore(
        self, access_token: Secret, md_access_token: Secret | None, expiration_time: datetime
    ) -> Self:
        """Use tokens from an earlier sign-in instead of signing in again."""
        now, wall = clocks()
        with self._lock:
            self._engine.restore(access_token, md_access_token, expiration_time, now, wall)
        return self

    def start(self) -> Self:
        """Sign in (unless tokens were restored) and start renewing. Raises
        ``AuthenticationError`` when Tradovate refuses, ``ConnectError`` when it cannot be
        reached."""
        if not self._engine.signed_in:
            self._sign_in()
        with self._lock:
            self._engine.check(time.monotonic())
        self._start_renewing()
        return self

    def __enter__(self) -> Self:
        return self.start()

    def _sign_in(self) -> None:
        ticket: str | None = None
        with self._exchanging:
            for _ in range(_MAX_PENALTIES + 1):
                event = self._run_exchange(self._engine.sign_in_request(ticket))
                now, wall = clocks()
                with self._lock:
                    result = self._engine.sign_in_answered(event, now, wall)
                if isinstance(result, AccessToken):
                    log.info("signed in to Tradovate")
                    break
                if isinstance(result, TokenFailure):
                    error = AuthenticationError if result.final else ConnectError
                    raise error(f"Tradovate sign-in failed: {result.reason}")
                self._wait_penalty(result)
                ticket = result.ticket
            else:
                raise ConnectError("Tradovate sign-in failed: time penalties one after another")
        self._tell([], self._engine.current(time.monotonic()))

    def _wait_penalty(self, penalty: Penalty) -> None:
        if penalty.wait > MAX_PENALTY_WAIT:
            raise ConnectError(
                f"Tradovate sign-in failed: a time penalty of {penalty.wait:g} s "
                f"(more than {MAX_PENALTY_WAIT:g} s): try again later"
            )
        log.warning("Tradovate imposed a time penalty on sign-in; waiting %g s", penalty.wait)
        self._sleep(penalty.wait)


class CTraderLogin(_ThreadedLogin[CTraderLoginEngine]):
    """A cTrader OAuth login: tokens from an authorization code (``exchange_code``) or saved
    ones (``restore``), refreshed on schedule. Give the login as a ``CTraderClient``'s
    ``access_token``: each refresh re-authorizes every account on the client's link (cTrader
    ends their sessions on the old token). The other options are as for ``TradovateLogin``.
    """

    def __init__(
        self,
        app: OAuthApp,
        *,
        schedule: RenewalSchedule | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        on_event: EventCallback | None = None,
        on_tokens: Callable[[Any], object] | None = None,
    ) -> None:
        super().__init__(
            CTraderLoginEngine(app, schedule),
            ssl_context=ssl_context,
            timeout=timeout,
            on_event=on_event,
            on_tokens=on_tokens,
        )

    @property
    def token(self) -> OAuthToken | None:
        """The current tokens (``Secret`` values)."""
        return self._engine.token

    def current(self) -> str:
        """The access token to send now; ``AuthenticationError`` once it has expired."""
        with self._lock:
            return self._engine.current(time.monotonic())

    def exchange_code(self, code: Secret | str) -> Self:
        """Trade the authorization code of the redirect for tokens, then start refreshing."""
        with self._exchanging:
            event = self._run_exchange(self._engine.code_request(code))
            now, wall = clocks()
            with self._lock:
                result = self._engine.code_answered(event, now, wall)
        if isinstance(result, TokenFailure):
            error = AuthenticationError if result.final else ConnectError
            raise error(f"cTrader code exchange failed: {result.reason}")
        self._tell([], result.access_token.reveal())
        return self.start()

    def restore(
        self, access_token: Secret, refresh_token: Secret, expiration_time: datetime
    ) -> Self:
        """Use tokens kept from an earlier exchange."""
        now, wall = clocks()
        with self._lock:
            self._engine.restore(access_token, refresh_token, expiration_time, now, wall)
        return self

    def start(self) -> Self:
        """Start refreshing; a token already expired, or due for renewal, is refreshed first."""
        with self._lock:
            stale = self._engine.stale(time.monotonic())
        if stale:
            self.renew_now()
        with self._lock:
            self._engine.check(time.monotonic())
        self._start_renewing()
        return self

    def __enter__(self) -> Self:
        return self.start()
