"""The threaded clients against the simulators over loopback."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from brokerwire.adapters.errors import (
    AuthenticationError,
    ConnectError,
    ConnectionLost,
    RequestRefused,
    RequestTimeout,
    Throttled,
)
from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.simulators import Fault, FaultKind
from brokerwire.adapters.threaded import CTraderClient, TradovateClient
from brokerwire.core.ctrader import FollowUp, PayloadType, SpotEvent
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import MarketData, ServerHeartbeat
from tests.adapters.clients import (
    FAST_RECONNECT,
    assert_no_gap,
    ctrader_credentials,
    ctrader_sim,
    sequence_numbers,
    stream_segments,
    streamed,
    tradovate_sim,
)

pytestmark = pytest.mark.timeout(60)


def collect(
    client: TradovateClient | CTraderClient,
    until: Callable[[list[Any]], bool],
    timeout: float = 15.0,
) -> list[Any]:
    events: list[Any] = []
    end = time.monotonic() + timeout
    for event in client.events(timeout=timeout):
        events.append(event)
        if until(events):
            return events
        if time.monotonic() > end:
            break
    names = [type(e).__name__ for e in events[-10:]]
    raise AssertionError(f"condition not met within {timeout} s; last events: {names}")


# -- requests and streams -------------------------------------------------------------------------


def test_tradovate_requests_helpers_and_errors(clean_process: None) -> None:
    with tradovate_sim() as sim, TradovateClient(sim.url, token=sim.token) as client:
        assert client.ready
        assert sim.token not in repr(client)
        found = client.request("contract/find", body={"name": "NQZ6"})
        assert found["name"] == "NQZ6"
        future = client.request_async("contract/find", body={"name": "CLZ6"})
        assert future.result(timeout=5)["name"] == "CLZ6"
        with pytest.raises(RequestRefused) as missing:
            client.request("contract/item", query={"id": 1})
        assert missing.value.status == 404
        with pytest.raises(RequestRefused) as unknown:
            client.subscribe_quote("NOPE")
        assert unknown.value.code == "UnknownSymbol"
        assert client.subscribe_dom("ESZ6") is not None
        chart = client.get_chart("ESZ6", as_much_as_elements=10)
        assert {"historicalId", "realtimeId"} <= set(chart)
        snapshot = client.sync_user(2001)
        assert snapshot.accounts[0].id == 7001, "the sync answer arrives typed"
        order = client.place_order(
            account_spec="SIM7001", account_id=7001, symbol="ESZ6", action="Buy", order_qty=1
        )
        assert "orderId" in order
        with pytest.raises(RequestRefused) as refused:
            client.place_order(
                account_spec="SIM7001", account_id=7001, symbol="NOPE", action="Buy", order_qty=1
            )
        assert refused.value.code == "UnknownReason"
        assert [s.kind for s in client.registry.live] == ["dom", "chart", "sync"]
        client.subscribe_quote("NQZ6")
        client.unsubscribe_quote("NQZ6")
        client.unsubscribe_dom("ESZ6")
        client.cancel_chart(chart["realtimeId"])
        assert [s.kind for s in client.registry.live] == ["sync"]
    assert client.state.value == "closed"


def test_tradovate_penalty_raises_rate_limited(clean_process: None) -> None:
    with tradovate_sim(request_limit=3) as sim, TradovateClient(sim.url, token=sim.token) as c:
        futures = [c.request_async("account/list") for _ in range(8)]
        errors = [f.exception(timeout=5) for f in futures]
    limited = [e for e in errors if isinstance(e, Throttled)]
    assert limited
    assert limited[0].retry_after is not None
    assert limited[0].retry_after > 0
    assert limited[0].ticket


def test_tradovate_quote_stream_has_no_gap(clean_process: None) -> None:
    with tradovate_sim(quote_rate=20_000) as sim, TradovateClient(sim.url, token=sim.token) as c:
        c.subscribe_quote("ESZ6")
        events = collect(c, streamed(10_000))
    numbers = stream_segments(events)[0]
    assert numbers[0] == 1
    assert_no_gap(numbers)


@pytest.mark.parametrize("transport", ["ws", "tcp"])
def test_ctrader_requests_and_spot_stream(transport: str, clean_process: None) -> None:
    with ctrader_sim(spot_rate=20_000) as sim:
        url = sim.websocket_url if transport == "ws" else sim.tcp_url
        with CTraderClient(url, **ctrader_credentials(sim)) as client:
            account = sim.accounts[0]
            listed = client.get_accounts()
            assert [a.ctid_trader_account_id for a in listed.ctid_trader_account] == [account]
            assert client.authorize_account(account).ctid_trader_account_id == account
            assert client.accounts == [account]
            symbols = client.get_symbols(account).symbol
            assert symbols
            bars = client.get_trendbars(account, 1, "M1", 0, 10 * 60_000)
            assert len(bars.trendbar) == 10
            accepted = client.new_order(account, 1, "BUY", 100_000)
            assert accepted.execution_type == 2
            with pytest.raises(RequestRefused) as bad_volume:
                client.new_order(account, 1, "SELL", 7)
            assert bad_volume.value.code == "TRADING_BAD_VOLUME"
            with pytest.raises(LocalProtocolError):
                client.subscribe_spots(999, 1)  # never authorized: misuse, refused at once
            client.subscribe_spots(account, 1)
            events = collect(client, streamed(10_000))
    assert any(type(e) is FollowUp and e.payload["executionType"] == 3 for e in events)
    numbers = stream_segments(events)[0]
    assert numbers[0] == 1
    assert_no_gap(numbers)


# -- faults, reconnects and resubscription --------------------------------------------------------


def test_requests_pending_at_a_disconnect_fail_and_orders_are_reported_unknown(
    clean_process: None,
) -> None:
    delay = Fault(FaultKind.DELAY, after=1, seconds=30)
    with (
        tradovate_sim(faults={1: delay}) as sim,
        TradovateClient(sim.url, token=sim.token, reconnect=FAST_RECONNECT) as client,
    ):
        lookup = client.request_async("account/list")
        order = client.request_async(
            "order/placeorder",
            body={"accountId": 7001, "symbol": "ESZ6", "action": "Buy", "orderQty": 1},
        )
        sim.call_soon(sim.shutdown)
        with pytest.raises(ConnectionLost) as lost_lookup:
            lookup.result(timeout=5)
        with pytest.raises(ConnectionLost) as lost_order:
            order.result(timeout=5)
        assert lost_order.value.outcome_unknown
        assert lost_lookup.value.request == "account/list"
        events = collect(client, lambda evs: any(type(e) is Reconnected for e in evs))
        disconnected = next(e for e in events if type(e) is Disconnected)
        assert [o.request for o in disconnected.unknown_orders] == ["order/placeorder"]
        assert disconnected.unknown_orders[0].request_id == lost_order.value.request_id
        # The order was not sent again: the new connection got only authorize.
        assert client.request("account/list")[0]["id"] == 7001


def test_without_reconnect_the_client_closes_and_events_end(clean_process: None) -> None:
    with (
        tradovate_sim() as sim,
        TradovateClient(sim.url, token=sim.token, reconnect=False) as client,
    ):
        client.subscribe_quote("ESZ6")
        sim.call_soon(sim.shutdown)
        events = list(client.events(timeout=5))
        assert client.state.value == "closed"
        with pytest.raises(LocalProtocolError):
            client.request("account/list")
    disconnected = [e for e in events if type(e) is Disconnected]
    assert len(disconnected) == 1
    assert not disconnected[0].reconnecting


def test_a_reconnect_that_keeps_failing_gives_up(clean_process: None) -> None:
    sim = tradovate_sim().start_in_background()
    policy = type(FAST_RECONNECT)(initial_delay=0.01, max_delay=0.02, max_attempts=3)
    client = TradovateClient(sim.url, token=sim.token, reconnect=policy).connect()
    try:
        sim.stop_background()
        events = list(client.events(timeout=10))
    finally:
        client.close()
    assert type(events[0]) is Disconnected
    assert events[-1].attempts == 3
    assert "attempts" in events[-1].reason


# -- timers, heartbeats, concurrency, backpressure ----------------------------------------------


def test_heartbeats_keep_an_idle_connection_alive_past_the_servers_drop_timeout(
    clean_process: None,
) -> None:
    with (
        # Past the servers' idle timeout, with room for a stalled thread on a busy machine.
        tradovate_sim(idle_timeout=1.5, heartbeat_interval=0.3) as t_sim,
        ctrader_sim(idle_timeout=1.5) as c_sim,
        TradovateClient(t_sim.url, token=t_sim.token, heartbeat_interval=0.1) as t_client,
        CTraderClient(
            c_sim.tcp_url, **ctrader_credentials(c_sim), heartbeat_interval=0.1
        ) as c_client,
    ):
        time.sleep(3.0)
        assert t_client.ready
        assert c_client.ready
        assert t_sim.connections == 1
        assert c_sim.connections == 1
        t_events = list(_drain(t_client))
        c_events = list(_drain(c_client))
    assert not [e for e in t_events + c_events if type(e) is Disconnected]
    assert any(type(e) is ServerHeartbeat for e in t_events)


def _drain(client: TradovateClient | CTraderClient) -> Iterator[Any]:
    try:
        yield from client.events(timeout=0.05)
    except TimeoutError:
        return


def test_many_threads_each_get_their_own_answer(clean_process: None) -> None:
    names = ["ESZ6", "NQZ6", "MESZ6", "CLZ6"]
    with tradovate_sim() as sim, TradovateClient(sim.url, token=sim.token) as client:

        def ask(index: int) -> list[tuple[str, str]]:
            pairs = []
            for round_ in range(25):
                name = names[(index + round_) % len(names)]
                pairs.append((name, client.request("contract/find", body={"name": name})["name"]))
            return pairs

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = [pair for pairs in pool.map(ask, range(16)) for pair in pairs]
    assert len(results) == 400
    assert all(asked == answered for asked, answered in results)


def test_ctrader_threads_share_the_rate_budget_and_each_get_their_answer(
    clean_process: None,
) -> None:
    with ctrader_sim() as sim, CTraderClient(sim.tcp_url, **ctrader_credentials(sim)) as client:
        account = sim.accounts[0]
        client.authorize_account(account)

        def order(volume: int) -> int:
            accepted = client.new_order(account, 1, "BUY", volume)
            return int(accepted.order.trade_data.volume)

        volumes = [100 * (i + 1) for i in range(80)]  # more than the 50/s budget
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answered = list(pool.map(order, volumes))
    assert answered == volumes


def test_a_callback_that_raises_is_logged_and_the_reader_goes_on(
    caplog: pytest.LogCaptureFixture, clean_process: None
) -> None:
    seen: list[Any] = []
    done = threading.Event()

    def on_event(event: Any) -> None:
        if type(event) is MarketData:
            seen.append(event)
            if len(seen) == 1:
                raise ValueError("a bug in the caller's callback")
            if len(seen) == 100:
                done.set()

    with (
        tradovate_sim() as sim,
        TradovateClient(sim.url, token=sim.token, on_event=on_event) as client,
    ):
        client.subscribe_quote("ESZ6")
        assert done.wait(10)
        with pytest.raises(LocalProtocolError):
            client.events()
    assert "a bug in the caller's callback" in caplog.text
    assert_no_gap([n for e in seen for n in sequence_numbers(e)])


def test_close_with_requests_in_flight_fails_them(clean_process: None) -> None:
    with tradovate_sim(faults={1: Fault(FaultKind.DELAY, after=1, seconds=30)}) as sim:
        client = TradovateClient(sim.url, token=sim.token).connect()
        futures = [client.request_async("account/list") for _ in range(5)]
        client.close()
        client.close()  # idempotent
        for future in futures:
            error = future.exception(timeout=1)
            assert isinstance(error, ConnectionLost)
        with pytest.raises(LocalProtocolError):
            client.request("account/list")


def test_a_request_timeout_raises_request_timeout(clean_process: None) -> None:
    with (
        ctrader_sim(faults={1: Fault(FaultKind.DELAY, seconds=30)}) as sim,
        CTraderClient(sim.websocket_url, access_token=sim.access_token) as client,
    ):
        with pytest.raises(RequestTimeout) as timed_out:
            client.request(PayloadType.PROTO_OA_VERSION_REQ, timeout=0.2)
        assert timed_out.value.outcome_unknown
        assert client.ready


# -- connecting --------------------------------------------------------------------------------


def test_connect_errors(clean_process: None) -> None:
    with tradovate_sim() as sim:
        port = sim.port
        with pytest.raises(AuthenticationError, match="Invalid access token"):
            TradovateClient(sim.url, token="wrong-token").connect()
    with pytest.raises(ConnectError, match="refused"):
        TradovateClient(f"ws://127.0.0.1:{port}", token="t", connect_timeout=2).connect()
    with (
        ctrader_sim() as sim,
        pytest.raises(AuthenticationError, match="CH_CLIENT_AUTH_FAILURE"),
    ):
        CTraderClient(sim.tcp_url, client_id="x", client_secret="wrong").connect()
    with pytest.raises(ValueError, match="unsupported URL scheme"):
        TradovateClient("tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="needs a port"):
        CTraderClient("tls://example.invalid")


def test_a_server_that_never_answers_the_handshake_times_out(clean_process: None) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with pytest.raises(ConnectError, match=r"not ready within 0\.5 s"):
            TradovateClient(f"ws://127.0.0.1:{port}", token="t", connect_timeout=0.5).connect()
        # The client asked for the upgrade, then gave up and closed its socket.
        server.settimeout(10)
        accepted, _ = server.accept()
        with accepted:
            accepted.settimeout(10)
            received = b""
            while chunk := accepted.recv(4096):
                received += chunk
        assert received.startswith(b"GET /v1/websocket HTTP/1.1\r\n")


def test_tls_is_verified_unless_the_caller_brings_a_context(
    clean_process: None, caplog: pytest.LogCaptureFixture
) -> None:
    authority = trustme.CA()
    import ssl

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    with tradovate_sim(ssl_context=server_context) as sim:
        assert sim.url.startswith("wss://")
        with pytest.raises(ConnectError, match="certificate"):
            TradovateClient(sim.url, token=sim.token).connect()
        client_context = ssl.create_default_context()
        authority.configure_trust(client_context)
        with (
            caplog.at_level(logging.DEBUG, logger="brokerwire"),
            TradovateClient(sim.url, token=sim.token, ssl_context=client_context) as c,
        ):
            assert c.request("contract/find", body={"name": "ESZ6"})["name"] == "ESZ6"
    assert sim.token not in caplog.text


def test_events_iterator_times_out_when_nothing_comes() -> None:
    with (
        tradovate_sim(heartbeat_interval=60) as sim,
        TradovateClient(sim.url, token=sim.token) as client,
        pytest.raises(TimeoutError),
    ):
        next(iter(client.events(timeout=0.1)))


def test_spot_events_carry_typed_views() -> None:
    with ctrader_sim() as sim, CTraderClient(sim.tcp_url, **ctrader_credentials(sim)) as client:
        client.authorize_account(sim.accounts[0])
        client.subscribe_spots(sim.accounts[0], [1])
        event = next(e for e in client.events(timeout=5) if type(e) is SpotEvent)
    assert event.symbol_id == 1
    assert event.bid is not None


def test_a_client_never_connected_holds_nothing_and_closes_quietly(clean_process: None) -> None:
    client = TradovateClient("ws://127.0.0.1:1", token="t")
    assert repr(client) == "<TradovateClient ws://127.0.0.1:1/v1/websocket idle>"
    client.close()
    assert list(client.events(timeout=1)) == []
    assert client.state.value == "closed"


def test_unsubscribing_spots_stops_the_stream_and_leaves_the_registry() -> None:
    with ctrader_sim() as sim, CTraderClient(sim.tcp_url, **ctrader_credentials(sim)) as client:
        account = sim.accounts[0]
        client.authorize_account(account)
        client.subscribe_spots(account, [1, 2])
        client.unsubscribe_spots(account, 2)
        assert client.registry.spots(account) == [1]
        client.request_async(PayloadType.PROTO_OA_VERSION_REQ).result(timeout=5)
        spots = [e for e in collect(client, streamed(400)) if type(e) is SpotEvent]
    assert {e.symbol_id for e in spots[-200:]} == {1}, "symbol 2 still streams"
