"""The cTrader simulator, driven by the core client over real loopback sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind
from brokerwire.core.ctrader import (
    ClientDisconnected,
    Closed,
    CTraderConnection,
    ErrorResponse,
    FollowUp,
    Heartbeat,
    PayloadType,
    Response,
    SpotEvent,
    TokenInvalidated,
)
from brokerwire.core.tcp import Framing
from tests.adapters.clients import sequence_number
from tests.adapters.simulators.loopback import Loopback

pytestmark = pytest.mark.timeout(60)
TRANSPORTS = ["websocket", "tcp-length-prefix", "tcp-json-stream"]
P = PayloadType


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[CTraderSimulator]:
    with CTraderSimulator(**getattr(request, "param", {})) as simulator:
        yield simulator


def open_link(sim: CTraderSimulator, kind: str, **options: Any) -> Loopback:
    if kind == "websocket":
        conn = CTraderConnection.websocket("127.0.0.1", **options)
        link = Loopback(conn, sim.websocket_url)
        link.until(lambda events: any(type(e).__name__ == "Opened" for e in events))
        return link
    framing = Framing.LENGTH_PREFIX if kind == "tcp-length-prefix" else Framing.JSON_STREAM
    return Loopback(CTraderConnection.tcp(framing=framing, **options), sim.tcp_url)


def outcome(link: Loopback, client_msg_id: str) -> Any:
    start = len(link.events)
    link.until(
        lambda _: any(
            getattr(e, "client_msg_id", None) == client_msg_id for e in link.events[start - 50 :]
        )
    )
    return next(e for e in link.events if getattr(e, "client_msg_id", None) == client_msg_id)


def authorized(sim: CTraderSimulator, kind: str, **options: Any) -> Loopback:
    link = open_link(sim, kind, **options)
    conn: CTraderConnection = link.conn  # type: ignore[assignment]
    assert isinstance(
        outcome(link, conn.authorize_application(sim.client_id, sim.client_secret)), Response
    )
    assert isinstance(
        outcome(link, conn.authorize_account(sim.accounts[0], sim.access_token)), Response
    )
    assert conn.authorized_accounts == {sim.accounts[0]}
    return link


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_session_flow(sim: CTraderSimulator, kind: str) -> None:
    with open_link(sim, kind) as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        before = outcome(link, conn.request(P.PROTO_OA_VERSION_REQ))
        assert before.payload == {"version": "brokerwire-simulator"}
        wrong = outcome(link, conn.authorize_application(sim.client_id, "wrong"))
        assert isinstance(wrong, ErrorResponse)
        assert (wrong.error_code, wrong.description) == (
            "CH_CLIENT_AUTH_FAILURE",
            "clientId or clientSecret is incorrect",
        )
        assert isinstance(
            outcome(link, conn.authorize_application(sim.client_id, sim.client_secret)), Response
        )
        listing = outcome(link, conn.get_accounts(sim.access_token))
        assert [
            a["ctidTraderAccountId"] for a in listing.payload["ctidTraderAccount"]
        ] == sim.accounts
        bad_token = outcome(link, conn.get_accounts("nope"))
        assert bad_token.error_code == "CH_ACCESS_TOKEN_INVALID"
        assert isinstance(
            outcome(link, conn.authorize_account(sim.accounts[0], sim.access_token)), Response
        )
        again = outcome(link, conn.authorize_account(sim.accounts[0], sim.access_token))
        assert again.error_code == "ALREADY_LOGGED_IN"
        symbols = outcome(
            link,
            conn.request(P.PROTO_OA_SYMBOLS_LIST_REQ, {"ctidTraderAccountId": sim.accounts[0]}),
        )
        assert {s["symbolName"] for s in symbols.payload["symbol"]} == {
            "EURUSD",
            "GBPUSD",
            "XAUUSD",
        }


def test_messages_before_application_auth_are_refused(sim: CTraderSimulator) -> None:
    with open_link(sim, "tcp-length-prefix") as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        refused = outcome(link, conn.get_accounts(sim.access_token))
        assert refused.error_code == "CH_CLIENT_NOT_AUTHENTICATED"


@pytest.mark.parametrize("sim", [{"spot_rate": 200, "stamp_sends": True}], indirect=True)
def test_stamped_spots_carry_their_send_time_in_session_close(sim: CTraderSimulator) -> None:
    with authorized(sim, "tcp-length-prefix") as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        start = len(link.events)
        before = time.time_ns() // 1000
        conn.request(
            P.PROTO_OA_SUBSCRIBE_SPOTS_REQ,
            {"ctidTraderAccountId": sim.accounts[0], "symbolId": [1]},
        )
        link.until(lambda _: len(of_type(link.events[start:], SpotEvent)) >= 20, timeout=30)
        after = time.time_ns() // 1000
        spots = of_type(link.events[start:], SpotEvent)
        stamps = [spot.session_close for spot in spots]
        assert all(before <= stamp <= after for stamp in stamps)
        assert stamps == sorted(stamps)
        assert [spot.timestamp for spot in spots] == list(range(1, len(spots) + 1))


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("sim", [{"spot_rate": 25_000}], indirect=True)
def test_spot_stream_has_no_gap_over_ten_thousand_spots(sim: CTraderSimulator, kind: str) -> None:
    with authorized(sim, kind) as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        start = len(link.events)
        request = conn.request(
            P.PROTO_OA_SUBSCRIBE_SPOTS_REQ,
            {"ctidTraderAccountId": sim.accounts[0], "symbolId": [1]},
        )
        link.until(
            lambda _: sum(isinstance(e, SpotEvent) for e in link.events[start:]) >= 10_000,
            timeout=30,
        )
        events = link.events[start:]
        assert Response(request, 2128, {"ctidTraderAccountId": sim.accounts[0]}, 2127) in events
        seqs = [sequence_number(e.timestamp) for e in of_type(events, SpotEvent)]
        assert seqs == list(range(1, len(seqs) + 1))
        unsubscribe = conn.request(
            P.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ,
            {"ctidTraderAccountId": sim.accounts[0], "symbolId": [1]},
        )
        assert isinstance(outcome(link, unsubscribe), Response)
        link.run_for(0.1)
        assert of_type(link.run_for(0.3), SpotEvent) == []


def test_spot_subscription_errors(sim: CTraderSimulator) -> None:
    with authorized(sim, "websocket") as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        account = sim.accounts[0]
        assert (
            outcome(
                link, conn.request(2127, {"ctidTraderAccountId": account, "symbolId": [999]})
            ).error_code
            == "SYMBOL_NOT_FOUND"
        )
        assert isinstance(
            outcome(link, conn.request(2127, {"ctidTraderAccountId": account, "symbolId": [2]})),
            Response,
        )
        assert (
            outcome(
                link, conn.request(2127, {"ctidTraderAccountId": account, "symbolId": [2]})
            ).error_code
            == "ALREADY_SUBSCRIBED"
        )


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_market_order_accepted_then_filled_and_order_errors(
    sim: CTraderSimulator, kind: str
) -> None:
    with authorized(sim, kind) as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        order = {
            "ctidTraderAccountId": sim.accounts[0],
            "symbolId": 1,
            "orderType": 1,
            "tradeSide": 1,
            "volume": 100000,
        }
        request = conn.request(P.PROTO_OA_NEW_ORDER_REQ, order)
        start = len(link.events)
        link.until(lambda _: any(isinstance(e, FollowUp) for e in link.events[start - 5 :]))
        accepted = outcome(link, request)
        assert isinstance(accepted, Response)
        assert accepted.payload["executionType"] == 2
        filled = next(
            e for e in link.events if isinstance(e, FollowUp) and e.client_msg_id == request
        )
        assert filled.payload["executionType"] == 3
        assert filled.payload["deal"]["filledVolume"] == 100000
        bad = outcome(link, conn.request(P.PROTO_OA_NEW_ORDER_REQ, dict(order, volume=7)))
        assert isinstance(bad, ErrorResponse)
        assert (bad.payload_type, bad.error_code) == (2132, "TRADING_BAD_VOLUME")


def test_trendbars(sim: CTraderSimulator) -> None:
    with authorized(sim, "tcp-json-stream") as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        bars = outcome(
            link,
            conn.request(
                P.PROTO_OA_GET_TRENDBARS_REQ,
                {
                    "ctidTraderAccountId": sim.accounts[0],
                    "symbolId": 1,
                    "period": 1,
                    "fromTimestamp": 1_700_000_000_000,
                    "toTimestamp": 1_700_000_000_000 + 30 * 60_000,
                },
            ),
        )
        assert len(bars.payload["trendbar"]) == 30
        assert bars.payload["trendbar"][0]["utcTimestampInMinutes"] == 1_700_000_000_000 // 60_000


def test_unknown_and_unsimulated_payload_types(sim: CTraderSimulator) -> None:
    with authorized(sim, "websocket") as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        unsimulated = outcome(
            link, conn.request(P.PROTO_OA_ASSET_LIST_REQ, {"ctidTraderAccountId": sim.accounts[0]})
        )
        assert unsimulated.error_code == "UNSUPPORTED_MESSAGE"
        unknown = outcome(link, conn.request(2199, {}, response_type=2200))
        assert (unknown.payload_type, unknown.error_code) == (50, "UNSUPPORTED_MESSAGE")


def test_the_servers_rate_limit_answers_with_retry_after() -> None:
    # The client's own budget is set high so that the server's limit is what is tested.
    with (
        CTraderSimulator(requests_per_second=3) as strict,
        open_link(strict, "websocket", requests_per_second=1000) as link,
    ):
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        ids = [conn.request(P.PROTO_OA_VERSION_REQ) for _ in range(5)]
        outcomes = [outcome(link, i) for i in ids]
        assert [type(o).__name__ for o in outcomes] == ["Response"] * 3 + ["ErrorResponse"] * 2
        assert outcomes[3].error_code == "BLOCKED_PAYLOAD_TYPE"
        assert outcomes[3].retry_after == 1.0
        assert conn.queued_requests == 0


@pytest.mark.parametrize("sim", [{"heartbeat_interval": 0.1}], indirect=True)
def test_server_heartbeats(sim: CTraderSimulator) -> None:
    with authorized(sim, "tcp-length-prefix") as link:
        assert len(of_type(link.run_for(0.45), Heartbeat)) >= 2


@pytest.mark.parametrize("sim", [{"idle_timeout": 0.3}], indirect=True)
def test_idle_client_is_dropped_and_heartbeats_prevent_it(sim: CTraderSimulator) -> None:
    with authorized(sim, "websocket", heartbeat_interval=100.0) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed)[0].code == 1001
    with authorized(sim, "websocket", heartbeat_interval=0.1) as link:
        assert of_type(link.run_for(0.6), Closed) == []


def test_token_invalidated(sim: CTraderSimulator) -> None:
    with authorized(sim, "websocket") as link:
        sim.call_soon(sim.invalidate_token)
        events = link.until(lambda evs: any(isinstance(e, TokenInvalidated) for e in evs))
        assert of_type(events, TokenInvalidated) == [
            TokenInvalidated((sim.accounts[0],), "token was refreshed")
        ]
        assert link.conn.authorized_accounts == frozenset()  # type: ignore[attr-defined]


# -- faults --------------------------------------------------------------------------------------


def spots(sim: CTraderSimulator, kind: str, **options: Any) -> Loopback:
    link = authorized(sim, kind, **options)
    link.conn.request(2127, {"ctidTraderAccountId": sim.accounts[0], "symbolId": [1]})  # type: ignore[attr-defined]
    return link


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    "sim",
    [{"spot_rate": 500, "default_fault": Fault(FaultKind.DROP_MID_FRAME, after=20)}],
    indirect=True,
)
def test_fault_drop_mid_frame(sim: CTraderSimulator, kind: str) -> None:
    with spots(sim, kind) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        closed = of_type(events, Closed)[0]
        assert closed.error is not None
        assert "the stream ended inside" in closed.error.message


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    "sim", [{"spot_rate": 500, "default_fault": Fault(FaultKind.GARBAGE, after=10)}], indirect=True
)
def test_fault_garbage(sim: CTraderSimulator, kind: str) -> None:
    with spots(sim, kind) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed)[0].error is not None


@pytest.mark.parametrize(
    "sim", [{"spot_rate": 500, "default_fault": Fault(FaultKind.SILENCE, after=10)}], indirect=True
)
def test_fault_silence(sim: CTraderSimulator) -> None:
    with spots(sim, "tcp-length-prefix", watchdog_timeout=0.4) as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert "the link is dead" in of_type(events, Closed)[0].reason


@pytest.mark.parametrize(
    "sim",
    [
        {
            "spot_rate": 500,
            "default_fault": Fault(FaultKind.CLOSE, after=10, code=4003, reason="bye"),
        }
    ],
    indirect=True,
)
def test_fault_close(sim: CTraderSimulator) -> None:
    with spots(sim, "websocket") as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed) == [Closed(4003, "bye")]


@pytest.mark.parametrize(
    "sim", [{"spot_rate": 500, "default_fault": Fault(FaultKind.SHUTDOWN, after=10)}], indirect=True
)
def test_fault_shutdown_sends_client_disconnect(sim: CTraderSimulator) -> None:
    with spots(sim, "tcp-json-stream") as link:
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, ClientDisconnected) == [ClientDisconnected("simulated failure")]


def test_stopping_leaves_no_thread_behind() -> None:
    threads_before = set(threading.enumerate())
    with CTraderSimulator(spot_rate=100) as sim, spots(sim, "websocket") as link:
        link.run_for(0.1)
    assert set(threading.enumerate()) == threads_before


def test_historical_requests_have_their_own_tighter_limit() -> None:
    with (
        CTraderSimulator(historical_per_second=2) as strict,
        authorized(strict, "tcp-length-prefix", historical_requests_per_second=1000) as link,
    ):
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        bars = {
            "ctidTraderAccountId": strict.accounts[0],
            "symbolId": 1,
            "period": 1,
            "fromTimestamp": 0,
            "toTimestamp": 60_000,
        }
        ids = [conn.request(P.PROTO_OA_GET_TRENDBARS_REQ, bars) for _ in range(3)]
        version = conn.request(P.PROTO_OA_VERSION_REQ)
        outcomes = [outcome(link, i) for i in ids]
        assert [type(o).__name__ for o in outcomes] == ["Response", "Response", "ErrorResponse"]
        assert outcomes[2].error_code == "BLOCKED_PAYLOAD_TYPE"
        assert isinstance(outcome(link, version), Response), "other requests are not held to it"


def test_a_fault_injected_into_a_live_connection() -> None:
    with CTraderSimulator(spot_rate=200) as sim, spots(sim, "websocket") as link:
        link.until(lambda evs: sum(isinstance(e, SpotEvent) for e in evs) >= 5)
        sim.call_soon(
            lambda: sim.inject(Fault(FaultKind.CLOSE, after=3, code=4004, reason="injected"))
        )
        events = link.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert of_type(events, Closed) == [Closed(4004, "injected")]


@pytest.mark.parametrize(
    "sim",
    [{"spot_rate": 500, "default_fault": Fault(FaultKind.DELAY, after=2, seconds=0.3)}],
    indirect=True,
)
def test_fault_delay_holds_answers_back_but_not_streams(sim: CTraderSimulator) -> None:
    with spots(sim, "tcp-length-prefix") as link:  # the two auth answers come on time
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        link.until(lambda evs: any(isinstance(e, SpotEvent) for e in evs))
        start = len(link.events)
        answer = outcome(link, conn.request(P.PROTO_OA_VERSION_REQ))
        assert isinstance(answer, Response)
        assert of_type(link.events[start : link.events.index(answer)], SpotEvent)
