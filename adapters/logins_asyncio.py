"""Logins for asyncio programs: the threaded logins' behaviour, with a task instead of a thread.

``TradovateLogin`` and ``CTraderLogin`` here take the same arguments as those of
``brokerwire.adapters.logins`` and are used the same way (``login.trading``,
``login.market_data``, or the cTrader login itself, as a client's token); ``start``,
``exchange_code``, ``renew_now`` and ``close`` are coroutines, and the exchanges run on the
loop with ``run_exchange_async``. A login belongs to the loop it started on; its clients
hear of each renewal there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
from .http_exchange import run_exchange_async
from .logins import MAX_PENALTY_WAIT, EventCallback, Listeners, call_back

__all__ = ["CTraderLogin", "TradovateLogin"]

log = logging.getLogger("brokerwire.login")

EngineT = TypeVar("EngineT", bound=LoginEngine)
_MAX_PENALTIES = 3


def _clocks() -> tuple[float, datetime]:
    return asyncio.get_running_loop().time(), datetime.now(UTC)


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:  # asked from outside the loop: the clock loops use
        return time.monotonic()


class _AsyncLogin(Generic[EngineT]):
    """The renewal task and the listeners; the broker is in the engine."""

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
        self._listeners = Listeners()
        self._exchanging: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "running" if self._task is not None else "idle"
        return f"<{type(self).__name__} {state} renewals={self.renewals}>"

    def attach(self, listener: TokenListener) -> None:
        """A client that takes this login's tokens hears of each change."""
        self._listeners.add(listener)

    @property
    def renewals(self) -> int:
        return self._engine.renewals

    @property
    def expires_in(self) -> float:
        return self._engine.expires_in(_now())

    @property
    def expiration_time(self) -> datetime | None:
        return self._engine.expiration_time

    def _lock(self) -> asyncio.Lock:
        if self._exchanging is None:
            self._exchanging = asyncio.Lock()
            self._wake = asyncio.Event()
        return self._exchanging

    async def _run_exchange(self, request: HttpRequest) -> HttpEvent:
        return await run_exchange_async(
            request, timeout=self._timeout, ssl_context=self._ssl_context
        )

    def _start_renewing(self) -> None:
        if self._task is None:
            self._lock()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"brokerwire-{type(self).__name__}"
            )

    async def close(self) -> None:
        """Stop renewing (the token stays valid until it expires). Safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            deadline = self._engine.next_deadline()
            wait = None if deadline is None else max(0.0, deadline - _now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)
            wake.clear()
            try:
                await self._step()
            except Exception:  # a fault of brokerwire: logged, and the task goes on
                log.exception("the login's renewal failed inside brokerwire")
                await asyncio.sleep(1.0)

    async def _step(self) -> None:
        async with self._lock():
            now = _now()
            self._tell(self._engine.timer(now), None)
            request = self._engine.due(now)
            if request is not None:
                await self._renew(request)

    async def renew_now(self) -> None:
        """Renew at once, whatever the schedule; ``AuthenticationError`` when it fails."""
        async with self._lock():
            self._engine.check_renewable()
            if not await self._renew(self._engine.renewal_request()):
                raise AuthenticationError(
                    f"the {self._engine.broker} token could not be renewed: "
                    f"{self._engine.last_failure}"
                )
        if self._wake is not None:
            self._wake.set()

    async def _renew(self, request: HttpRequest) -> bool:
        event = await self._run_exchange(request)
        now, wall = _clocks()
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


class TradovateLogin(_AsyncLogin[TradovateLoginEngine]):
    """One Tradovate sign-in, renewed on schedule, shared by every socket of the user (see
    ``brokerwire.adapters.logins.TradovateLogin``); ``await login.start()`` or ``async with``."""

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
        return self._engine.token

    def current(self, *, market_data: bool = False) -> str:
        return self._engine.current(_now(), market_data=market_data)

    def restore(
        self, access_token: Secret, md_access_token: Secret | None, expiration_time: datetime
    ) -> Self:
        """Use tokens from an earlier sign-in instead of signing in again."""
        now, wall = _now(), datetime.now(UTC)
        self._engine.restore(access_token, md_access_token, expiration_time, now, wall)
        return self

    async def start(self) -> Self:
        """Sign in (unless tokens were restored) and start renewing."""
        if not self._engine.signed_in:
            await self._sign_in()
        self._engine.check(_now())
        self._start_renewing()
        return self

    async def __aenter__(self) -> Self:
        return await self.start()

    async def _sign_in(self) -> None:
        ticket: str | None = None
        async with self._lock():
            for _ in range(_MAX_PENALTIES + 1):
                event = await self._run_exchange(self._engine.sign_in_request(ticket))
                now, wall = _clocks()
                result = self._engine.sign_in_answered(event, now, wall)
                if isinstance(result, AccessToken):
                    log.info("signed in to Tradovate")
                    break
                if isinstance(result, TokenFailure):
                    error = AuthenticationError if result.final else ConnectError
                    raise error(f"Tradovate sign-in failed: {result.reason}")
                await self._wait_penalty(result)
                ticket = result.ticket
            else:
                raise ConnectError("Tradovate sign-in failed: time penalties one after another")
        self._tell([], self._engine.current(_now()))

    async def _wait_penalty(self, penalty: Penalty) -> None:
        if penalty.wait > MAX_PENALTY_WAIT:
            raise ConnectError(
                f"Tradovate sign-in failed: a time penalty of {penalty.wait:g} s "
                f"(more than {MAX_PENALTY_WAIT:g} s): try again later"
            )
        log.warning("Tradovate imposed a time penalty on sign-in; waiting %g s", penalty.wait)
        await asyncio.sleep(penalty.wait)


class CTraderLogin(_AsyncLogin[CTraderLoginEngine]):
    """A cTrader OAuth login refreshed on schedule (see
    ``brokerwire.adapters.logins.CTraderLogin``); give it as a client's ``access_token``."""

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
        return self._engine.token

    def current(self) -> str:
        return self._engine.current(_now())

    async def exchange_code(self, code: Secret | str) -> Self:
        """Trade the authorization code of the redirect for tokens, then start refreshing."""
        async with self._lock():
            event = await self._run_exchange(self._engine.code_request(code))
            now, wall = _clocks()
            result = self._engine.code_answered(event, now, wall)
        if isinstance(result, TokenFailure):
            error = AuthenticationError if result.final else ConnectError
            raise error(f"cTrader code exchange failed: {result.reason}")
        self._tell([], result.access_token.reveal())
        return await self.start()

    def restore(
        self, access_token: Secret, refresh_token: Secret, expiration_time: datetime
    ) -> Self:
        """Use tokens kept from an earlier exchange."""
        now, wall = _now(), datetime.now(UTC)
        self._engine.restore(access_token, refresh_token, expiration_time, now, wall)
        return self

    async def start(self) -> Self:
        """Start refreshing; a token already expired, or due for renewal, is refreshed first."""
        if self._engine.stale(_now()):
            await self.renew_now()
        self._engine.check(_now())
        self._start_renewing()
        return self

    async def __aenter__(self) -> Self:
        return await self.start()
