"""CTraderConnection: correlation, accounts, timers, rate budgets, misuse and bad input."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from brokerwire.core.ctrader import (
    MAX_REQUEST_BLOCK,
    AccountDisconnected,
    ClientDisconnected,
    Closed,
    CTraderConnection,
    CTraderState,
    DepthEvent,
    ErrorResponse,
    FollowUp,
    Heartbeat,
    PayloadType,
    RequestFailed,
    RequestTimedOut,
    Response,
    ServerEvent,
    SpotEvent,
    TokenInvalidated,
    UnknownMessage,
)
from brokerwire.core.ctrader.connection import HISTORICAL_WINDOW
from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from tests.core.ctrader.helpers import TRANSPORTS, Sent, client, wire
from tests.helpers import only_closed

ACCOUNT = 47561867
ORDER = {
    "ctidTraderAccountId": ACCOUNT,
    "symbolId": 1,
    "orderType": 1,
    "tradeSide": 1,
    "volume": 100000,
}


def authorized(kind: str, now: float = 0.0, **options: Any) -> CTraderConnection:
    """A client whose application and account ``ACCOUNT`` are authorized."""
    conn = client(kind, **options)
    app = conn.authorize_application("34Rsd_T098asHkl", "validClientSecret", now=now)
    conn.receive_data(wire(kind, {"clientMsgId": app, "payloadType": 2101}), now)
    account = conn.authorize_account(ACCOUNT, "access-token", now=now)
    conn.receive_data(
        wire(
            kind,
            {
                "clientMsgId": account,
                "payloadType": 2103,
                "payload": {"ctidTraderAccountId": ACCOUNT},
            },
        ),
        now,
    )
    assert conn.state is CTraderState.APP_AUTHORIZED
    assert conn.authorized_accounts == {ACCOUNT}
    conn.data_to_send()
    return conn


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_session_flow_messages_on_the_wire(kind: str) -> None:
    sent = Sent(kind)
    conn = client(kind)
    assert conn.state is CTraderState.OPEN
    app = conn.authorize_application("34Rsd_T098asHkl", "validClientSecret")
    accounts = conn.get_accounts("access-token")
    assert sent(conn) == [
        {
            "clientMsgId": app,
            "payloadType": 2100,
            "payload": {"clientId": "34Rsd_T098asHkl", "clientSecret": "validClientSecret"},
        },
        {"clientMsgId": accounts, "payloadType": 2149, "payload": {"accessToken": "access-token"}},
    ]
    events = conn.receive_data(
        wire(
            kind,
            {"clientMsgId": app, "payloadType": 2101},
            {
                "clientMsgId": accounts,
                "payloadType": 2150,
                "payload": {
                    "accessToken": "access-token",
                    "ctidTraderAccount": [{"ctidTraderAccountId": ACCOUNT, "isLive": False}],
                },
            },
        ),
        0.5,
    )
    assert events[0] == Response(app, 2101, {}, 2100)
    assert isinstance(events[1], Response)
    assert events[1].payload["ctidTraderAccount"][0]["ctidTraderAccountId"] == ACCOUNT
    assert "access-token" not in repr(events[1])
    assert conn.app_authorized, "the state is APP_AUTHORIZED"
    account = conn.authorize_account(ACCOUNT, "access-token")
    assert sent(conn) == [
        {
            "clientMsgId": account,
            "payloadType": 2102,
            "payload": {"ctidTraderAccountId": ACCOUNT, "accessToken": "access-token"},
        }
    ]
    conn.receive_data(
        wire(
            kind,
            {
                "payloadType": 2103,
                "clientMsgId": account,
                "payload": {"ctidTraderAccountId": ACCOUNT},
            },
        ),
        1.0,
    )
    assert conn.authorized_accounts == {ACCOUNT}
    refresh = conn.refresh_token("refresh-me")
    assert sent(conn) == [
        {"clientMsgId": refresh, "payloadType": 2173, "payload": {"refreshToken": "refresh-me"}}
    ]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_market_order_completes_on_accepted_and_fill_follows(kind: str) -> None:
    conn = authorized(kind)
    order = conn.request(PayloadType.PROTO_OA_NEW_ORDER_REQ, ORDER)
    accepted: dict[str, Any] = {
        "clientMsgId": order,
        "payloadType": 2126,
        "payload": {"ctidTraderAccountId": ACCOUNT, "executionType": 2},
    }
    filled: dict[str, Any] = {
        "clientMsgId": order,
        "payloadType": 2126,
        "payload": {"ctidTraderAccountId": ACCOUNT, "executionType": 3},
    }
    events = conn.receive_data(wire(kind, accepted, filled), 1.0)
    assert events == [
        Response(order, 2126, accepted["payload"], 2106),
        FollowUp(order, 2126, filled["payload"], 2106),
    ]
    assert conn.pending_requests == 0


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    ("payload_type", "payload", "code", "retry"),
    [
        (
            2142,
            {
                "errorCode": "CH_CLIENT_AUTH_FAILURE",
                "description": "clientId or clientSecret is incorrect",
            },
            "CH_CLIENT_AUTH_FAILURE",
            None,
        ),
        (50, {"errorCode": "BLOCKED_PAYLOAD_TYPE", "retryAfter": 3}, "BLOCKED_PAYLOAD_TYPE", 3.0),
        (
            2132,
            {
                "ctidTraderAccountId": ACCOUNT,
                "errorCode": "TRADING_BAD_VOLUME",
                "description": "bad",
            },
            "TRADING_BAD_VOLUME",
            None,
        ),
    ],
)
def test_each_kind_of_error_completes_the_request(
    kind: str, payload_type: int, payload: dict[str, Any], code: str, retry: float | None
) -> None:
    conn = authorized(kind)
    order = conn.request(2106, ORDER)
    (event,) = conn.receive_data(
        wire(kind, {"clientMsgId": order, "payloadType": payload_type, "payload": payload}), 1.0
    )
    assert event == ErrorResponse(
        order, payload_type, code, payload.get("description", ""), retry, 2106, payload
    )
    assert conn.pending_requests == 0
    assert event.meaning != ""


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_unsolicited_events(kind: str) -> None:
    conn = authorized(kind)
    spot = {
        "payloadType": 2131,
        "payload": {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "bid": 108512, "ask": 108514},
    }
    depth = {
        "payloadType": 2155,
        "payload": {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "newQuotes": []},
    }
    margin: dict[str, Any] = {
        "payloadType": 2141,
        "payload": {"ctidTraderAccountId": ACCOUNT, "positionId": 5, "usedMargin": 10},
    }
    server_exec: dict[str, Any] = {
        "payloadType": 2126,
        "payload": {"ctidTraderAccountId": ACCOUNT, "executionType": 9, "isServerEvent": True},
    }
    future = {"payloadType": 2189, "payload": {"x": 1}}
    events = conn.receive_data(
        wire(kind, {"payloadType": 51}, spot, depth, margin, server_exec, future), 1.0
    )
    assert events == [
        Heartbeat(),
        SpotEvent(ctid_trader_account_id=ACCOUNT, symbol_id=1, bid=108512, ask=108514),
        DepthEvent(ctid_trader_account_id=ACCOUNT, symbol_id=1, new_quotes=[]),
        ServerEvent(2141, margin["payload"], None),
        ServerEvent(2126, server_exec["payload"], None),
        UnknownMessage(2189, {"x": 1}, None, "payload type 2189 is not one this version knows"),
    ]
    spot_event, margin_event = events[1], events[3]
    assert isinstance(spot_event, SpotEvent)
    assert spot_event.bid == 108512
    assert (spot_event.symbol_id, spot_event.ctid_trader_account_id, spot_event.ask) == (
        1,
        ACCOUNT,
        108514,
    )
    assert isinstance(margin_event, ServerEvent)
    assert margin_event.name == "ProtoOAMarginChangedEvent"


def test_spot_fields_sent_as_numeric_strings() -> None:
    conn = authorized("websocket")
    payload = {"ctidTraderAccountId": str(ACCOUNT), "symbolId": "1", "bid": "108512"}
    (event,) = conn.receive_data(
        wire("websocket", {"payloadType": "2131", "payload": payload}),
        1.0,
    )
    assert isinstance(event, SpotEvent)
    assert (event.ctid_trader_account_id, event.symbol_id, event.bid, event.ask) == (
        ACCOUNT,
        1,
        108512,
        None,
    )


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_json_with_a_lone_surrogate_escape_ends_the_connection_after_what_came_before(
    kind: str,
) -> None:
    """A lone surrogate escape (UTF-16 text cut inside a pair) has no text form: invalid JSON."""
    conn = authorized(kind)
    request = conn.request(2104)
    spot = (
        b'{"payloadType":2131,"payload":{"ctidTraderAccountId":47561867,"symbolId":1,'
        b'"bid":108512,"note":"cut \\ud83d"}}'
    )
    events = conn.receive_data(wire(kind, {"payloadType": 51}, spot, {"payloadType": 51}), 1.0)
    closed = only_closed(events)
    assert events[:2] == [Heartbeat(), RequestFailed(request, 2104, closed.reason, True)]
    assert len(events) == 3
    assert isinstance(closed.error, RemoteProtocolError)
    assert "invalid JSON" in closed.error.message
    assert closed.code == (1007 if kind == "websocket" else None)
    assert conn.state is CTraderState.CLOSED


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_spot_with_a_null_client_msg_id_is_a_spot(kind: str) -> None:
    conn = authorized(kind)
    spot = {
        "payloadType": 2131,
        "payload": {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "bid": 108512},
    }
    events = conn.receive_data(wire(kind, spot, {**spot, "clientMsgId": None}), 1.0)
    expected = SpotEvent(ctid_trader_account_id=ACCOUNT, symbol_id=1, bid=108512)
    assert events == [expected, expected]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_spot_with_no_payload_arrives_raw_with_an_empty_one(kind: str) -> None:
    # Off the typed spot path (no payload to decode) to the envelope's default, {}: a spot
    # without its required account and symbol ids arrives raw, and the connection goes on.
    conn = authorized(kind)
    events = conn.receive_data(wire(kind, {"payloadType": 2131}, {"payloadType": 51}), 1.0)
    assert len(events) == 2
    raw = events[0]
    assert type(raw) is ServerEvent
    assert (raw.payload_type, raw.payload, raw.client_msg_id) == (2131, {}, None)
    assert raw.reason is not None
    assert "ctidTraderAccountId" in raw.reason
    assert events[1] == Heartbeat()
    assert conn.state is CTraderState.APP_AUTHORIZED


def test_message_for_an_unknown_client_msg_id_is_an_event() -> None:
    conn = authorized("websocket")
    (event,) = conn.receive_data(
        wire(
            "websocket",
            {"clientMsgId": "never-sent", "payloadType": 2142, "payload": {"errorCode": "X"}},
        ),
        1.0,
    )
    assert event == ServerEvent(2142, {"errorCode": "X"}, "never-sent")


# -- accounts ------------------------------------------------------------------------------------


def test_account_scoped_request_for_an_unauthorized_account_is_the_callers_mistake() -> None:
    conn = authorized("tcp-length-prefix")
    with pytest.raises(LocalProtocolError, match="account 99 is not authorized"):
        conn.request(2127, {"ctidTraderAccountId": 99, "symbolId": [1]})
    with pytest.raises(LocalProtocolError, match="needs a ctidTraderAccountId"):
        conn.request(2127, {"symbolId": [1]})
    assert conn.data_to_send() == b""
    conn.request(2127, {"ctidTraderAccountId": str(ACCOUNT), "symbolId": [1]})  # numeric strings do


def test_already_logged_in_counts_as_authorized() -> None:
    conn = client("websocket")
    request = conn.authorize_account(7, "t")
    conn.receive_data(
        wire(
            "websocket",
            {
                "clientMsgId": request,
                "payloadType": 2142,
                "payload": {"errorCode": "ALREADY_LOGGED_IN"},
            },
        ),
        0.0,
    )
    assert conn.authorized_accounts == {7}


def test_token_invalidated_client_disconnect_account_disconnect() -> None:
    conn = authorized("websocket")
    second = conn.authorize_account(1001, "t")
    conn.receive_data(
        wire(
            "websocket",
            {"clientMsgId": second, "payloadType": 2103, "payload": {"ctidTraderAccountId": 1001}},
        ),
        0.0,
    )
    assert conn.authorized_accounts == {ACCOUNT, 1001}
    events = conn.receive_data(
        wire(
            "websocket",
            {
                "payloadType": 2147,
                "payload": {
                    "ctidTraderAccountIds": [str(ACCOUNT)],
                    "reason": "token was refreshed",
                },
            },
        ),
        1.0,
    )
    assert events == [TokenInvalidated((ACCOUNT,), "token was refreshed")]
    assert conn.authorized_accounts == {1001}
    events = conn.receive_data(
        wire("websocket", {"payloadType": 2164, "payload": {"ctidTraderAccountId": 1001}}), 2.0
    )
    assert events == [AccountDisconnected(1001)]
    assert conn.authorized_accounts == set()
    conn.authorize_account(5, "t")
    events = conn.receive_data(
        wire("websocket", {"payloadType": 2148, "payload": {"reason": "maintenance"}}), 3.0
    )
    assert events == [ClientDisconnected("maintenance")]
    assert conn.state is CTraderState.OPEN, "the application must authorize again"


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ([1001, "1002", "not a number", 2.5, None], (1001, 1002)),
        ("1001", (1001,)),
        (1001, (1001,)),
        (2.1, ()),
        ({"1001": 1}, ()),
        (None, ()),
    ],
)
def test_token_invalidated_with_malformed_account_ids_still_arrives(
    sent: object, read: tuple[int, ...]
) -> None:
    conn = authorized("websocket")
    message = {"payloadType": 2147, "payload": {"ctidTraderAccountIds": sent, "reason": "r"}}
    assert conn.receive_data(wire("websocket", message), 1.0) == [TokenInvalidated(read, "r")]
    assert conn.state is CTraderState.APP_AUTHORIZED


# -- correlation details ------------------------------------------------------------------------


def test_client_msg_ids_are_unique_and_caller_ids_are_checked() -> None:
    conn = authorized("websocket")
    ids = {conn.request(2104) for _ in range(100)}
    assert len(ids) == 100
    mine = conn.request(2104, client_msg_id="mine")
    assert mine == "mine"
    with pytest.raises(LocalProtocolError, match="still pending"):
        conn.request(2104, client_msg_id="mine")


def test_unknown_request_type_needs_a_response_type() -> None:
    sent = Sent("websocket")
    conn = authorized("websocket")
    with pytest.raises(LocalProtocolError, match="pass response_type"):
        conn.request(2190, {"ctidTraderAccountId": ACCOUNT})
    request = conn.request(2190, {"ctidTraderAccountId": ACCOUNT}, response_type=2191)
    assert sent(conn)[0]["payloadType"] == 2190
    (event,) = conn.receive_data(
        wire("websocket", {"clientMsgId": request, "payloadType": 2191}), 1.0
    )
    assert event == Response(request, 2191, {}, 2190)


def test_request_before_the_transport_is_open_is_the_callers_mistake() -> None:
    conn = CTraderConnection.websocket("demo.ctraderapi.com")
    assert conn.state is CTraderState.CONNECTING
    with pytest.raises(LocalProtocolError, match="connecting"):
        conn.authorize_application("a", "b")


# -- timers ---------------------------------------------------------------------------------------


def test_heartbeat_only_when_idle() -> None:
    sent = Sent("tcp-length-prefix")
    conn = authorized("tcp-length-prefix", now=0.0)
    assert conn.next_deadline() == 9.0
    conn.request(2104, now=5.0)
    sent(conn)
    assert conn.next_deadline() == 14.0, "a request resets the idle clock"
    assert conn.handle_timer(13.9) == []
    assert sent(conn) == []
    conn.handle_timer(14.0)
    assert sent(conn) == [{"payloadType": 51}]
    assert conn.next_deadline() == 23.0


def test_heartbeats_keep_the_link_inside_ten_seconds_when_nothing_else_is_sent() -> None:
    sent = Sent("websocket")
    conn = authorized("websocket", now=0.0, watchdog_timeout=None, request_timeout=None)
    beats: list[float] = []
    now = 0.0
    while now < 60.0:
        deadline = conn.next_deadline()
        assert deadline is not None
        now = deadline
        conn.handle_timer(now)
        beats += [now] * len(sent(conn))
    gaps = [b - a for a, b in zip([0.0, *beats], beats, strict=False)]
    assert max(gaps) < 10.0
    assert len(beats) == 7


def test_watchdog_for_a_silent_server() -> None:
    conn = authorized("tcp-json-stream", now=0.0, watchdog_timeout=30.0, request_timeout=None)
    request = conn.request(2104, now=1.0)
    conn.receive_data(wire("tcp-json-stream", {"payloadType": 51}), 10.0)
    conn.handle_timer(39.9)
    assert conn.state is CTraderState.APP_AUTHORIZED
    events = conn.handle_timer(40.0)
    reason = "nothing arrived from the server for 30 s: the link is dead"
    assert events == [RequestFailed(request, 2104, reason, True), Closed(None, reason)]
    assert conn.next_deadline() is None


def test_request_timeout() -> None:
    conn = authorized("websocket", now=0.0)
    request = conn.request(2104, timeout=2.0, now=1.0)
    assert conn.handle_timer(2.9) == []
    assert conn.handle_timer(3.0) == [RequestTimedOut(request, 2104, 2.0, True)]
    (late,) = conn.receive_data(
        wire(
            "websocket", {"clientMsgId": request, "payloadType": 2105, "payload": {"version": "1"}}
        ),
        4.0,
    )
    assert late == ServerEvent(2105, {"version": "1"}, request)


# -- rate budgets ----------------------------------------------------------------------------------


def test_the_51st_request_within_a_second_is_delayed_not_dropped() -> None:
    sent = Sent("websocket")
    conn = authorized("websocket", now=0.0)
    ids = [conn.request(2104, now=10.0 + i * 0.001) for i in range(51)]
    assert len(sent(conn)) == 50
    assert conn.queued_requests == 1
    assert conn.next_deadline() == 11.0, "one second after the first of the 50"
    conn.handle_timer(10.999)
    assert sent(conn) == []
    conn.handle_timer(11.0)
    (released,) = sent(conn)
    assert released["clientMsgId"] == ids[50]
    assert conn.queued_requests == 0


def test_historical_requests_are_held_to_five_per_second() -> None:
    sent = Sent("tcp-length-prefix")
    conn = authorized("tcp-length-prefix", now=0.0, request_timeout=None)
    bars = {
        "ctidTraderAccountId": ACCOUNT,
        "symbolId": 1,
        "period": 1,
        "fromTimestamp": 0,
        "toTimestamp": 60000,
    }
    for _ in range(12):
        conn.request(PayloadType.PROTO_OA_GET_TRENDBARS_REQ, bars, now=0.0)
    conn.request(2104, now=0.0)  # not historical: not held behind them
    assert [m["payloadType"] for m in sent(conn)] == [2137] * 5 + [2104]
    assert conn.queued_requests == 7
    released_at = []
    now = 0.0
    while conn.queued_requests:
        now = conn.next_deadline()  # type: ignore[assignment]
        conn.handle_timer(now)
        released_at += [now] * len(sent(conn))
    window = HISTORICAL_WINDOW  # five per a little over a second
    assert released_at == pytest.approx([window] * 5 + [2 * window] * 2)


def test_retry_after_is_honoured() -> None:
    sent = Sent("websocket")
    conn = authorized("websocket", now=0.0)
    first = conn.request(2104, now=0.0)
    sent(conn)
    conn.receive_data(
        wire(
            "websocket",
            {
                "clientMsgId": first,
                "payloadType": 2142,
                "payload": {"errorCode": "BLOCKED_PAYLOAD_TYPE", "retryAfter": 5},
            },
        ),
        1.0,
    )
    conn.request(2104, now=1.5)
    conn.request(2121, {"ctidTraderAccountId": ACCOUNT}, now=1.5)  # another payload type goes
    assert [m["payloadType"] for m in sent(conn)] == [2121]
    assert conn.next_deadline() == 6.0
    conn.handle_timer(6.0)
    assert [m["payloadType"] for m in sent(conn)] == [2104]


def test_a_huge_retry_after_blocks_its_request_type_for_an_hour_at_most() -> None:
    sent = Sent("websocket")
    conn = authorized(
        "websocket", now=0.0, heartbeat_interval=1e6, request_timeout=None, watchdog_timeout=None
    )
    first = conn.request(2104, now=0.0)
    sent(conn)
    block = {"errorCode": "BLOCKED_PAYLOAD_TYPE", "retryAfter": str(10**300)}  # a uint64 string
    (error,) = conn.receive_data(
        wire("websocket", {"clientMsgId": first, "payloadType": 2142, "payload": block}), 1.0
    )
    assert isinstance(error, ErrorResponse)
    assert error.retry_after == 1e300, "the event says what the server sent"
    conn.request(2104, now=2.0)
    assert sent(conn) == []
    assert conn.next_deadline() == 1.0 + MAX_REQUEST_BLOCK == 3601.0
    conn.handle_timer(3601.0)
    assert [m["payloadType"] for m in sent(conn)] == [2104]


def test_queued_request_that_times_out_was_never_sent() -> None:
    sent = Sent("websocket")
    conn = client("websocket", requests_per_second=1)
    conn.request(2104, now=0.0)
    queued = conn.request(2104, timeout=0.5, now=0.0)
    sent(conn)
    assert conn.handle_timer(0.5) == [RequestTimedOut(queued, 2104, 0.5, False)]
    conn.handle_timer(1.0)
    assert sent(conn) == [], "a timed-out request is not sent afterwards"


def test_cancel_takes_back_only_a_request_that_never_left() -> None:
    sent = Sent("websocket")
    conn = client("websocket", requests_per_second=1)
    first = conn.request(2104, now=0.0)
    held = conn.request(2104, now=0.0)
    assert sent(conn) == [{"clientMsgId": first, "payloadType": 2104}]
    assert conn.cancel(first) is False, "a request on the wire cannot be taken back"
    assert conn.cancel(held) is True
    assert conn.cancel(held) is False
    assert (conn.pending_requests, conn.queued_requests) == (1, 0)
    assert conn.handle_timer(1.5) == []
    assert sent(conn) == [], "a cancelled request is never sent"


def test_peer_alive_holds_the_watchdog() -> None:
    conn = client("tcp", watchdog_timeout=5.0, heartbeat_interval=100.0)
    conn.request(2104, now=0.0)
    conn.receive_data(wire("tcp", {"payloadType": 51}), 1.0)
    assert conn.next_deadline() == 6.0
    conn.peer_alive(4.0)
    assert conn.next_deadline() == 9.0
    conn.peer_alive(3.0)  # never moves the count back
    assert conn.next_deadline() == 9.0
    assert conn.handle_timer(8.0) == []
    assert conn.state is CTraderState.OPEN
    assert only_closed(conn.handle_timer(9.0)).code is None  # silent for 5 s since 4.0


# -- closing and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_pending_requests_fail_when_the_stream_ends(kind: str) -> None:
    conn = client(kind, requests_per_second=1)
    sent_one = conn.request(2104)
    queued = conn.request(2104)
    events = conn.receive_data(b"", 1.0)
    closed = only_closed(events)
    assert events[:2] == [
        RequestFailed(sent_one, 2104, closed.reason, True),
        RequestFailed(queued, 2104, closed.reason, False),
    ]
    assert len(events) == 3
    assert conn.state is CTraderState.CLOSED


def test_tcp_close_completes_at_the_next_timer() -> None:
    conn = authorized("tcp-length-prefix", now=0.0)
    request = conn.request(2104, now=1.0)
    conn.close(now=2.0)
    assert conn.state is CTraderState.CLOSING
    assert conn.next_deadline() == 2.0
    assert conn.handle_timer(2.0) == [
        RequestFailed(request, 2104, "closed by this side", True),
        Closed(None, "closed by this side"),
    ]
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.request(2104)


def test_websocket_close_handshake() -> None:
    conn = authorized("websocket", now=0.0)
    conn.close(now=1.0)
    with pytest.raises(LocalProtocolError, match="already closing"):
        conn.close()
    events = conn.receive_data(b"\x88\x02\x03\xe8", 1.5)  # the server's close frame, code 1000
    assert events == [Closed(1000, "")]


BAD = {
    "invalid JSON": (b"hello", 1007, "invalid JSON"),
    "invalid JSON inside braces": (b'{"payloadType":51,}', 1007, "invalid JSON"),
    "invalid UTF-8": (b'{"payloadType":2131,"payload":{"s":"\xff"}}', 1007, "not valid UTF-8"),
}


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_messages_end_the_connection_after_everything_before_them(kind: str, name: str) -> None:
    bad, code, words = BAD[name]
    if kind == "tcp-json-stream" and not bad.startswith(b"{"):
        words = "expected '{' to start a JSON object"  # the framer sees it first
    conn = authorized(kind)
    request = conn.request(2104)
    events = conn.receive_data(wire(kind, {"payloadType": 51}, bad, {"payloadType": 51}), 1.0)
    assert events[0] == Heartbeat()
    closed = only_closed(events)
    assert events[1] == RequestFailed(request, 2104, closed.reason, True)
    assert len(events) == 3
    assert isinstance(closed.error, RemoteProtocolError)
    assert words in closed.error.message
    assert closed.code == (code if kind == "websocket" else None)


#: Valid JSON that is not an envelope, and the words of the reason it arrives with.
NOT_ENVELOPES = {
    "JSON that is not an object": (b"[1,2]", [1, 2], "must be a JSON object, not list"),
    "JSON that is a number": (b"2131", 2131, "must be a JSON object, not int"),
    "JSON that is null": (b"null", None, "must be a JSON object, not NoneType"),
    "missing payloadType": (b'{"payload":{}}', {"payload": {}}, "non-integer payloadType"),
    "non-integer payloadType": (
        b'{"payloadType":"spot"}',
        {"payloadType": "spot"},
        "missing or non-integer payloadType",
    ),
    "payload that is not an object": (
        b'{"payloadType":2131,"payload":[1]}',
        {"payloadType": 2131, "payload": [1]},
        "payload must be a JSON object",
    ),
    "clientMsgId that is a list": (
        b'{"payloadType":51,"clientMsgId":[1]}',
        {"payloadType": 51, "clientMsgId": [1]},
        "clientMsgId must be a string",
    ),
}


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(NOT_ENVELOPES))
def test_valid_json_that_is_not_an_envelope_arrives_raw_and_the_connection_goes_on(
    kind: str, name: str
) -> None:
    bad, value, words = NOT_ENVELOPES[name]
    conn = authorized(kind)
    request = conn.request(2104)
    events = conn.receive_data(wire(kind, {"payloadType": 51}, bad, {"payloadType": 51}), 1.0)
    if kind == "tcp-json-stream" and not bad.startswith(b"{"):
        # That framing finds a message's end by reading it as an object: a stream that is not
        # made of objects cannot be cut into messages, and ends.
        closed = only_closed(events)
        assert closed.error is not None
        assert "expected '{'" in closed.error.message
        return
    assert events[0] == Heartbeat()
    unknown = events[1]
    assert isinstance(unknown, UnknownMessage)
    assert (unknown.payload_type, unknown.payload, unknown.client_msg_id) == (None, value, None)
    assert unknown.reason is not None
    assert words in unknown.reason
    assert events[2:] == [Heartbeat()]
    assert conn.state is CTraderState.APP_AUTHORIZED
    assert conn.pending_requests == 1
    reply = {"clientMsgId": request, "payloadType": 2105, "payload": {"version": "1"}}
    (answer,) = conn.receive_data(wire(kind, reply), 2.0)
    assert isinstance(answer, Response)
    assert answer.client_msg_id == request


@pytest.mark.parametrize("kind", ["tcp-length-prefix", "tcp-json-stream"])
def test_truncated_stream_at_eof(kind: str) -> None:
    conn = authorized(kind)
    data = wire(kind, {"payloadType": 51}, {"payloadType": 2131, "payload": {"symbolId": 1}})
    events = conn.receive_data(data[:-5], 1.0)
    assert events == [Heartbeat()]
    closed = only_closed(conn.receive_data(b"", 2.0))
    assert closed.error is not None
    assert "the stream ended inside a message" in closed.error.message


def test_length_prefix_over_the_limit() -> None:
    conn = client("tcp-length-prefix", max_message_size=1000)
    closed = only_closed(conn.receive_data(struct.pack("!I", 5000), 0.0))
    assert closed.error is not None
    assert "over the limit of 1000 bytes" in closed.error.message


def test_repr_shows_no_secret() -> None:
    conn = client("websocket")
    conn.authorize_application("id", "validClientSecret")
    assert "validClientSecret" not in repr(conn)


VERSION = {"version": "110"}


def test_a_message_naming_a_request_still_queued_is_not_its_answer() -> None:
    conn = client("websocket", requests_per_second=1)
    conn.request(2104, now=0.0)
    queued = conn.request(2104, now=0.0)
    (event,) = conn.receive_data(
        wire("websocket", {"clientMsgId": queued, "payloadType": 2105, "payload": VERSION}), 0.5
    )
    assert event == ServerEvent(2105, VERSION, queued)
    conn.handle_timer(1.0)
    assert conn.pending_requests == 2, "the queued request is sent and still awaits its answer"


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_documented_server_messages_over_every_transport(kind: str) -> None:
    from tests.core.ctrader.test_codec import DOCUMENTED

    server_sent = [text for text, envelope in DOCUMENTED if envelope.payload_type != 2100]
    events = client(kind).receive_data(wire(kind, *server_sent), 0.0)
    assert events == [
        ServerEvent(2101, {}, None),
        Heartbeat(),
        ServerEvent(
            2142,
            {"errorCode": "INVALID_REQUEST", "description": "Malformed JSON message at 1:6"},
            None,
        ),
        ServerEvent(
            2142,
            {
                "errorCode": "CH_CLIENT_AUTH_FAILURE",
                "description": "clientId or clientSecret is incorrect",
            },
            None,
        ),
        ServerEvent(2103, {"ctidTraderAccountId": 47561867}, "m1"),
        SpotEvent(ctid_trader_account_id=12345678, symbol_id=1, bid=108512, ask=108514),
    ]


def test_requests_made_before_any_time_is_known_time_out_from_the_first_time_given() -> None:
    conn = client("tcp-length-prefix")  # open at once, and never given a time yet
    request = conn.request(2104, timeout=5.0)
    assert conn.next_deadline() is None
    assert conn.handle_timer(1000.0) == [], "the 5 s start counting at 1000"
    assert conn.next_deadline() == 1005.0
    assert conn.handle_timer(1005.0) == [RequestTimedOut(request, 2104, 5.0, True)]
