"""``receive_events``: the same events as ``receive_data``, decoded as the caller reads them.

What must hold: transport work is done in the call itself; decoding waits for the reader; events
a reader leaves unread come out of the next call that feeds bytes or runs the timers, ahead of
its own, and never twice; an exception in the reader's own code loses nothing.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest

from brokerwire.core.ctrader import PayloadType, Response, SpotEvent
from brokerwire.core.tradovate import (
    MarketData,
    RequestTimedOut,
    ServerHeartbeat,
    TradovateConnection,
)
from brokerwire.core.tradovate import Response as TradovateResponse
from brokerwire.core.transport import Closed
from brokerwire.core.websocket.frames import OP_PING, OP_TEXT
from tests.core.ctrader.helpers import TRANSPORTS, client, wire
from tests.core.tradovate.helpers import frames, open_client, reply
from tests.helpers import server_frame


def _quote(number: int) -> str:
    return f'{{"e":"md","d":{{"quotes":[{{"contractId":{number},"entries":{{}}}}]}}}}'


def _tradovate_stream(request_id: int) -> bytes:
    """Three quotes, a heartbeat, the answer to ``request_id``, two more quotes."""
    return frames(
        f"a[{_quote(1)},{_quote(2)}]",
        f"a[{_quote(3)}]",
        "h",
        f"a[{reply(request_id, data={'ok': True})},{_quote(4)}]",
        f"a[{_quote(5)}]",
    )


def _client_with_request() -> tuple[TradovateConnection, int]:
    conn = open_client(request_timeout=5.0)
    request_id = conn.request("account/list", now=0.0)
    conn.data_to_send()
    return conn, request_id


def _shape(events: list[Any]) -> list[Any]:
    return [e.quotes[0].contract_id if type(e) is MarketData else type(e).__name__ for e in events]


EXPECTED = [1, 2, 3, "ServerHeartbeat", "Response", 4, 5]


def test_same_events_as_receive_data() -> None:
    eager, eager_id = _client_with_request()
    lazy, lazy_id = _client_with_request()
    expected = eager.receive_data(_tradovate_stream(eager_id), 1.0)
    assert _shape(expected) == EXPECTED
    assert list(lazy.receive_events(_tradovate_stream(lazy_id), 1.0)) == expected


def test_transport_work_is_done_in_the_call_and_decoding_waits_for_the_reader() -> None:
    conn, request_id = _client_with_request()
    events = conn.receive_events(server_frame(OP_PING, b"hi") + _tradovate_stream(request_id), 1.0)
    assert conn.data_to_send()  # the pong is queued before a single event is read
    assert conn.pending_requests == 1  # its answer is not decoded yet
    assert _shape(list(events)) == EXPECTED
    assert conn.pending_requests == 0


def test_unread_events_come_first_from_the_next_call() -> None:
    conn, request_id = _client_with_request()
    first = conn.receive_events(_tradovate_stream(request_id), 1.0)
    assert _shape(list(islice(first, 2))) == [1, 2]
    second = list(conn.receive_events(frames(f"a[{_quote(6)}]"), 2.0))
    assert _shape(second) == [3, "ServerHeartbeat", "Response", 4, 5, 6]
    assert list(first) == []  # handed out once only


def test_the_timers_settle_unread_events_before_a_timeout_could_fire() -> None:
    conn, request_id = _client_with_request()
    events = conn.receive_events(_tradovate_stream(request_id), 1.0)
    assert _shape([next(events)]) == [1]
    # Past the request's 5 s timeout: its answer had arrived, so it must not time out.
    late = conn.handle_timer(10.0)
    assert _shape(late[:6]) == [2, 3, "ServerHeartbeat", "Response", 4, 5]
    assert not any(type(e) is RequestTimedOut for e in late)
    assert list(events) == []


def test_an_exception_in_the_readers_code_loses_nothing() -> None:
    conn, request_id = _client_with_request()
    events = conn.receive_events(_tradovate_stream(request_id), 1.0)
    seen: list[Any] = []

    def read_until_the_heartbeat() -> None:
        for event in events:
            seen.append(event)
            if type(event) is ServerHeartbeat:
                raise RuntimeError("the reader's own bug")

    with pytest.raises(RuntimeError):
        read_until_the_heartbeat()
    seen.extend(events)  # the same iterator goes on where it stopped
    assert _shape(seen) == EXPECTED


def test_a_protocol_error_ends_the_iterator_after_what_came_before() -> None:
    conn, _ = _client_with_request()
    events = list(conn.receive_events(frames(f"a[{_quote(1)}]", "a[{broken", "h"), 1.0))
    assert _shape(events[:1]) == [1]
    assert [type(e).__name__ for e in events[1:]] == ["RequestFailed", "Closed"]
    closed = events[-1]
    assert type(closed) is Closed
    assert closed.error is not None
    assert closed.code == 1007
    assert list(conn.receive_events(frames("h"), 2.0)) == []


def test_reading_from_inside_a_loop_over_an_earlier_iterator_keeps_the_order() -> None:
    conn, request_id = _client_with_request()
    order: list[Any] = []
    for event in conn.receive_events(_tradovate_stream(request_id), 1.0):
        order.append(event)
        if type(event) is TradovateResponse:
            order.extend(conn.receive_events(frames(f"a[{_quote(6)}]"), 2.0))
    assert _shape(order) == [1, 2, 3, "ServerHeartbeat", "Response", 4, 5, 6]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_ctrader_unread_events_come_first_from_the_next_call(kind: str) -> None:
    conn = client(kind, request_timeout=5.0)
    client_msg_id = conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=0.0)
    conn.data_to_send()
    spots = [
        {"payloadType": 2131, "payload": {"ctidTraderAccountId": 7, "symbolId": n, "bid": n}}
        for n in range(4)
    ]
    answer = {
        "payloadType": int(PayloadType.PROTO_OA_VERSION_RES),
        "clientMsgId": client_msg_id,
        "payload": {"version": "99"},
    }
    first = conn.receive_events(wire(kind, spots[0], spots[1], answer, spots[2]), 1.0)
    assert next(first) == SpotEvent(ctid_trader_account_id=7, symbol_id=0, bid=0)
    assert conn.pending_requests == 1
    settled = conn.handle_timer(10.0)  # past the timeout: the answer had arrived
    assert [type(e) for e in settled] == [SpotEvent, Response, SpotEvent]
    assert conn.pending_requests == 0
    rest = list(conn.receive_events(wire(kind, spots[3]), 11.0))
    assert rest == [SpotEvent(ctid_trader_account_id=7, symbol_id=3, bid=3)]
    assert list(first) == []


def test_an_unread_close_is_settled_before_more_bytes() -> None:
    conn = open_client()
    events = conn.receive_events(frames("h", 'c[3000,"Go away"]'), 1.0)
    assert [type(e).__name__ for e in islice(events, 1)] == ["ServerHeartbeat"]
    later = list(conn.receive_events(server_frame(OP_TEXT, b"h"), 2.0))
    assert [type(e).__name__ for e in later] == ["CloseFrame", "ServerHeartbeat"]
    assert conn.state.value == "closing"
