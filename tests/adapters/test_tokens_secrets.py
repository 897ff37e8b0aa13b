"""No password, secret or token of a login shows in a log line (at any level), a repr, an
event or an exception."""

from __future__ import annotations

import logging

import pytest

from brokerwire.adapters import threaded
from brokerwire.adapters.errors import AuthenticationError
from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.adapters.token_events import TokenRenewed
from tests.adapters.test_tokens_ctrader import app, grant_code, schedule
from tests.adapters.test_tokens_tradovate import Seen, credentials, wait_until

pytestmark = pytest.mark.timeout(60)


def assert_hidden(secrets: set[str], *texts: str) -> None:
    assert secrets
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_tradovate_login_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="brokerwire")
    seen = Seen()
    with TradovateSimulator(token_lifetime=2.0) as sim:
        sim.refuse_renewals(1)
        with (
            threaded.TradovateLogin(
                sim.auth_url, credentials(sim), schedule=schedule(), on_event=seen
            ) as login,
            threaded.TradovateClient(sim.md_url, token=login.market_data) as md,
        ):
            md.subscribe_quote("ESZ6")
            wait_until(lambda: len(seen.of(TokenRenewed)) >= 2)
            shown = [repr(login), repr(login.token), repr(login.market_data), repr(md)]
        issued = set(sim.auth._issued)
        with pytest.raises(AuthenticationError) as refused:
            threaded.TradovateLogin(sim.auth_url, credentials(sim, password="pw-x-1")).start()
    secrets = {sim.password, sim.sec, "pw-x-1", *issued}
    assert_hidden(secrets, caplog.text, *shown, *map(repr, seen.events), str(refused.value))


def test_ctrader_login_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="brokerwire")
    seen = Seen()
    secrets: set[str] = set()
    with CTraderSimulator(token_lifetime=2.0) as sim:
        oauth_app = app(sim)
        code = grant_code(oauth_app)
        login = threaded.CTraderLogin(
            oauth_app,
            schedule=schedule(),
            on_event=seen,
            on_tokens=lambda got: secrets.update(
                {got.token.access_token.reveal(), got.token.refresh_token.reveal()}
            ),
        )
        with login.exchange_code(code):
            wait_until(lambda: len(seen.of(TokenRenewed)) >= 2)
            shown = [repr(login), repr(login.token), repr(oauth_app)]
    secrets |= {sim.client_secret, code}
    assert_hidden(secrets, caplog.text, *shown, *map(repr, seen.events))
