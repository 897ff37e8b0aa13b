"""The Tradovate simulator, driven by the core client over real loopback sockets."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme
from msgspec import to_builtins

from brokerwire.adapters.simulators import Fault, FaultKind, TradovateSimulator
from brokerwire.core.tradovate import (
    Chart,
    Closed,
    EntityChanged,
    ErrorResponse,
    MarketData,
    Opened,
    Penalty,
    ReplayClock,
    Response,
    ServerHeartbeat,
    Shutdown,
    TradovateConnection,
    TradovateState,
)
from brokerwire.core.tradovate.market import BarPacket, EndOfHistory
from brokerwire.core.tradovate.models import SyncSnapshot
from tests.adapters.clients import sequence_number
from tests.adapters.simulators.loopback import Loopback, on_sim_loop

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[TradovateSimulator]:
    options = getattr(request, "param", {})
    with TradovateSimulator(**options) as simulator:
        yield simulator


def connect(sim: TradovateSimulator, authorize: bool = True, **options: Any) -> Loopback:
    conn = TradovateConnection("127.0.0.1", **options)
    link = Loopback(conn, sim.url)
    link.until(lambda events: any(isinstance(e, Opened) for e in events))
    if authorize:
        request_id = conn.authorize(sim.token)
        link.until(lambda events: any(getattr(e, "request_id", None) == request_id for e in events))
        assert conn.state is TradovateState.AUTHORIZED
    return link


def ask(link: Loopback, endpoint: str, query: Any = None, body: Any = None) -> Any:
    """Send a request and return its outcome event."""
    request_id = link.conn.request(endpoint, query, body)  # type: ignore[attr-defined]
    events = link.until(lambda evs: any(getattr(e, "request_id", None) == request_id for e in evs))
    return next(e for e in events if getattr(e, "request_id", None) == request_id)


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def answered(request_id: int) -> Callable[[list[Any]], bool]:
    """A condition on the events: the answer to ``request_id`` came."""
    return lambda events: any(getattr(e, "request_id", None) == request_id for e in events)


def state_of(conn: TradovateConnection) -> TradovateState:
    """The state read through a call (mypy would keep the narrowing of an earlier check)."""
    return conn.state


def count(link: Loopback, start: int, kind: type) -> int:
    """How many events of ``kind`` the link has seen since position ``start``."""
    return sum(isinstance(e, kind) for e in link.events[start:])


def test_authorize_with_the_right_token_only(sim: TradovateSimulator) -> None:
    with connect(sim, authorize=False) as link:
        wrong = link.conn.authorize("not-the-token")  # type: ignore[attr-defined]
        events = link.until(lambda evs: any(isinstance(e, ErrorResponse) for e in evs))
        assert of_type(events, ErrorResponse) == [
            ErrorResponse(wrong, 401, "Invalid access token", "authorize")
        ]
        assert ask(link, "account/list") == ErrorResponse(
            2, 401, "Access is denied", "account/list"
        )
        right = link.conn.authorize(sim.token)  # type: ignore[attr-defined]
        link.until(lambda evs: any(e == Response(right, 200, None, "authorize") for e in evs))


def test_reference_endpoints(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        found = ask(link, "contract/find", {"name": "ESZ6"})
        assert isinstance(found, Response)
        assert found.data["name"] == "ESZ6"
        item = ask(link, "contract/item", {"id": found.data["id"]})
        assert item.data == found.data
        assert ask(link, "contract/find", {"name": "XXZ9"}).status == 404
        accounts = ask(link, "account/list")
        assert accounts.data[0]["name"] == "SIM7001"
        missing = ask(link, "no/such/endpoint")
        assert missing == ErrorResponse(
            missing.request_id, 404, "Not found: no/such/endpoint", "no/such/endpoint"
        )


@pytest.mark.parametrize("sim", [{"quote_rate": 25_000}], indirect=True)
def test_quote_stream_has_no_gap_over_ten_thousand_quotes(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        start = len(link.events)
        assert (
            ask(link, "md/subscribeQuote", body={"symbol": "ESZ6"}).data["errorCode"] == "Success"
        )
        link.until(lambda _: count(link, start, MarketData) >= 10_000, timeout=30)
        events = link.events[start:]
        seqs = [sequence_number(q.id) for e in of_type(events, MarketData) for q in e.quotes]
        assert seqs == list(range(1, len(seqs) + 1))
        assert all(q.contract_id == 3570918 for e in of_type(events, MarketData) for q in e.quotes)
        ask(link, "md/unsubscribeQuote", body={"symbol": "ESZ6"})
        link.run_for(0.1)
        assert of_type(link.run_for(0.3), MarketData) == [], "no quotes after unsubscribing"


@pytest.mark.parametrize("sim", [{"quote_rate": 200, "stamp_sends": True}], indirect=True)
def test_stamped_quotes_carry_their_send_time_to_the_microsecond(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        start = len(link.events)
        before = time.time()
        ask(link, "md/subscribeQuote", body={"symbol": "ESZ6"})
        link.until(lambda _: count(link, start, MarketData) >= 20, timeout=30)
        after = time.time()
        quotes = [q for e in of_type(link.events[start:], MarketData) for q in e.quotes]
        stamps = [dt.datetime.fromisoformat(q.timestamp).timestamp() for q in quotes]
        assert all(before - 1e-3 <= stamp <= after for stamp in stamps)
        assert stamps == sorted(stamps)
        assert all(len(q.timestamp.split(".")[1]) == 7 for q in quotes)  # six digits and Z
        assert [q.id for q in quotes] == list(range(1, len(quotes) + 1))


def test_unknown_symbol_is_refused_inside_a_200(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        answer = ask(link, "md/subscribeQuote", body={"symbol": "NOPE"})
        assert answer.status == 200
        assert answer.data["errorCode"] == "UnknownSymbol"


def test_dom_stream(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        ask(link, "md/subscribeDOM", body={"symbol": "NQZ6"})
        events = link.until(lambda evs: any(isinstance(e, MarketData) and e.doms for e in evs))
        dom = next(e for e in events if isinstance(e, MarketData) and e.doms).doms[0]
        assert dom.contract_id == 3570920
        assert len(dom.bids) == 5
        best_bid, best_offer = dom.bids[0].price, dom.offers[0].price
        assert best_bid is not None
        assert best_offer is not None
        assert best_bid < best_offer


@pytest.mark.parametrize("sim", [{"bar_interval": 0.05}], indirect=True)
def test_chart_history_then_end_marker_then_live_bars(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        body = {
            "symbol": "ESZ6",
            "chartDescription": {
                "underlyingType": "MinuteBar",
                "elementSize": 1,
                "elementSizeUnit": "UnderlyingUnits",
            },
            "timeRange": {"asMuchAsElements": 20},
        }
        start = len(link.events)
        answer = ask(link, "md/getChart", body=body)
        historical, realtime = answer.data["historicalId"], answer.data["realtimeId"]
        link.until(lambda _: count(link, start, Chart) >= 4)
        events = link.events[start:]
        charts = [c for e in of_type(events, Chart) for c in e.charts]
        assert type(charts[0]) is BarPacket
        assert charts[0].id == historical
        assert len(charts[0].bars) == 20
        assert charts[1] == EndOfHistory(historical)
        assert all(type(c) is BarPacket for c in charts[2:])
        assert all(c.id == realtime and len(c.bars) == 1 for c in charts[2:])
        ask(link, "md/cancelChart", body={"subscriptionId": realtime})
        link.run_for(0.1)
        assert of_type(link.run_for(0.3), Chart) == []


def test_sync_then_order_fill_and_position_events(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        snapshot = ask(link, "user/syncrequest", body={"users": [2001]})
        assert type(snapshot.data) is SyncSnapshot, "the answer fits the model, so it is typed"
        assert snapshot.data.accounts[0].id == 7001
        start = len(link.events)
        order = ask(
            link,
            "order/placeorder",
            body={
                "accountId": 7001,
                "action": "Buy",
                "symbol": "ESZ6",
                "orderQty": 2,
                "orderType": "Market",
            },
        )
        order_id = order.data["orderId"]
        link.until(lambda _: count(link, start, EntityChanged) >= 8)
        events = link.events[start:]
        changes = [(e.entity_type, e.event_type) for e in of_type(events, EntityChanged)]
        assert changes == [
            ("order", "Created"),
            ("orderVersion", "Created"),
            ("executionReport", "Created"),
            ("order", "Updated"),
            ("executionReport", "Created"),
            ("fill", "Created"),
            ("order", "Updated"),
            ("position", "Created"),
        ]
        entities = [to_builtins(e.entity) for e in of_type(events, EntityChanged)]
        assert entities[0]["ordStatus"] == "PendingNew"
        assert entities[1] == {
            "id": entities[1]["id"],
            "orderId": order_id,
            "orderQty": 2,
            "orderType": "Market",
        }
        assert (entities[2]["execType"], entities[2]["ordStatus"]) == ("New", "Working")
        assert entities[3] == dict(entities[0], ordStatus="Working")
        trade = entities[4]
        assert (trade["execType"], trade["ordStatus"], trade["lastQty"]) == ("Trade", "Filled", 2)
        assert entities[5]["orderId"] == order_id
        assert entities[5]["price"] == trade["lastPx"] == sim.price("ESZ6")
        assert entities[6] == dict(entities[0], ordStatus="Filled")
        assert entities[7]["netPos"] == 2
        rejected = ask(
            link,
            "order/placeorder",
            body={"accountId": 7001, "action": "Buy", "symbol": "ESZ6", "orderQty": 0},
        )
        assert rejected.data["failureText"] == "Invalid order: orderQty must be a positive integer"


@pytest.mark.parametrize("sim", [{"clock_interval": 0.05}], indirect=True)
def test_replay_clock(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        answer = ask(
            link,
            "replay/initializeClock",
            body={
                "startTimestamp": "2024-01-02T14:30:00.000Z",
                "speed": 400,
                "initialBalance": 50000,
            },
        )
        assert answer.data == {"ok": True}
        link.until(lambda _: count(link, 0, ReplayClock) >= 3)
        events = link.events
        clocks = of_type(events, ReplayClock)
        assert clocks[0] == ReplayClock("2024-01-02T14:30:00.200Z", 400), (
            "4x speed: 0.05 s -> 200 ms"
        )
        assert clocks[1].timestamp == "2024-01-02T14:30:00.400Z"
        assert (
            ask(link, "replay/initializeClock", body={"startTimestamp": "nonsense"}).data["ok"]
            is False
        )


@pytest.mark.parametrize("sim", [{"request_limit": 5, "penalty_seconds": 0.3}], indirect=True)
def test_penalty_then_429_when_requests_come_too_fast(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        ids = [link.conn.request("account/list") for _ in range(8)]  # type: ignore[attr-defined]
        events = link.until(
            lambda evs: len([e for e in evs if getattr(e, "request_id", None) in ids]) == 8
        )
        outcomes = [type(e).__name__ for e in events if getattr(e, "request_id", None) in ids]
        assert outcomes[:4] == ["Response"] * 4, (
            "authorize was the first of the five in this second"
        )
        assert outcomes[4] == "Penalty"
        assert outcomes[5:] == ["RateLimited"] * 3
        penalty = of_type(events, Penalty)[0]
        assert penalty.retry_after == 0.3
        assert penalty.ticket
        link.run_for(0.35)
        assert isinstance(ask(link, "account/list"), Response), (
            "served again once the penalty is over"
        )


@pytest.mark.parametrize("sim", [{"heartbeat_interval": 0.1}], indirect=True)
def test_heartbeat_while_idle(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        events = link.run_for(0.45)
        assert 2 <= len(of_type(events, ServerHeartbeat)) <= 5


@pytest.mark.parametrize("sim", [{"idle_timeout": 0.3, "heartbeat_interval": 0.05}], indirect=True)
def test_a_client_that_sends_nothing_is_dropped(sim: TradovateSimulator) -> None:
    with connect(sim, heartbeat_interval=100.0) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed)[0].code == 1001
    with connect(sim, heartbeat_interval=0.1) as link:
        assert of_type(link.run_for(0.6), Closed) == [], "heartbeats keep it alive"


def test_shutdown_on_request(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        sim.call_soon(lambda: sim.shutdown("Maintenance", "back at 18:00"))
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Shutdown) == [Shutdown("Maintenance", "back at 18:00")]
        assert of_type(events, Closed)[0].code == 1001


# -- faults ----------------------------------------------------------------------------------------


def streaming(sim: TradovateSimulator) -> Loopback:
    link = connect(sim)
    link.conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})  # type: ignore[attr-defined]
    return link


@pytest.mark.parametrize(
    "sim",
    [{"quote_rate": 500, "default_fault": Fault(FaultKind.DROP_MID_FRAME, after=20)}],
    indirect=True,
)
def test_fault_drop_mid_frame(sim: TradovateSimulator) -> None:
    with streaming(sim) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        closed = of_type(events, Closed)[0]
        assert closed.code == 1006
        assert closed.error is not None
        assert "ended inside a frame" in closed.error.message
        assert len(of_type(events, MarketData)) == 20 - 2, (
            "authorize and subscribe answers count too"
        )


@pytest.mark.parametrize("sim", [{"quote_rate": 1000, "answer_delay": 0.3}], indirect=True)
def test_answer_delay_holds_answers_back_but_not_streams(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        request_id = link.conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})  # type: ignore[attr-defined]
        events = link.until(lambda evs: any(isinstance(e, Response) for e in evs))
    answer = next(i for i, e in enumerate(events) if isinstance(e, Response))
    assert events[answer].request_id == request_id
    assert of_type(events[:answer], MarketData), "the stream waited for the late answer"
    with pytest.raises(ValueError, match="answer_delay"):
        TradovateSimulator(answer_delay=-1)


def test_fault_drop_mid_frame_first_delivers_what_waited_for_a_slow_client() -> None:
    """The client stops reading until the server's socket is full and bytes wait in its
    buffer; the drop strikes then. Everything sent before it still arrives, then half a
    message, then the end: nothing the server sent is thrown away to make the cut."""
    with TradovateSimulator(quote_rate=20_000, idle_timeout=None) as sim:
        conn = TradovateConnection("127.0.0.1")
        with Loopback(conn, sim.url, receive_buffer=4096) as link:
            link.until(lambda events: any(isinstance(e, Opened) for e in events))
            conn.authorize(sim.token)
            conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})
            link.flush()
            session = on_sim_loop(sim, lambda: sim.sessions()[0])
            end = time.monotonic() + 30
            while on_sim_loop(sim, lambda: session.driver.unsent) == 0:
                assert time.monotonic() < end, "the server's socket never filled up"
                time.sleep(0.02)
            on_sim_loop(sim, lambda: session.set_fault(Fault(FaultKind.DROP_MID_FRAME)))
            conn.request("account/list")  # its answer is the message cut in half
            link.flush()
            while not on_sim_loop(sim, lambda: session.driver.closed):
                assert time.monotonic() < end, "the fault never struck"
                time.sleep(0.02)
            sent = on_sim_loop(sim, lambda: session.sent)
            events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs), timeout=30)
    closed = of_type(events, Closed)[0]
    assert closed.error is not None
    assert "ended inside a frame" in closed.error.message
    seqs = [sequence_number(q.id) for e in of_type(link.events, MarketData) for q in e.quotes]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(of_type(link.events, Response)) + len(seqs) == sent


@pytest.mark.parametrize(
    "sim", [{"quote_rate": 500, "default_fault": Fault(FaultKind.GARBAGE, after=5)}], indirect=True
)
def test_fault_garbage(sim: TradovateSimulator) -> None:
    with streaming(sim) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        closed = of_type(events, Closed)[0]
        assert closed.code == 1002
        assert closed.error is not None


@pytest.mark.parametrize(
    "sim", [{"quote_rate": 500, "default_fault": Fault(FaultKind.SILENCE, after=10)}], indirect=True
)
def test_fault_silence_is_caught_by_the_watchdog(sim: TradovateSimulator) -> None:
    with connect(sim, watchdog_timeout=0.4) as link:
        link.conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})  # type: ignore[attr-defined]
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        closed = of_type(events, Closed)[0]
        assert closed.code == 1011
        assert "the link is dead" in closed.reason


@pytest.mark.parametrize(
    "sim",
    [
        {
            "quote_rate": 500,
            "default_fault": Fault(FaultKind.CLOSE, after=10, code=4001, reason="go away"),
        }
    ],
    indirect=True,
)
def test_fault_close_with_a_code(sim: TradovateSimulator) -> None:
    with streaming(sim) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed) == [Closed(4001, "go away")]


@pytest.mark.parametrize(
    "sim",
    [{"quote_rate": 500, "default_fault": Fault(FaultKind.SHUTDOWN, after=10)}],
    indirect=True,
)
def test_fault_shutdown(sim: TradovateSimulator) -> None:
    with streaming(sim) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Shutdown) == [Shutdown("Maintenance", "simulated failure")]


@pytest.mark.parametrize(
    "sim",
    [{"quote_rate": 500, "default_fault": Fault(FaultKind.DELAY, after=2, seconds=0.3)}],
    indirect=True,
)
def test_fault_delay_holds_answers_back_but_not_streams(sim: TradovateSimulator) -> None:
    with streaming(sim) as link:  # authorize and subscribe are answered on time
        link.until(lambda evs: any(isinstance(e, MarketData) for e in evs))
        start = len(link.events)
        answer = ask(link, "account/list")
        assert isinstance(answer, Response)
        assert of_type(link.events[start : link.events.index(answer)], MarketData)


def test_faults_are_chosen_per_connection() -> None:
    with (
        TradovateSimulator(
            faults={2: Fault(FaultKind.CLOSE, code=4002, reason="second only")}
        ) as sim,
        connect(sim) as first,
    ):
        assert isinstance(ask(first, "account/list"), Response)
        second = TradovateConnection("127.0.0.1")
        with Loopback(second, sim.url) as link:
            link.until(lambda evs: any(isinstance(e, Opened) for e in evs))
            second.authorize(sim.token)  # its answer is the first message: the fault strikes
            events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
            assert of_type(events, Closed) == [Closed(4002, "second only")]
        assert isinstance(ask(first, "account/list"), Response), "the first connection is untouched"


def test_parse_faults_from_text() -> None:
    assert Fault.parse("close:code=4000,after=10") == Fault(FaultKind.CLOSE, after=10, code=4000)
    assert Fault.parse("delay:seconds=2.5") == Fault(FaultKind.DELAY, seconds=2.5)
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.parse("explode")
    with pytest.raises(ValueError, match="bad fault option"):
        Fault.parse("close:colour=red")


# -- lifecycle ------------------------------------------------------------------------------------


def test_stopping_leaves_no_thread_or_listening_port_behind() -> None:
    threads_before = set(threading.enumerate())
    sim = TradovateSimulator().start_in_background()
    port = sim.port
    link = connect(sim)
    link.conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})  # type: ignore[attr-defined]
    link.run_for(0.1)
    sim.stop_background()
    link.close()
    assert set(threading.enumerate()) == threads_before
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1.0),
    ):
        pass


def test_wss_when_given_a_certificate() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with TradovateSimulator(ssl_context=server_context) as sim:
        assert sim.url.startswith("wss://127.0.0.1:")
        raw = socket.create_connection(("127.0.0.1", sim.port), timeout=5.0)
        with client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            conn = TradovateConnection("127.0.0.1")
            tls.sendall(conn.data_to_send())
            events: list[Any] = []
            while not any(isinstance(e, Opened) for e in events):
                data = tls.recv(65536)
                assert data, "the server closed before sending o"
                events += conn.receive_data(data, 0.0)


# -- sockets ---------------------------------------------------------------------------------------


def test_each_socket_takes_its_own_token_and_serves_its_own_requests(
    sim: TradovateSimulator,
) -> None:
    for path, token, served, refused in [
        ("/md/v1/websocket", sim.md_token, "md/subscribeQuote", "account/list"),
        ("/trading/v1/websocket", sim.token, "account/list", "md/subscribeQuote"),
    ]:
        conn = TradovateConnection("127.0.0.1", target=path)
        with Loopback(conn, sim.url) as link:
            link.until(lambda evs: any(isinstance(e, Opened) for e in evs))
            other = sim.token if token == sim.md_token else sim.md_token
            wrong = conn.authorize(other)
            link.until(answered(wrong))
            assert state_of(conn) is not TradovateState.AUTHORIZED
            right = conn.authorize(token)
            link.until(answered(right))
            assert state_of(conn) is TradovateState.AUTHORIZED
            assert isinstance(ask(link, served, body={"symbol": "ESZ6"}), Response)
            assert ask(link, refused, body={"symbol": "ESZ6"}).status == 404


def test_a_path_that_is_no_socket_is_refused(sim: TradovateSimulator) -> None:
    conn = TradovateConnection("127.0.0.1", target="/v2/websocket")
    with Loopback(conn, sim.url) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert not any(isinstance(e, Opened) for e in events)


def test_hostile_request_values_are_answered_not_fatal(sim: TradovateSimulator) -> None:
    with connect(sim) as link:
        assert ask(link, "contract/item", {"id": "9" * 5000}).status == 404
        chart = {"symbol": "ESZ6", "chartDescription": {}, "timeRange": {"asMuchAsElements": "x"}}
        assert isinstance(ask(link, "md/getChart", body=chart), Response)
        modify = {"orderId": 1, "orderQty": 1}
        assert ask(link, "order/modifyorder", body=modify).data["failureReason"] == "UnknownReason"
        placed = ask(
            link,
            "order/placeorder",
            body={
                "action": "Buy",
                "symbol": "ESZ6",
                "orderQty": 1,
                "orderType": "Limit",
                "price": 1,
            },
        )
        modify["orderId"] = placed.data["orderId"]
        assert "commandId" in ask(link, "order/modifyorder", body=modify).data, "Market by default"
        assert ask(link, "order/placeorder", body={"orderQty": 10**400}).status == 200
        assert isinstance(ask(link, "account/list"), Response), "the connection lives on"
