"""A Tradovate login shared by two sockets, against the simulator with two-second tokens.

The token lives 2 s, so it is renewed every 1.5 s: a stream of several renewals lasts a few
seconds. Each socket must keep streaming with no gap in the quotes' sequence numbers and no
reconnect, and the simulator must count exactly one session. Waits are bounded; nothing is timed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brokerwire.adapters import asyncio as aio
from brokerwire.adapters import threaded
from brokerwire.adapters.errors import AuthenticationError
from brokerwire.adapters.events import Disconnected, Reconnected, ReconnectFailed
from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.adapters.token_events import TokenExpired, TokenRenewalFailed, TokenRenewed
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule
from brokerwire.core.tradovate import MarketData
from brokerwire.core.tradovate.auth import TradovateCredentials
from tests.adapters.clients import sequence_numbers

pytestmark = pytest.mark.timeout(60)

RENEWALS = 4  # about six seconds of stream


@pytest.fixture
def sim() -> Iterator[TradovateSimulator]:
    with TradovateSimulator(token_lifetime=2.0, quote_rate=20.0, request_limit=100_000) as s:
        yield s


def credentials(sim: TradovateSimulator, password: str | None = None) -> TradovateCredentials:
    return TradovateCredentials(
        name=sim.username,
        password=Secret(password if password is not None else sim.password),
        app_id=sim.app_id,
        app_version="1.0",
        cid=sim.cid,
        sec=Secret(sim.sec),
    )


def schedule() -> RenewalSchedule:
    return RenewalSchedule(retry_initial=0.1, retry_max=0.5)


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.02)


async def wait_until_async(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.02)


class Seen:
    """A client's events, appended by its ``on_event`` callback (any thread)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [e for e in self.events if type(e) is kind]

    def seqs(self) -> list[int]:
        return [n for e in self.of(MarketData) for n in sequence_numbers(e)]


def check_stream(seen: Seen, renewals: int) -> None:
    """Quotes with no gap, every renewal heard, no sign of a reconnect."""
    seqs = seen.seqs()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > 20
    assert len(seen.of(TokenRenewed)) >= renewals
    assert not seen.of(Disconnected)
    assert not seen.of(Reconnected)


def test_threaded_login_renews_for_both_sockets_in_one_session(sim: TradovateSimulator) -> None:
    heard = Seen()
    md_seen, trading_seen = Seen(), Seen()
    with (
        threaded.TradovateLogin(
            sim.auth_url, credentials(sim), schedule=schedule(), on_event=heard
        ) as login,
        threaded.TradovateClient(sim.md_url, token=login.market_data, on_event=md_seen) as md,
        threaded.TradovateClient(sim.url, token=login.trading, on_event=trading_seen) as trading,
    ):
        md.subscribe_quote("ESZ6")
        trading.subscribe_quote("NQZ6")
        wait_until(
            lambda: (
                len(md_seen.of(TokenRenewed)) >= RENEWALS
                and len(trading_seen.of(TokenRenewed)) >= RENEWALS
            )
        )
        seqs_then = len(md_seen.seqs()), len(trading_seen.seqs())
        wait_until(lambda: len(md_seen.seqs()) > seqs_then[0] + 5)
        wait_until(lambda: len(trading_seen.seqs()) > seqs_then[1] + 5)
    for seen in (md_seen, trading_seen):
        check_stream(seen, RENEWALS)
    assert login.renewals >= RENEWALS
    assert len(heard.of(TokenRenewed)) == login.renewals
    assert sim.sessions_opened == 1
    assert sim.renewals == login.renewals
    assert sim.authorize_requests == 2  # one per socket: no reconnect


def test_asyncio_login_renews_for_both_sockets_in_one_session(sim: TradovateSimulator) -> None:
    md_seen, trading_seen = Seen(), Seen()

    async def main() -> int:
        login = aio.TradovateLogin(sim.auth_url, credentials(sim), schedule=schedule())
        async with (
            login,
            aio.TradovateClient(sim.md_url, token=login.market_data, on_event=md_seen) as md,
            aio.TradovateClient(sim.url, token=login.trading, on_event=trading_seen) as trading,
        ):
            await md.subscribe_quote("ESZ6")
            await trading.subscribe_quote("NQZ6")
            await wait_until_async(
                lambda: (
                    len(md_seen.of(TokenRenewed)) >= RENEWALS
                    and len(trading_seen.of(TokenRenewed)) >= RENEWALS
                )
            )
            seqs_then = len(md_seen.seqs())
            await wait_until_async(lambda: len(md_seen.seqs()) > seqs_then + 5)
        return login.renewals

    renewals = asyncio.run(main())
    for seen in (md_seen, trading_seen):
        check_stream(seen, RENEWALS)
    assert renewals >= RENEWALS
    assert sim.sessions_opened == 1
    assert sim.authorize_requests == 2


def test_a_refused_renewal_is_an_event_and_is_tried_again(sim: TradovateSimulator) -> None:
    sim.refuse_renewals(2, status=503)
    seen = Seen()
    with (
        threaded.TradovateLogin(sim.auth_url, credentials(sim), schedule=schedule()) as login,
        threaded.TradovateClient(sim.md_url, token=login.market_data, on_event=seen) as md,
    ):
        md.subscribe_quote("ESZ6")
        wait_until(lambda: len(seen.of(TokenRenewed)) >= 2)
    failures = seen.of(TokenRenewalFailed)
    assert len(failures) == 2
    assert all(not f.final and f.retry_in is not None and f.expires_in > 0 for f in failures)
    assert all("503" in f.reason for f in failures)
    kinds = [type(e) for e in seen.events if type(e) in (TokenRenewalFailed, TokenRenewed)]
    assert kinds[:3] == [TokenRenewalFailed, TokenRenewalFailed, TokenRenewed]
    check_stream(seen, 2)
    assert sim.sessions_opened == 1


def test_asyncio_refused_renewal_then_accepted(sim: TradovateSimulator) -> None:
    sim.refuse_renewals(1, status=503)
    seen = Seen()

    async def main() -> None:
        async with (
            aio.TradovateLogin(sim.auth_url, credentials(sim), schedule=schedule()) as login,
            aio.TradovateClient(sim.md_url, token=login.market_data, on_event=seen) as md,
        ):
            await md.subscribe_quote("ESZ6")
            await wait_until_async(lambda: len(seen.of(TokenRenewed)) >= 1)

    asyncio.run(main())
    assert len(seen.of(TokenRenewalFailed)) == 1
    check_stream(seen, 1)
    assert sim.sessions_opened == 1


def test_expiry_ends_a_reconnect_with_a_clear_error(sim: TradovateSimulator) -> None:
    sim.refuse_renewals(1000, status=503)
    seen = Seen()
    login = threaded.TradovateLogin(sim.auth_url, credentials(sim), schedule=schedule())
    with (
        login,
        threaded.TradovateClient(sim.md_url, token=login.market_data, on_event=seen) as md,
    ):
        md.subscribe_quote("ESZ6")
        wait_until(lambda: bool(seen.of(TokenExpired)))
        sim.call_soon(sim.shutdown)  # the link drops; the reconnect finds the token expired
        wait_until(lambda: bool(seen.of(ReconnectFailed)))
        failed = seen.of(ReconnectFailed)[0]
        assert isinstance(failed.error, AuthenticationError)
        assert "expired at" in str(failed.error)
        assert "sign in again" in str(failed.error)
        with pytest.raises(AuthenticationError, match="expired at"):
            threaded.TradovateClient(sim.md_url, token=login.market_data).connect()
    assert seen.of(TokenRenewalFailed)
    assert sim.sessions_opened == 1


def test_asyncio_expiry_refuses_a_new_connection(sim: TradovateSimulator) -> None:
    sim.refuse_renewals(1000, status=503)
    seen: list[Any] = []

    async def main() -> None:
        async with aio.TradovateLogin(
            sim.auth_url, credentials(sim), schedule=schedule(), on_event=seen.append
        ) as login:
            await wait_until_async(lambda: any(type(e) is TokenExpired for e in seen))
            with pytest.raises(AuthenticationError, match="expired at"):
                await aio.TradovateClient(sim.md_url, token=login.market_data).connect()

    asyncio.run(main())


@pytest.mark.parametrize("login_class", [threaded.TradovateLogin])
def test_sign_in_waits_out_a_penalty_and_refuses_wrong_credentials(
    sim: TradovateSimulator, login_class: Any
) -> None:
    sim.penalize_sign_ins(1, wait=0.2)
    with login_class(sim.auth_url, credentials(sim)) as login:
        assert login.current()
    assert sim.sessions_opened == 1
    with pytest.raises(AuthenticationError, match="Incorrect username") as caught:
        login_class(sim.auth_url, credentials(sim, password="wrong-password-123")).start()
    assert "wrong-password-123" not in str(caught.value)
    sim.penalize_sign_ins(1, captcha=True)
    with pytest.raises(AuthenticationError, match="CAPTCHA"):
        login_class(sim.auth_url, credentials(sim)).start()


def test_a_plain_token_still_works(sim: TradovateSimulator) -> None:
    with threaded.TradovateClient(sim.md_url, token=sim.md_token) as md:
        assert md.subscribe_quote("ESZ6") is not None


def test_a_reconnect_after_renewals_authorizes_with_the_renewed_token(
    sim: TradovateSimulator,
) -> None:
    seen = Seen()
    with (
        threaded.TradovateLogin(sim.auth_url, credentials(sim), schedule=schedule()) as login,
        threaded.TradovateClient(sim.md_url, token=login.market_data, on_event=seen) as md,
    ):
        md.subscribe_quote("ESZ6")
        # Two renewals: the token of the sign-in (2 s) has expired by the second one's end.
        wait_until(lambda: len(seen.of(TokenRenewed)) >= 3)
        sim.call_soon(sim.shutdown)
        wait_until(lambda: bool(seen.of(Reconnected)))
        quotes_then = len(seen.of(MarketData))
        wait_until(lambda: len(seen.of(MarketData)) > quotes_then + 5)
    assert not seen.of(ReconnectFailed)
    assert sim.authorize_requests == 2  # the first connection and the reconnect
    assert sim.sessions_opened == 1
