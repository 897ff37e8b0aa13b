"""The requests the rate budgets hold back: order, budgets, timeouts, withdrawal, and work that
grows in proportion to the number of requests."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from brokerwire.core.ctrader import CTraderConnection, PayloadType, RequestTimedOut, Response
from brokerwire.core.ctrader.connection import HISTORICAL_WINDOW
from brokerwire.core.ctrader.ratelimit import RateBudget
from tests.core.ctrader.helpers import Sent, client, wire
from tests.core.ctrader.test_connection import ACCOUNT, authorized

VERSION = PayloadType.PROTO_OA_VERSION_REQ
TRADER = PayloadType.PROTO_OA_TRADER_REQ
TRENDBARS = PayloadType.PROTO_OA_GET_TRENDBARS_REQ
DEALS = PayloadType.PROTO_OA_DEAL_LIST_REQ
SCOPED = {"ctidTraderAccountId": ACCOUNT}


def run_until_sent(conn: CTraderConnection, sent: Sent, now: float) -> list[tuple[float, Any]]:
    """Run the timers at each deadline until nothing is queued: (time, message) as they left."""
    out = [(now, m) for m in sent(conn)]
    while conn.queued_requests:
        deadline = conn.next_deadline()
        assert deadline is not None
        assert deadline >= now
        now = deadline
        conn.handle_timer(now)
        out += [(now, m) for m in sent(conn)]
    return out


def test_requests_leave_in_the_order_made_at_most_fifty_a_second() -> None:
    sent = Sent("tcp-length-prefix")
    conn = authorized("tcp-length-prefix", heartbeat_interval=100.0)
    sent(conn)
    ids = [
        conn.request(VERSION if i % 2 else TRADER, SCOPED if not i % 2 else None, now=10.0)
        for i in range(130)
    ]
    assert conn.queued_requests == 80
    left = run_until_sent(conn, sent, 10.0)
    assert [m["clientMsgId"] for _, m in left] == ids
    times = [t for t, _ in left]
    assert times == [10.0] * 50 + [11.0] * 50 + [12.0] * 30
    assert conn.queued_requests == 0
    assert conn.pending_requests == 130


def test_the_historical_budget_holds_only_its_own_requests() -> None:
    sent = Sent("tcp-length-prefix")
    conn = authorized("tcp-length-prefix", heartbeat_interval=100.0)
    sent(conn)
    bars = {**SCOPED, "symbolId": 1, "period": 1, "fromTimestamp": 0, "toTimestamp": 1}
    made = []
    for i in range(12):
        made.append(conn.request(TRENDBARS if i % 3 else DEALS, {**bars}, now=10.0))
        made.append(conn.request(VERSION, now=10.0))
    left = run_until_sent(conn, sent, 10.0)
    historical = [(t, m["clientMsgId"]) for t, m in left if m["payloadType"] != VERSION]
    general = [(t, m["clientMsgId"]) for t, m in left if m["payloadType"] == VERSION]
    assert [t for t, _ in general] == [10.0] * 12, "general requests never wait for historical"
    assert [i for _, i in historical] == made[0::2], "historical ones in the order made"
    window = HISTORICAL_WINDOW  # five per a little over a second
    expected = [10.0] * 5 + [10.0 + window] * 5 + [10.0 + 2 * window] * 2
    assert [t for t, _ in historical] == pytest.approx(expected)


def test_a_queued_request_that_times_out_leaves_the_line_and_the_rest_keep_order() -> None:
    sent = Sent("websocket")
    conn = client("websocket", requests_per_second=2, heartbeat_interval=100.0)
    first = [conn.request(VERSION, now=0.0) for _ in range(2)]
    doomed = conn.request(VERSION, timeout=0.5, now=0.0)
    rest = [conn.request(VERSION, now=0.0) for _ in range(3)]
    assert conn.queued_requests == 4
    assert conn.next_deadline() == 0.5
    assert conn.handle_timer(0.5) == [RequestTimedOut(doomed, VERSION, 0.5, False)]
    assert conn.queued_requests == 3
    left = run_until_sent(conn, sent, 0.5)
    assert [m["clientMsgId"] for _, m in left] == first + rest
    assert [t for t, _ in left] == [0.5, 0.5, 1.0, 1.0, 2.0]


def test_a_withdrawn_request_is_never_sent_even_when_its_id_comes_back() -> None:
    sent = Sent("websocket")
    conn = client("websocket", requests_per_second=1, heartbeat_interval=100.0)
    conn.request(VERSION, now=0.0)
    conn.request(VERSION, {"old": 1}, client_msg_id="mine", now=0.0)
    assert conn.cancel("mine") is True
    assert conn.queued_requests == 0
    conn.request(VERSION, {"new": 1}, client_msg_id="mine", now=0.0)
    left = run_until_sent(conn, sent, 0.0)
    mine = [m for _, m in left if m.get("clientMsgId") == "mine"]
    assert mine == [{"clientMsgId": "mine", "payloadType": VERSION, "payload": {"new": 1}}]
    events = conn.receive_data(wire("websocket", {"clientMsgId": "mine", "payloadType": 2105}), 2)
    assert events == [Response("mine", 2105, {}, VERSION)]


def test_a_blocked_payload_type_waits_while_the_others_go_in_order() -> None:
    sent = Sent("tcp-length-prefix")
    conn = authorized("tcp-length-prefix", heartbeat_interval=100.0)
    first = conn.request(VERSION, now=10.0)
    sent(conn)
    block = {"errorCode": "BLOCKED_PAYLOAD_TYPE", "retryAfter": 3}
    conn.receive_data(
        wire("tcp-length-prefix", {"clientMsgId": first, "payloadType": 50, "payload": block}),
        10.0,
    )
    held = [conn.request(VERSION, now=10.0) for _ in range(3)]
    others = [conn.request(TRADER, SCOPED, now=10.0) for _ in range(3)]
    assert [m["clientMsgId"] for m in sent(conn)] == others
    assert conn.next_deadline() == 13.0
    assert [m["clientMsgId"] for _, m in run_until_sent(conn, sent, 10.0)] == held


def _budget_calls(monkeypatch: pytest.MonkeyPatch, count: int) -> int:
    """How often a budget is consulted while ``count`` requests are made at once (the next
    deadline asked after each) and the timers then send them all."""
    calls = 0
    expire = RateBudget._expire

    def counted(self: RateBudget, now: float) -> None:
        nonlocal calls
        calls += 1
        expire(self, now)

    monkeypatch.setattr(RateBudget, "_expire", counted)
    conn = client("tcp-length-prefix", heartbeat_interval=1000.0, request_timeout=None)
    for _ in range(count):
        conn.request(VERSION, now=0.0)
        conn.next_deadline()
    now = 0.0
    while conn.queued_requests:
        deadline = conn.next_deadline()
        assert deadline is not None
        now = deadline
        conn.handle_timer(now)
    return calls


def test_the_work_grows_in_proportion_to_the_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four times the requests, about four times the work (walking the whole line on every
    request and every deadline made it sixteen times)."""
    small = _budget_calls(monkeypatch, 500)
    large = _budget_calls(monkeypatch, 2000)
    assert large < 5 * small, (small, large)


def test_waiting_requests_hold_little_memory() -> None:
    """Each waits as its bytes and a few small objects (an encoder's output that keeps a 4 KiB
    block behind a short document once turned 2,000 waiting requests into 8 MiB)."""
    conn = client("tcp-length-prefix", heartbeat_interval=1000.0, request_timeout=None)
    tracemalloc.start()
    try:
        for _ in range(2000):
            conn.request(VERSION, now=0.0)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert conn.queued_requests == 1950
    assert held < 1024 * 1024, f"{held} bytes for 1,950 waiting requests"
