"""A cTrader login refreshed during a spot stream: every subscribed stream keeps flowing.

The simulator's tokens last 2 s, so the login refreshes every 1.5 s; each refresh makes the
server end the account's session on the old token (``TokenInvalidated``, and its spot streams
stop), and the client authorizes the account again with the new token and restores its
subscriptions, on the same link.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from brokerwire.adapters import asyncio as aio
from brokerwire.adapters import threaded
from brokerwire.adapters.errors import AuthenticationError
from brokerwire.adapters.events import Disconnected, Reconnected, ReconnectFailed
from brokerwire.adapters.simulators import CTraderSimulator, Fault
from brokerwire.adapters.token_events import TokenExpired, TokenRenewalFailed, TokenRenewed
from brokerwire.core.ctrader import SpotEvent, TokenInvalidated
from brokerwire.core.ctrader.oauth import OAuthApp, authorization_url
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule
from tests.adapters.test_tokens_tradovate import Seen, wait_until, wait_until_async

pytestmark = pytest.mark.timeout(60)

SYMBOLS = [1, 2, 41]
REFRESHES = 3


@pytest.fixture
def sim() -> Iterator[CTraderSimulator]:
    with CTraderSimulator(token_lifetime=2.0, spot_rate=20.0) as s:
        yield s


def app(sim: CTraderSimulator) -> OAuthApp:
    return OAuthApp(
        client_id=sim.client_id,
        client_secret=Secret(sim.client_secret),
        redirect_uri="http://127.0.0.1:9/callback",
        token_url=f"{sim.oauth_url}/token",
        authorize_url=f"{sim.oauth_url}/auth",
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def grant_code(oauth_app: OAuthApp) -> str:
    """What the browser does: open the grant page, read the code from the redirect."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(authorization_url(oauth_app, state="xyz"), timeout=10)
    location = redirect.value.headers["Location"]
    redirect.value.close()
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def schedule() -> RenewalSchedule:
    return RenewalSchedule(retry_initial=0.1, retry_max=0.5)


def spots_after_last_invalidation(seen: Seen) -> set[int]:
    events = list(seen.events)
    last = max(i for i, e in enumerate(events) if type(e) is TokenInvalidated)
    return {e.symbol_id for e in events[last:] if type(e) is SpotEvent}


def check(seen: Seen, refreshes: int) -> None:
    assert len(seen.of(TokenRenewed)) >= refreshes
    assert len(seen.of(TokenInvalidated)) >= refreshes
    assert spots_after_last_invalidation(seen) == set(SYMBOLS)
    assert not seen.of(Disconnected)
    assert not seen.of(Reconnected)


def test_threaded_refreshes_keep_every_stream_flowing(sim: CTraderSimulator) -> None:
    oauth_app = app(sim)
    seen = Seen()
    login = threaded.CTraderLogin(oauth_app, schedule=schedule())
    with (
        login.exchange_code(grant_code(oauth_app)),
        threaded.CTraderClient(
            sim.websocket_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            access_token=login,
            on_event=seen,
        ) as client,
    ):
        account = sim.accounts[0]
        client.authorize_account(account)
        client.subscribe_spots(account, SYMBOLS)
        wait_until(lambda: len(seen.of(TokenInvalidated)) >= REFRESHES)
        wait_until(lambda: spots_after_last_invalidation(seen) == set(SYMBOLS))
        assert client.accounts == [account]
    check(seen, REFRESHES)
    assert sim.refreshes == login.renewals


def test_asyncio_refreshes_keep_every_stream_flowing(sim: CTraderSimulator) -> None:
    oauth_app = app(sim)
    code = grant_code(oauth_app)
    seen = Seen()

    async def main() -> None:
        login = aio.CTraderLogin(oauth_app, schedule=schedule())
        await login.exchange_code(code)
        async with (
            login,
            aio.CTraderClient(
                sim.tcp_url,
                client_id=sim.client_id,
                client_secret=sim.client_secret,
                access_token=login,
                on_event=seen,
            ) as client,
        ):
            account = sim.accounts[0]
            await client.authorize_account(account)
            await client.subscribe_spots(account, SYMBOLS)
            await wait_until_async(lambda: len(seen.of(TokenInvalidated)) >= REFRESHES)
            await wait_until_async(lambda: spots_after_last_invalidation(seen) == set(SYMBOLS))

    asyncio.run(main())
    check(seen, REFRESHES)


def test_a_refused_refresh_is_tried_again(sim: CTraderSimulator) -> None:
    oauth_app = app(sim)
    sim.refuse_refreshes(1)
    seen = Seen()
    login = threaded.CTraderLogin(oauth_app, schedule=schedule())
    with (
        login.exchange_code(grant_code(oauth_app)),
        threaded.CTraderClient(
            sim.websocket_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            access_token=login,
            on_event=seen,
        ) as client,
    ):
        account = sim.accounts[0]
        client.authorize_account(account)
        client.subscribe_spots(account, SYMBOLS)
        wait_until(lambda: len(seen.of(TokenInvalidated)) >= 1)
        wait_until(lambda: spots_after_last_invalidation(seen) == set(SYMBOLS))
    assert len(seen.of(TokenRenewalFailed)) == 1
    check(seen, 1)


def test_a_spent_code_is_refused(sim: CTraderSimulator) -> None:
    oauth_app = app(sim)
    code = grant_code(oauth_app)
    threaded.CTraderLogin(oauth_app).exchange_code(code).close()
    with pytest.raises(AuthenticationError, match="INVALID_GRANT") as caught:
        threaded.CTraderLogin(oauth_app).exchange_code(code)
    assert code not in str(caught.value)
    assert sim.client_secret not in str(caught.value)


def test_a_reconnect_after_refreshes_authorizes_the_account_with_the_new_token(
    sim: CTraderSimulator,
) -> None:
    oauth_app = app(sim)
    seen = Seen()
    login = threaded.CTraderLogin(oauth_app, schedule=schedule())
    with (
        login.exchange_code(grant_code(oauth_app)),
        threaded.CTraderClient(
            sim.websocket_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            access_token=login,
            on_event=seen,
        ) as client,
    ):
        account = sim.accounts[0]
        client.authorize_account(account)
        client.subscribe_spots(account, SYMBOLS)
        wait_until(lambda: len(seen.of(TokenInvalidated)) >= 1)
        sim.call_soon(lambda: sim.inject(Fault.parse("close")))
        wait_until(lambda: bool(seen.of(Reconnected)))
        reconnected = seen.events.index(seen.of(Reconnected)[0])
        wait_until(
            lambda: (
                {e.symbol_id for e in seen.events[reconnected:] if type(e) is SpotEvent}
                == set(SYMBOLS)
            )
        )
        assert client.accounts == [account]
    assert seen.of(Reconnected)[0].resubscribed == 1


def test_expiry_ends_a_reconnect_with_a_clear_error(sim: CTraderSimulator) -> None:
    oauth_app = app(sim)
    sim.refuse_refreshes(1000)
    seen = Seen()
    login = threaded.CTraderLogin(oauth_app, schedule=schedule())
    with (
        login.exchange_code(grant_code(oauth_app)),
        threaded.CTraderClient(
            sim.websocket_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            access_token=login,
            on_event=seen,
        ) as client,
    ):
        client.authorize_account(sim.accounts[0])
        client.subscribe_spots(sim.accounts[0], SYMBOLS)  # the fault strikes on a message
        wait_until(lambda: bool(seen.of(TokenExpired)))
        sim.call_soon(lambda: sim.inject(Fault.parse("close")))
        wait_until(lambda: bool(seen.of(ReconnectFailed)))
        error = seen.of(ReconnectFailed)[0].error
        assert isinstance(error, AuthenticationError)
        assert "cTrader access token expired at" in str(error)
    assert all(not f.final for f in seen.of(TokenRenewalFailed))
