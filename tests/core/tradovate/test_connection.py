"""TradovateConnection on the documented messages, its timers, its misuse and bad input."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from brokerwire.core.jsonlib import convert, dumps_str, loads
from brokerwire.core.tradovate import (
    Chart,
    Closed,
    CloseFrame,
    Dom,
    EntityChanged,
    EntityEventType,
    ErrorResponse,
    Histogram,
    MarketData,
    Penalty,
    Quote,
    QuoteEntry,
    RateLimited,
    ReplayClock,
    RequestFailed,
    RequestTimedOut,
    Response,
    ServerHeartbeat,
    Shutdown,
    TradeDate,
    TradovateConnection,
    TradovateState,
    UnknownEvent,
    UnmatchedResponse,
    decode_tick_packet,
)
from brokerwire.core.tradovate.market import BarPacket, EndOfHistory, TickPacket
from brokerwire.core.tradovate.models import Action, Order, OrdStatus, Position
from brokerwire.core.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_TEXT
from tests.core.tradovate import fixtures as fx
from tests.core.tradovate.helpers import (
    SentTexts,
    close_code_sent,
    frames,
    open_client,
    raw_event,
    reason_of,
    reply,
    state_of,
)
from tests.helpers import only_closed, server_frame


def pending_up_to(conn: TradovateConnection, request_id: int, endpoint: str) -> None:
    """Send requests until ``request_id`` is taken by one to ``endpoint``."""
    while True:
        sent = conn.request(endpoint if conn.pending_requests + 1 >= request_id else "x/filler")
        if sent == request_id:
            return
        assert sent < request_id


def a(*messages: str) -> str:
    return "a[" + ",".join(messages) + "]"


#: A complete ``position`` entity (every field its model requires).
POSITION: dict[str, Any] = {
    "id": 1,
    "accountId": 25,
    "contractId": 560901,
    "timestamp": "2016-11-04T00:02:36.626Z",
    "tradeDate": {"year": 2016, "month": 11, "day": 4},
    "netPos": 1,
    "bought": 1,
    "boughtValue": 2335.25,
    "sold": 0,
    "soldValue": 0,
    "prevPos": 0,
}


def market_data(message: str) -> MarketData:
    """The typed event of a documented ``md`` message."""
    return convert(loads(message)["d"], MarketData)


# -- every documented example decodes to the right event --------------------------------------


@pytest.mark.parametrize(
    ("frame", "request_id", "endpoint", "expected"),
    [
        (
            fx.CONTRACT_RESPONSE,
            23,
            "contract/item",
            Response(
                23, 200, {"id": 65543, "name": "CLZ6", "contractMaturityId": 6727}, "contract/item"
            ),
        ),
        (
            a(fx.RESPONSE_26),
            26,
            "contract/item",
            Response(
                26,
                200,
                {"id": 478866, "name": "6EZ6", "contractMaturityId": 23574},
                "contract/item",
            ),
        ),
        (
            a(fx.GET_CHART_RESPONSE),
            13,
            "md/getChart",
            Response(13, 200, {"historicalId": 32, "realtimeId": 31}, "md/getChart"),
        ),
        (
            fx.ACCESS_DENIED_TWICE_ENCODED,
            1,
            "order/placeorder",
            ErrorResponse(1, 401, "Access is denied", "order/placeorder"),
        ),
        (
            fx.NO_USABLE_VALUE,
            3,
            "md/subscribeQuote",
            ErrorResponse(
                3,
                400,
                "No usable value for symbol\nDid not find value which can be converted "
                "into java.lang.String",
                "md/subscribeQuote",
            ),
        ),
        (
            fx.NOT_FOUND_TWICE_ENCODED,
            1,
            "quote/subscribe",
            ErrorResponse(1, 404, "Not found: quote/subscribe", "quote/subscribe"),
        ),
        (
            a(fx.PENALTY),
            5,
            "auth/accesstokenrequest",
            Penalty(5, "6jKWnUHsdP", 15.0, False, "auth/accesstokenrequest"),
        ),
        (a('{"s":429,"i":4}'), 4, "order/placeorder", RateLimited(4, "", "order/placeorder")),
        (
            a('{"s":423,"i":2,"d":"about to be locked out"}'),
            2,
            "x/y",
            ErrorResponse(2, 423, "about to be locked out", "x/y"),
        ),
    ],
)
def test_documented_responses(frame: str, request_id: int, endpoint: str, expected: Any) -> None:
    conn = open_client()
    pending_up_to(conn, request_id, endpoint)
    assert conn.receive_data(frames(frame), 1.0) == [expected]


def test_unmatched_response_is_delivered_not_dropped() -> None:
    conn = open_client()
    assert conn.receive_data(frames(a(fx.AUTHORIZE_INVALID)), 1.0) == [
        UnmatchedResponse(0, 401, "Invalid access token")
    ]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            fx.PROPS_CREATED,
            EntityChanged(
                "order",
                EntityEventType.CREATED,
                Order(
                    id=210518,
                    account_id=25,
                    contract_id=560901,
                    timestamp="2016-11-04T00:02:36.626Z",
                    action=Action.SELL,
                    ord_status=OrdStatus.PENDING_NEW,
                    admin=False,
                ),
            ),
        ),
        (a(fx.CLOCK), ReplayClock("2019-08-26T16:43:08.599Z", 20)),
        (
            a('{"e":"clock","d":{"t":"2019-08-26T16:43:08.599Z","s":0}}'),
            ReplayClock("2019-08-26T16:43:08.599Z", 0),
        ),
        (a(fx.SHUTDOWN), Shutdown("Maintenance", "Scheduled maintenance")),
        (a(fx.SHUTDOWN_NO_REASON), Shutdown("ConnectionQuotaReached", None)),
        (
            a(
                dumps_str(
                    {
                        "e": "props",
                        "d": {
                            "entityType": "position",
                            "eventType": "Updated",
                            "entity": [POSITION, {**POSITION, "id": 2}],
                        },
                    }
                )
            ),
            EntityChanged(
                "position",
                EntityEventType.UPDATED,
                [convert(POSITION, Position), convert({**POSITION, "id": 2}, Position)],
            ),
        ),
        (
            a('{"e":"props","d":{"entityType":"order","eventType":"Deleted"}}'),
            EntityChanged("order", EntityEventType.DELETED, None),
        ),
        (
            a('{"e":"newKind","d":{"x":1}}'),
            UnknownEvent("newKind", {"x": 1}, {"e": "newKind", "d": {"x": 1}}),
        ),
        ("h", ServerHeartbeat()),
    ],
)
def test_documented_events(frame: str, expected: Any) -> None:
    conn = open_client()
    assert conn.receive_data(frames(frame), 1.0) == [expected]


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"e": "md", "d": "not an object"}, ""),
        ({"e": "md"}, ""),
        ({"e": "clock", "d": "{not json"}, "its d is not JSON"),
    ],
)
def test_a_known_kind_that_cannot_be_read_arrives_raw_with_its_reason(
    message: dict[str, Any], words: str
) -> None:
    conn = open_client()
    (event,) = conn.receive_data(frames(a(dumps_str(message))), 1.0)
    assert raw_event(event) == UnknownEvent(message["e"], message.get("d"), message)
    assert words in reason_of(event)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("md", {"quotes": 5}),
        ("md", {"quotes": {"contractId": 1}}),
        ("md", {"quotes": [], "doms": "x"}),
        ("md", {"histograms": 1.5}),
        ("md", {"quotes": "text", "extra": 1}),
        ("md", None),
        ("md", [{"quotes": []}]),
        ("md", "q"),
        ("md", 7),
        ("chart", {"charts": {"id": 1}}),
        ("props", {}),
        ("props", {"entityType": 3, "eventType": "Updated", "entity": {}}),
        ("props", {"entityType": "order", "eventType": None, "entity": {}}),
        ("props", {"entityType": "position", "eventType": "Updated", "entity": {"id": 1}}),
        ("props", {"entityType": "position", "eventType": "Renamed", "entity": POSITION}),
        ("props", {"entityType": "laterEntity", "eventType": "Updated", "entity": {}}),
    ],
)
def test_a_known_kind_in_the_wrong_shape_is_passed_through_whole(kind: str, data: Any) -> None:
    """An event's fields hold what they declare; a malformed one loses nothing either, and
    the connection goes on (in the same frame and in the next)."""
    message = {"e": kind, "d": data}
    conn = open_client()
    request_id = conn.request("account/list")
    events = conn.receive_data(
        frames(a(dumps_str(message), fx.MD_QUOTES), a(dumps_str(message)), "h"), 1.0
    )
    assert len(events) == 4
    assert raw_event(events[0]) == UnknownEvent(kind, data, message)
    assert events[1] == market_data(fx.MD_QUOTES)
    assert raw_event(events[2]) == UnknownEvent(kind, data, message)
    assert events[3] == ServerHeartbeat()
    assert conn.state is TradovateState.OPEN
    assert conn.receive_data(frames(a(reply(request_id))), 2.0) == [
        Response(request_id, 200, None, "account/list")
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"quotes": [{"contractId": 1}], "doms": [{"contractId": 2}]},
            MarketData([Quote(1)], [Dom(2)], []),
        ),
        ({"histograms": [{"contractId": 3}]}, MarketData([], [], [Histogram(3)])),
        ({"quotes": [], "later": "a field this version does not know"}, MarketData([], [], [])),
        ({}, MarketData([], [], [])),
    ],
)
def test_market_data_on_and_off_the_market_data_only_path(
    data: dict[str, Any], expected: MarketData
) -> None:
    """A frame of market data alone is decoded typed in one pass; one that also carries
    another message is read message by message: the same market data either way."""
    message = dumps_str({"e": "md", "d": data})
    alone = open_client().receive_data(frames(a(message)), 1.0)
    mixed = open_client().receive_data(frames(a('{"e":"other","d":null}', message)), 1.0)
    assert alone == [expected]
    assert mixed == [UnknownEvent("other", None, {"e": "other", "d": None}), expected]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quotes": [{"contractId": 1}], "doms": None}, "doms"),
        ({"quotes": None, "histograms": [{"contractId": 3}]}, "quotes"),
    ],
)
def test_a_null_list_of_market_data_arrives_raw_on_and_off_the_fast_path(
    data: dict[str, Any], field: str
) -> None:
    """``MarketData`` lists are lists: a null one is a shape the model does not take."""
    message = {"e": "md", "d": data}
    for prefix in ("", '{"e":"other","d":null},'):
        conn = open_client()
        *_, event, heartbeat = conn.receive_data(frames(a(prefix + dumps_str(message)), "h"), 1.0)
        assert raw_event(event) == UnknownEvent("md", data, message)
        assert field in reason_of(event)
        assert heartbeat == ServerHeartbeat()


def test_market_data_quotes_doms_histograms() -> None:
    conn = open_client()
    quotes, dom, histogram = conn.receive_data(
        frames(a(fx.MD_QUOTES), a(fx.DOM), a(fx.HISTOGRAM)), 1.0
    )
    assert quotes == market_data(fx.MD_QUOTES)
    assert type(quotes) is MarketData
    assert quotes.quotes[0].bid == QuoteEntry(18405.123, 7.123)
    assert dom == market_data(fx.DOM)
    assert type(dom) is MarketData
    assert dom.doms[0] == Dom(
        123456,
        "2017-04-13T11:33:57.488Z",
        [QuoteEntry(2335.25, 33.0), QuoteEntry(2333.0, 758.0)],
        [QuoteEntry(2335.5, 255.0), QuoteEntry(2337.75, 466.0)],
    )
    assert histogram == market_data(fx.HISTOGRAM)
    assert type(histogram) is MarketData
    assert histogram.histograms[0] == Histogram(
        123456,
        "2017-04-13T11:33:57.412Z",
        TradeDate(2017, 4, 13),
        2338.75,
        {"-14": 5906.0, "2": 1234.0},
        False,
    )


@pytest.mark.parametrize(("before", "after"), [(" ", ""), ("", " "), ("\n", "\t "), ("", "")])
def test_whitespace_around_the_array_is_allowed(before: str, after: str) -> None:
    conn = open_client()
    (event,) = conn.receive_data(frames("a" + before + "[" + fx.MD_QUOTES + "]" + after), 1.0)
    assert event == market_data(fx.MD_QUOTES)


def test_chart_bars_ticks_and_end_of_history() -> None:
    conn = open_client()
    chart_event = '{"e":"chart","d":{"charts":[' + fx.TICK_PACKET + "," + fx.END_OF_HISTORY + "]}}"
    bars, ticks = conn.receive_data(frames(a(fx.CHART_BARS), a(chart_event)), 1.0)
    assert isinstance(bars, Chart)
    (packet,) = bars.charts
    assert isinstance(packet, BarPacket)
    assert packet.bars[0].close == 2333.75
    assert packet.bars[0].up_volume == 4712
    assert bars.end_of_history == []
    assert isinstance(ticks, Chart)
    assert ticks.end_of_history == [16335]
    tick_packet, marker = ticks.charts
    assert isinstance(tick_packet, TickPacket)
    assert marker == EndOfHistory(16335)
    (tick,) = tick_packet.ticks()
    assert [tick] == decode_tick_packet(loads(fx.TICK_PACKET))
    assert tick.price == (11917 + 0) * 0.25
    assert tick.time == 1563421179735
    assert tick.bid == (11917 - 1) * 0.25
    assert tick.ask == 11917 * 0.25
    assert (tick.size, tick.bid_size, tick.ask_size, tick.id) == (3, 122, 28, 11768401)


def test_batched_frames_keep_their_order() -> None:
    conn = open_client()
    first, second = conn.request("contract/find"), conn.request("account/list")
    batch = a(
        fx.MD_QUOTES,
        reply(second, 200, {"id": 1}),
        fx.PROPS_CREATED[2:-1],
        reply(first, 404, "nope"),
        '{"e":"whatIsThis","d":null}',
    )
    events = conn.receive_data(frames(batch, "h", a(fx.SHUTDOWN)), 1.0)
    assert [type(e).__name__ for e in events] == [
        "MarketData",
        "Response",
        "EntityChanged",
        "ErrorResponse",
        "UnknownEvent",
        "ServerHeartbeat",
        "Shutdown",
    ]
    assert events[1] == Response(second, 200, {"id": 1}, "account/list")
    assert events[3] == ErrorResponse(first, 404, "nope", "contract/find")


# -- authorize, and requests --------------------------------------------------------------------


def test_authorize_flow() -> None:
    sent = SentTexts()
    conn = open_client()
    assert conn.state is TradovateState.OPEN
    request_id = conn.authorize("uST01-token")
    assert sent(conn) == [f"authorize\n{request_id}\n\nuST01-token"]
    with pytest.raises(LocalProtocolError, match="awaits its answer"):
        conn.authorize("again")
    events = conn.receive_data(frames(a(reply(request_id))), 1.0)
    assert events == [Response(request_id, 200, None, "authorize")]
    assert state_of(conn) is TradovateState.AUTHORIZED
    with pytest.raises(LocalProtocolError, match="already authorized"):
        conn.authorize("again")


def test_a_refused_authorize_may_be_retried() -> None:
    conn = open_client()
    first = conn.authorize("expired")
    assert conn.receive_data(frames(a(reply(first, 401, "Invalid access token"))), 1.0) == [
        ErrorResponse(first, 401, "Invalid access token", "authorize")
    ]
    assert conn.state is TradovateState.OPEN
    second = conn.authorize("fresh")
    assert second != first


def test_a_penalty_on_authorize_leaves_the_connection_unauthorized() -> None:
    # The penalty comes in a 200 answer; it is not a success.
    conn = open_client()
    first = conn.authorize("uST01-token")
    penalty = {"p-ticket": "T1", "p-time": 7, "p-captcha": False}
    events = conn.receive_data(frames(a(reply(first, 200, penalty))), 1.0)
    assert events == [Penalty(first, "T1", 7.0, False, "authorize")]
    assert conn.state is TradovateState.OPEN
    assert not conn.authorized
    second = conn.authorize("uST01-token")  # the retry goes out through authorize again
    conn.receive_data(frames(a(reply(second, 200, {"accessToken": "x"}))), 9.0)
    assert conn.authorized


def test_a_penalty_without_a_usable_time_says_none() -> None:
    conn = open_client()
    request_id = conn.request("account/list")
    events = conn.receive_data(frames(a(reply(request_id, 200, {"p-ticket": "T1"}))), 1.0)
    assert events == [Penalty(request_id, "T1", None, False, "account/list")]


def test_request_ids_are_unique_and_start_at_one() -> None:
    conn = open_client()
    ids = [conn.request("contract/find", {"name": f"ES{i}"}) for i in range(100)]
    assert ids == list(range(1, 101))


@pytest.mark.parametrize("token", ["", "two\nlines"])
def test_bad_tokens_are_the_callers_mistake(token: str) -> None:
    with pytest.raises(LocalProtocolError, match="access token"):
        open_client().authorize(token)


def test_request_before_the_open_frame_is_the_callers_mistake() -> None:
    conn = TradovateConnection(already_open=True)
    with pytest.raises(LocalProtocolError, match="before the server's open frame"):
        conn.request("account/list")
    with pytest.raises(LocalProtocolError, match="before the server's open frame"):
        conn.authorize("token")
    handshaking = TradovateConnection("demo.broker.test")
    with pytest.raises(LocalProtocolError, match="open frame"):
        handshaking.request("account/list")


def test_newline_in_endpoint_is_the_callers_mistake_and_sends_nothing() -> None:
    sent = SentTexts()
    conn = open_client()
    with pytest.raises(LocalProtocolError, match="invalid endpoint"):
        conn.request("md/subscribeQuote\n99")
    assert sent(conn) == []
    assert conn.pending_requests == 0
    assert conn.request("account/list") == 1, "a refused request does not use up an id"


def test_request_after_close_is_the_callers_mistake() -> None:
    conn = open_client()
    conn.close()
    with pytest.raises(LocalProtocolError, match="closing"):
        conn.request("account/list")
    with pytest.raises(LocalProtocolError, match="already closing"):
        conn.close()


def test_late_answer_after_a_timeout_is_unmatched() -> None:
    conn = open_client()
    request_id = conn.request("contract/find", timeout=5.0, now=1.0)
    assert conn.handle_timer(6.0) == [RequestTimedOut(request_id, "contract/find", 5.0)]
    assert conn.receive_data(frames(a(reply(request_id, 200, []))), 7.0) == [
        UnmatchedResponse(request_id, 200, [])
    ]


# -- timers on an injected clock ----------------------------------------------------------------


def test_heartbeat_is_sent_at_two_and_a_half_seconds_and_not_earlier() -> None:
    sent = SentTexts()
    conn = open_client(now=100.0)
    assert conn.next_deadline() == 102.5
    assert conn.handle_timer(102.49) == []
    assert sent(conn) == []
    assert conn.handle_timer(102.5) == []
    assert sent(conn) == ["[]"]
    assert conn.next_deadline() == 105.0


def test_heartbeats_keep_coming_during_a_busy_stream() -> None:
    """The server sends no h while streaming; the client's [] must not depend on it."""
    sent = SentTexts()
    conn = open_client(now=0.0)
    heartbeats_at: list[float] = []
    quote = frames(a(fx.MD_QUOTES))
    for step in range(1, 101):  # a quote every 100 ms for 10 s
        now = step / 10
        assert len(conn.receive_data(quote, now)) == 1
        deadline = conn.next_deadline()
        if deadline is not None and deadline <= now:
            conn.handle_timer(now)
        heartbeats_at += [now] * sent(conn).count("[]")
    assert heartbeats_at == [2.5, 5.0, 7.5, 10.0]


def test_heartbeat_interval_is_configurable() -> None:
    conn = open_client(now=0.0, heartbeat_interval=1.0)
    assert conn.next_deadline() == 1.0


def test_watchdog_reports_a_silent_link_dead() -> None:
    conn = open_client(now=0.0, watchdog_timeout=10.0)
    pending = conn.request("account/list", timeout=60.0)
    conn.receive_data(frames("h"), 4.0)
    conn.handle_timer(12.5)
    assert conn.state is TradovateState.OPEN
    events = conn.handle_timer(14.0)
    assert events == [
        RequestFailed(
            pending, "account/list", "nothing arrived from the server for 10 s: the link is dead"
        ),
        Closed(1011, "nothing arrived from the server for 10 s: the link is dead"),
    ]
    assert state_of(conn) is TradovateState.CLOSED
    assert conn.next_deadline() is None


def test_peer_alive_holds_the_watchdog() -> None:
    conn = open_client(now=0.0, watchdog_timeout=10.0, heartbeat_interval=100.0)
    conn.receive_data(frames("h"), 4.0)
    conn.peer_alive(12.0)
    assert conn.handle_timer(14.0) == []
    assert conn.state is TradovateState.OPEN
    assert conn.next_deadline() == 22.0


def test_request_timeouts() -> None:
    conn = open_client(
        now=0.0, request_timeout=30.0, heartbeat_interval=100.0, watchdog_timeout=None
    )
    slow = conn.request("user/syncrequest", body={"users": [1]}, now=1.0)
    quick = conn.request("contract/find", timeout=2.0, now=1.0)
    assert conn.next_deadline() == 3.0
    assert conn.handle_timer(3.0) == [RequestTimedOut(quick, "contract/find", 2.0)]
    assert conn.next_deadline() == 31.0
    assert conn.handle_timer(31.0) == [RequestTimedOut(slow, "user/syncrequest", 30.0)]
    assert conn.pending_requests == 0
    assert conn.next_deadline() == 100.0


def test_a_timer_is_never_left_due_after_it_ran() -> None:
    conn = open_client(now=0.0)
    conn.request("a/b", timeout=1.0)
    now = 0.0
    for _ in range(200):
        deadline = conn.next_deadline()
        assert deadline is not None
        assert deadline > now
        now = deadline
        conn.handle_timer(now)
        if conn.state is TradovateState.CLOSED:
            break
    assert conn.state is TradovateState.CLOSED, "the watchdog ends a link that stays silent"


def test_every_pending_request_fails_when_the_connection_closes() -> None:
    conn = open_client()
    ids = [conn.request("contract/find"), conn.request("account/list"), conn.authorize("t")]
    events = conn.receive_data(b"", 2.0)
    reason = "the peer closed the connection without a closing handshake"
    assert events == [
        RequestFailed(ids[0], "contract/find", reason),
        RequestFailed(ids[1], "account/list", reason),
        RequestFailed(ids[2], "authorize", reason),
        Closed(1006, reason),
    ]
    assert conn.pending_requests == 0


# -- closing ------------------------------------------------------------------------------------


def test_close_frame_from_the_server() -> None:
    conn = open_client()
    request_id = conn.request("account/list")
    events = conn.receive_data(frames(fx.CLOSE_FRAME), 1.0)
    assert events == [CloseFrame(3000, "Go away!")]
    assert conn.state is TradovateState.CLOSING
    assert close_code_sent(conn) == 1000, "the client answers by closing the WebSocket"
    events = conn.receive_data(server_frame(0x8, b"\x03\xe8"), 1.5)
    assert events == [
        RequestFailed(request_id, "account/list", "the connection closed (code 1000)"),
        Closed(1000, ""),
    ]


def test_data_after_closed_is_ignored() -> None:
    conn = open_client()
    conn.receive_data(b"", 1.0)
    assert conn.receive_data(frames("h"), 2.0) == []
    assert conn.handle_timer(100.0) == []
    assert conn.next_deadline() is None


# -- bad input ----------------------------------------------------------------------------------

BAD_FRAMES = {
    "unknown type letter": ("x[1]", 1002, "unknown frame"),
    "empty message": ("", 1002, "empty message"),
    "invalid JSON": ('a[{"s":200,', 1007, "invalid JSON"),
    "junk after the array": ('a[{"e":"md","d":{}}]x', 1007, "invalid JSON"),
    "a second array": ("a[][]", 1007, "invalid JSON"),
    "a bare a": ("a", 1007, "invalid JSON"),
    "c frame that is not [code, reason]": ('c["oops"]', 1002, "must be c[code"),
}

#: Valid JSON in a shape no message has: (frame, its data, its whole message, reason words).
WRONG_SHAPES: dict[str, tuple[str, Any, Any, str]] = {
    "a frame that is not an array": (
        'a{"s":200}',
        None,
        {"s": 200},
        "must hold a JSON array",
    ),
    "message that is not an object": ("a[1]", None, 1, "not a JSON object"),
    "neither response nor event": ('a[{"x":1}]', None, {"x": 1}, "neither a response"),
    "response without status": ('a[{"i":1}]', None, {"i": 1}, "integer id (i) and status (s)"),
    "response with a string id": (
        'a[{"i":"1","s":200}]',
        None,
        {"i": "1", "s": 200},
        "integer id",
    ),
    "event kind not a string": (
        'a[{"e":["md"],"d":{}}]',
        {},
        {"e": ["md"], "d": {}},
        "event kind must be a string",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_bad_frames_end_the_connection_after_everything_before_them(name: str) -> None:
    bad, code, words = BAD_FRAMES[name]
    conn = open_client()
    request_id = conn.request("account/list")
    events = conn.receive_data(frames("h", a(fx.MD_QUOTES), bad, "h"), 1.0)
    assert [type(e).__name__ for e in events[:2]] == ["ServerHeartbeat", "MarketData"]
    closed = only_closed(events)
    assert events[2] == RequestFailed(request_id, "account/list", closed.reason)
    assert len(events) == 4, "nothing after the bad frame is decoded"
    assert closed.code == code
    assert isinstance(closed.error, RemoteProtocolError)
    assert words in closed.error.message
    assert conn.state is TradovateState.CLOSED
    assert close_code_sent(conn) == code, "the close frame answering the bad frame is queued"


@pytest.mark.parametrize("name", sorted(WRONG_SHAPES))
def test_a_message_in_a_wrong_shape_arrives_raw_and_the_connection_goes_on(name: str) -> None:
    bad, data, message, words = WRONG_SHAPES[name]
    conn = open_client()
    request_id = conn.request("account/list")
    events = conn.receive_data(frames("h", a(fx.MD_QUOTES), bad, "h"), 1.0)
    assert len(events) == 4
    assert events[:2] == [ServerHeartbeat(), market_data(fx.MD_QUOTES)]
    assert raw_event(events[2]) == UnknownEvent("", data, message)
    assert words in reason_of(events[2])
    assert events[3] == ServerHeartbeat(), "what follows is still decoded"
    assert conn.state is TradovateState.OPEN
    assert conn.pending_requests == 1, "a response it cannot read answers no request"
    assert close_code_sent(conn) is None
    assert conn.receive_data(frames(a(reply(request_id))), 2.0) == [
        Response(request_id, 200, None, "account/list")
    ]


def fragmented(text: str, pieces: int = 3) -> bytes:
    """One text message sent as ``pieces`` frames (a text frame, then continuations)."""
    data = text.encode()
    cuts = [len(data) * i // pieces for i in range(pieces + 1)]
    parts = [data[start:end] for start, end in pairwise(cuts)]
    return b"".join(
        server_frame(OP_TEXT if i == 0 else OP_CONTINUATION, part, fin=i == len(parts) - 1)
        for i, part in enumerate(parts)
    )


BATCH_WITH_A_BAD_MESSAGE = a(
    fx.MD_QUOTES,
    '{"e":"props","d":{"entityType":"order","eventType":"Updated"}}',
    "42",
    fx.MD_QUOTES,
)


@pytest.mark.parametrize("deliver", [frames, fragmented], ids=["one frame", "fragmented"])
def test_a_bad_message_inside_a_batch_loses_nothing_around_it(
    deliver: Callable[[str], bytes],
) -> None:
    conn = open_client()
    events = conn.receive_data(deliver(BATCH_WITH_A_BAD_MESSAGE) + deliver("h"), 1.0)
    assert [type(e).__name__ for e in events] == [
        "MarketData",
        "EntityChanged",
        "UnknownEvent",
        "MarketData",
        "ServerHeartbeat",
    ]
    assert raw_event(events[2]) == UnknownEvent("", None, 42)
    assert events[3] == events[0] == market_data(fx.MD_QUOTES)
    assert conn.state is TradovateState.OPEN


@pytest.mark.parametrize("deliver", [frames, fragmented], ids=["one frame", "fragmented"])
def test_json_this_library_refuses_ends_the_connection_with_1007(
    deliver: Callable[[str], bytes],
) -> None:
    """A lone surrogate escape (UTF-16 text cut inside a pair) and a number beyond a double
    are not JSON here: on the quotes' hot path or off it, the connection ends with 1007 after
    the events before them."""
    quote = '{"e":"md","d":{"quotes":[{"contractId":1,"note":"cut \\ud83d"}]}}'
    order = '{"id":7,"text":"\\udc00","avgPx":1e400}'
    props = '{"e":"props","d":{"entityType":"order","eventType":"Updated","entity":' + order + "}}"
    for bad in (quote, props):
        conn = open_client()
        request_id = conn.request("account/list")
        events = conn.receive_data(deliver("h") + deliver(a(bad)) + deliver("h"), 1.0)
        assert events[:2] == [
            ServerHeartbeat(),
            RequestFailed(request_id, "account/list", only_closed(events).reason),
        ]
        closed = only_closed(events)
        assert len(events) == 3
        assert closed.code == 1007
        assert isinstance(closed.error, RemoteProtocolError)
        assert "invalid JSON" in closed.reason
        assert close_code_sent(conn) == 1007


@pytest.mark.parametrize("name", sorted(WRONG_SHAPES))
def test_a_fragmented_message_in_a_wrong_shape_arrives_like_a_whole_one(name: str) -> None:
    bad = WRONG_SHAPES[name][0]
    conn = open_client()
    events = conn.receive_data(frames("h") + fragmented(bad, 2) + frames("h"), 1.0)
    whole = open_client().receive_data(frames("h", bad, "h"), 1.0)
    assert [type(e).__name__ for e in events] == [
        "ServerHeartbeat",
        "UnknownEvent",
        "ServerHeartbeat",
    ]
    assert events == whole, "the same event, to the character of its reason"


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_a_bad_fragmented_frame_ends_the_connection_like_a_whole_one(name: str) -> None:
    bad, code, words = BAD_FRAMES[name]
    conn = open_client()
    events = conn.receive_data(frames("h") + fragmented(bad, 2) + frames("h"), 1.0)
    assert [type(e).__name__ for e in events] == ["ServerHeartbeat", "Closed"]
    closed = only_closed(events)
    assert closed.code == code
    assert words in closed.reason
    whole = only_closed(open_client().receive_data(frames("h", bad, "h"), 1.0))
    assert closed.reason == whole.reason, "the same error, to the character it names"


@pytest.mark.parametrize(
    "payload",
    [b'a[{"e":"x","d":"\xff"}]', b"h\xff", b"\xc3"],
    ids=["in an a frame", "in another frame", "a cut character"],
)
def test_a_frame_that_is_not_utf8_is_refused_with_1007(payload: bytes) -> None:
    conn = open_client()
    events = conn.receive_data(frames("h") + server_frame(OP_TEXT, payload), 1.0)
    assert [type(e).__name__ for e in events] == ["ServerHeartbeat", "Closed"]
    closed = only_closed(events)
    assert closed.code == 1007
    assert "not valid UTF-8" in closed.reason


def test_binary_message_is_refused_with_1003() -> None:
    conn = open_client()
    closed = only_closed(conn.receive_data(server_frame(OP_BINARY, b"\x00"), 1.0))
    assert closed.code == 1003


def test_websocket_level_errors_come_through_as_the_terminal_event() -> None:
    conn = open_client()
    closed = only_closed(conn.receive_data(b"\x83\x00", 1.0))  # reserved opcode
    assert closed.code == 1002
    assert closed.error is not None


def test_handshake_refusal_is_reported() -> None:
    conn = TradovateConnection("md.broker.test")
    conn.data_to_send()
    events = conn.receive_data(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 0.0)
    assert [type(e).__name__ for e in events] == ["ConnectionRejected", "Closed"]
    assert conn.state is TradovateState.CLOSED


def test_close_during_the_handshake() -> None:
    conn = TradovateConnection("md.broker.test")
    conn.close()
    assert conn.state is TradovateState.CLOSED


def test_the_request_the_client_sends_over_the_wire() -> None:
    sent = SentTexts()
    conn = open_client()
    conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})
    conn.request("contract/find", query={"name": "ESZ6"})
    assert sent(conn) == [
        'md/subscribeQuote\n1\n\n{"symbol":"ESZ6"}',
        "contract/find\n2\nname=ESZ6\n",
    ]


def test_repr_shows_no_token() -> None:
    conn = open_client()
    conn.authorize("s3cret-token")
    assert "s3cret" not in repr(conn)


def test_bad_utf8_in_an_a_frame_closes_with_1007() -> None:
    conn = TradovateConnection(already_open=True)
    events = conn.receive_data(
        server_frame(OP_TEXT, b"o") + server_frame(OP_TEXT, b'a["\xff"]'), 0.0
    )
    assert type(events[0]).__name__ == "Opened"
    closed = only_closed(events)
    assert (closed.code, closed.reason) == (
        1007,
        "text message is not valid UTF-8 (invalid start byte)",
    )
