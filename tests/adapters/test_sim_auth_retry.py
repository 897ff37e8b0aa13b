"""A transient refusal of an authorization is waited out and tried again; only a real refusal
ends in ``AuthenticationError``. The simulators refuse the next authorizations on demand, with
a Tradovate time penalty or 429, or a cTrader rate-limit error, then answer as usual."""

from __future__ import annotations

from typing import Any

import pytest

from brokerwire.adapters.errors import AuthenticationError, ConnectError
from brokerwire.adapters.events import Disconnected, Reconnected, ReconnectFailed
from brokerwire.adapters.reconnect import MAX_TOLD_WAIT, told_wait, untold_wait
from brokerwire.adapters.simulators import Fault, FaultKind
from brokerwire.core.ctrader import AccountDisconnected, PayloadType
from tests.adapters.clients import (
    FAST_RECONNECT,
    assert_no_gap,
    ctrader_credentials,
    ctrader_sim,
    stream_segments,
    streamed,
    tradovate_sim,
)
from tests.adapters.drivers import ADAPTERS, open_client

pytestmark = pytest.mark.timeout(60)

APP_AUTH = PayloadType.PROTO_OA_APPLICATION_AUTH_REQ
ACCOUNT_AUTH = PayloadType.PROTO_OA_ACCOUNT_AUTH_REQ


@pytest.mark.parametrize(
    ("told", "seconds"),
    [
        (2.5, 2.5),
        (0, 7.0),
        ("3", 3.0),
        (10**400, MAX_TOLD_WAIT),
        ("9" * 5000, MAX_TOLD_WAIT),
        (float("inf"), MAX_TOLD_WAIT),
        (1e308, MAX_TOLD_WAIT),
        (float("nan"), 7.0),
        (-1, 7.0),
        ("soon", 7.0),
        (True, 7.0),
        (None, 7.0),
        ([5], 7.0),
    ],
)
def test_a_told_wait_is_a_sane_number_whatever_the_server_sent(told: Any, seconds: float) -> None:
    assert told_wait(told, 7.0) == seconds


def test_an_untold_wait_grows_and_stops_growing() -> None:
    assert [untold_wait(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def reconnected(events: list[Any]) -> bool:
    return type(events[-1]) in (Reconnected, ReconnectFailed)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("penalty", [0.2, None], ids=["penalty", "429"])
def test_tradovate_authorize_refused_for_now_during_a_reconnect_is_tried_again(
    adapter: str, penalty: float | None
) -> None:
    drop = Fault(FaultKind.CLOSE, after=30, code=1011)
    with tradovate_sim(faults={1: drop}) as sim:
        with open_client(
            adapter, "tradovate", sim.url, token=sim.token, reconnect=FAST_RECONNECT
        ) as driver:
            sim.throttle_authorize(times=2, penalty=penalty)
            driver.call("subscribe_quote", "ESZ6")
            events = driver.collect(reconnected)
            assert [type(e) for e in events if type(e) in (Disconnected, ReconnectFailed)] == [
                Disconnected
            ]
            assert events[-1] == Reconnected(1, 1), "one connection, authorized at the third try"
            assert sim.authorize_requests == 1 + 3
            after = driver.collect(streamed(20))
            assert driver.call("list_accounts")[0]["id"] == sim.account_id
        assert_no_gap(stream_segments(after)[0])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_a_short_penalty_on_the_first_connect_is_waited_out(adapter: str) -> None:
    with tradovate_sim() as sim:
        sim.throttle_authorize(times=1, penalty=0.3)
        with open_client(adapter, "tradovate", sim.url, token=sim.token) as driver:
            assert driver.call("list_accounts")[0]["id"] == sim.account_id
        assert sim.authorize_requests == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("penalty", [1e308, 3600], ids=["huge", "an-hour"])
def test_tradovate_a_long_penalty_on_the_first_connect_is_no_authentication_error(
    adapter: str, penalty: float
) -> None:
    with tradovate_sim() as sim:
        sim.throttle_authorize(times=1, penalty=penalty)
        with pytest.raises(ConnectError) as failed:
            open_client(adapter, "tradovate", sim.url, token=sim.token, reconnect=False)
        assert not isinstance(failed.value, AuthenticationError)
        assert sim.authorize_requests == 1


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_a_penalty_of_400_digits_neither_raises_nor_refuses(adapter: str) -> None:
    with tradovate_sim() as sim:
        sim.throttle_authorize(times=1, penalty=10**400)
        with open_client(adapter, "tradovate", sim.url, token=sim.token) as driver:
            assert driver.call("list_accounts")[0]["id"] == sim.account_id
        assert sim.authorize_requests == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_a_wrong_token_is_still_an_authentication_error(adapter: str) -> None:
    with tradovate_sim() as sim, pytest.raises(AuthenticationError):
        open_client(adapter, "tradovate", sim.url, token="wrong", reconnect=False)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_application_and_account_auth_refused_for_now_during_a_reconnect(
    adapter: str,
) -> None:
    drop = Fault(FaultKind.CLOSE, after=30, code=1011)
    with ctrader_sim(faults={1: drop}) as sim:
        account = sim.accounts[0]
        with open_client(
            adapter,
            "ctrader",
            sim.websocket_url,
            reconnect=FAST_RECONNECT,
            **ctrader_credentials(sim),
        ) as driver:
            driver.call("authorize_account", account)
            sim.throttle(APP_AUTH, times=1, retry_after=1)
            sim.throttle(ACCOUNT_AUTH, times=1, retry_after=None)
            driver.call("subscribe_spots", account, 1)
            events = driver.collect(reconnected)
            assert events[-1] == Reconnected(1, 1)
            assert (sim.received[APP_AUTH], sim.received[ACCOUNT_AUTH]) == (1 + 2, 1 + 2)
            after = driver.collect(streamed(20))
            assert driver.client.accounts == [account]
        assert_no_gap(stream_segments(after)[0])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_an_account_authorized_again_after_a_rate_limit(adapter: str) -> None:
    with ctrader_sim() as sim:
        account = sim.accounts[0]
        with open_client(
            adapter, "ctrader", sim.tcp_url, reconnect=FAST_RECONNECT, **ctrader_credentials(sim)
        ) as driver:
            driver.call("authorize_account", account)
            driver.call("subscribe_spots", account, 1)
            driver.collect(streamed(10))
            sim.throttle(ACCOUNT_AUTH, times=1, retry_after=1)
            sim.call_soon(lambda: sim.disconnect_account(account))
            driver.collect(lambda evs: type(evs[-1]) is AccountDisconnected)
            after = driver.collect(streamed(20))
            assert sim.received[ACCOUNT_AUTH] == 3
            assert driver.client.accounts == [account]
        numbers = stream_segments(after)[0]
        assert numbers[0] == 1, "a new subscription, after the account came back"
        assert_no_gap(numbers)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_a_retry_after_of_400_digits_neither_raises_nor_refuses(adapter: str) -> None:
    with ctrader_sim() as sim:
        sim.throttle(APP_AUTH, times=1, retry_after=10**400)
        with open_client(adapter, "ctrader", sim.tcp_url, **ctrader_credentials(sim)) as driver:
            driver.call("authorize_account", sim.accounts[0])
        assert sim.received[APP_AUTH] == 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_wrong_credentials_are_still_an_authentication_error(adapter: str) -> None:
    with ctrader_sim() as sim, pytest.raises(AuthenticationError):
        open_client(
            adapter,
            "ctrader",
            sim.websocket_url,
            client_id=sim.client_id,
            client_secret="wrong",
            reconnect=False,
        )


def _refused_reconnect(adapter: str, broker: str) -> ReconnectFailed:
    """Connect, have the broker refuse the credentials from now on, drop the link: the
    client's last event is the ``ReconnectFailed`` of the refused reconnect."""
    drop = Fault(FaultKind.CLOSE, after=30, code=1011)
    if broker == "tradovate":
        with (
            tradovate_sim(faults={1: drop}) as sim,
            open_client(
                adapter, "tradovate", sim.url, token=sim.token, reconnect=FAST_RECONNECT
            ) as driver,
        ):
            sim.token = "no-longer-valid"
            driver.call("subscribe_quote", "ESZ6")
            events = driver.collect(reconnected)
    else:
        with (
            ctrader_sim(faults={1: drop}) as ctrader,
            open_client(
                adapter,
                "ctrader",
                ctrader.tcp_url,
                reconnect=FAST_RECONNECT,
                **ctrader_credentials(ctrader),
            ) as driver,
        ):
            ctrader.client_secret = "no-longer-valid"
            driver.call("authorize_account", ctrader.accounts[0])
            driver.call("subscribe_spots", ctrader.accounts[0], 1)
            events = driver.collect(reconnected)
    assert [type(e) for e in events if type(e) in (Disconnected, ReconnectFailed)] == [
        Disconnected,
        ReconnectFailed,
    ]
    failed: ReconnectFailed = events[-1]
    return failed


@pytest.mark.parametrize("broker", ["tradovate", "ctrader"])
def test_a_refused_reconnect_gives_the_same_error_type_in_both_adapters(broker: str) -> None:
    """The type ``connect()`` raises for refused credentials, on the event that ends the
    reconnects, whichever adapter runs the client."""
    failures = [_refused_reconnect(adapter, broker) for adapter in ADAPTERS]
    for failed in failures:
        assert type(failed.error) is AuthenticationError
        assert failed.reason == str(failed.error)
        assert "refused" in failed.reason
    assert len({(failed.attempts, failed.reason) for failed in failures}) == 1
