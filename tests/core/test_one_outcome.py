"""Exactly one outcome per request: generated ids never collide with a caller's, and no timer
takes a duration it could never reach (NaN, an infinity, a negative number)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from brokerwire.core.ctrader import (
    CTraderConnection,
    CTraderServerConnection,
    FollowUp,
    PayloadType,
    RequestOutcome,
    Response,
)
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import (
    RequestTimedOut,
    TradovateConnection,
    TradovateServerConnection,
)
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.core.ctrader.helpers import TRANSPORTS, Sent, client, wire
from tests.core.tradovate.helpers import open_client

VERSION = PayloadType.PROTO_OA_VERSION_REQ
VERSION_RES = PayloadType.PROTO_OA_VERSION_RES
BAD_DURATIONS = [math.nan, math.inf, -math.inf, -1.0, -1, "5", True]
BAD_IDS = ["nan", "inf", "-inf", "-1.0", "-1", "str", "bool"]


# -- cTrader clientMsgId -------------------------------------------------------------------------


def _answer(kind: str, *ids: str) -> bytes:
    return wire(kind, *({"clientMsgId": i, "payloadType": VERSION_RES} for i in ids))


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_generated_id_skips_one_a_caller_chose(kind: str) -> None:
    sent = Sent(kind)
    conn = client(kind)
    mine = conn.request(VERSION, client_msg_id="bw-2", now=0.0)
    generated = [conn.request(VERSION, now=0.0) for _ in range(2)]
    assert generated == ["bw-1", "bw-3"]
    assert [m["clientMsgId"] for m in sent(conn)] == ["bw-2", "bw-1", "bw-3"]
    events = conn.receive_data(_answer(kind, "bw-1", "bw-2", "bw-3"), 1.0)
    outcomes = [e for e in events if isinstance(e, RequestOutcome)]  # type: ignore[arg-type]
    assert sorted(e.client_msg_id for e in outcomes) == sorted([mine, *generated])
    assert conn.pending_requests == 0


def test_a_generated_id_skips_one_that_just_completed() -> None:
    """Its follow-ups (an order's fill after its acceptance) still belong to the old request."""
    conn = client("websocket")
    conn.request(VERSION, client_msg_id="bw-1", now=0.0)
    assert conn.receive_data(_answer("websocket", "bw-1"), 0.0) == [
        Response("bw-1", VERSION_RES, {}, VERSION)
    ]
    assert conn.request(VERSION, now=0.0) == "bw-2"
    late = wire("websocket", {"clientMsgId": "bw-1", "payloadType": 2126})
    assert conn.receive_data(late, 0.0) == [FollowUp("bw-1", 2126, {}, VERSION)]


def test_a_caller_id_equal_to_a_pending_generated_one_is_refused() -> None:
    conn = client("websocket")
    generated = conn.request(VERSION, now=0.0)
    conn.data_to_send()
    with pytest.raises(LocalProtocolError, match="still pending"):
        conn.request(VERSION, client_msg_id=generated, now=0.0)
    assert conn.data_to_send() == b""
    assert conn.pending_requests == 1


# -- durations -------------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", BAD_DURATIONS, ids=BAD_IDS)
def test_a_tradovate_request_with_an_unreachable_timeout_is_refused(timeout: Any) -> None:
    conn = open_client()
    with pytest.raises(LocalProtocolError, match="timeout"):
        conn.request("account/list", timeout=timeout, now=0.0)
    assert conn.pending_requests == 0
    assert conn.data_to_send() == b""
    later = conn.request("account/list", timeout=1.0, now=0.0)
    assert RequestTimedOut(later, "account/list", 1.0) in conn.handle_timer(1.0)


@pytest.mark.parametrize("timeout", BAD_DURATIONS, ids=BAD_IDS)
def test_a_ctrader_request_with_an_unreachable_timeout_is_refused(timeout: Any) -> None:
    conn = client("websocket")
    with pytest.raises(LocalProtocolError, match="timeout"):
        conn.request(VERSION, timeout=timeout, now=0.0)
    assert conn.pending_requests == 0
    assert conn.data_to_send() == b""
    later = conn.request(VERSION, timeout=1.0, now=0.0)
    assert conn.next_deadline() == 1.0
    assert [e.client_msg_id for e in conn.handle_timer(1.0)] == [later]


def test_a_zero_request_timeout_is_allowed() -> None:
    conn = open_client()
    request = conn.request("account/list", timeout=0, now=5.0)
    assert conn.handle_timer(5.0) == [RequestTimedOut(request, "account/list", 0)]


Maker = Callable[..., Any]

CONSTRUCTORS: list[tuple[str, Maker, str]] = [
    ("tradovate", lambda **o: TradovateConnection(already_open=True, **o), "heartbeat_interval"),
    ("tradovate", lambda **o: TradovateConnection(already_open=True, **o), "watchdog_timeout"),
    ("tradovate", lambda **o: TradovateConnection(already_open=True, **o), "request_timeout"),
    ("ctrader", CTraderConnection.tcp, "heartbeat_interval"),
    ("ctrader", CTraderConnection.tcp, "watchdog_timeout"),
    ("ctrader", lambda **o: CTraderConnection.websocket(already_open=True, **o), "request_timeout"),
    ("websocket", lambda **o: WebSocketConnection(Role.CLIENT, host="h", **o), "ping_interval"),
    ("websocket", lambda **o: WebSocketConnection(Role.CLIENT, host="h", **o), "ping_timeout"),
    ("websocket", lambda **o: WebSocketConnection(Role.SERVER, **o), "close_timeout"),
    ("tradovate server", TradovateServerConnection, "heartbeat_interval"),
    ("ctrader server", CTraderServerConnection.tcp, "heartbeat_interval"),
]


@pytest.mark.parametrize(
    ("make", "option"),
    [(make, option) for _, make, option in CONSTRUCTORS],
    ids=[f"{name}-{option}" for name, _, option in CONSTRUCTORS],
)
@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0], ids=["nan", "inf", "negative"])
def test_a_constructor_refuses_an_unreachable_duration(
    make: Maker, option: str, value: float
) -> None:
    with pytest.raises(LocalProtocolError, match=option):
        make(**{option: value})


@pytest.mark.parametrize(
    ("make", "option"),
    [(make, option) for _, make, option in CONSTRUCTORS if "interval" in option],
    ids=[f"{name}-{option}" for name, _, option in CONSTRUCTORS if "interval" in option],
)
def test_an_interval_must_be_positive(make: Maker, option: str) -> None:
    with pytest.raises(LocalProtocolError, match="positive"):
        make(**{option: 0})
