"""Hostile values from the wire never raise out of a connection.

An integer of over 4,300 digits (the JSON decoder refuses it: "Integer value out of range"),
``NaN``, infinities and ``1e400`` (not JSON to the decoder either), integers beyond a double's
range where a number is converted, and values nested so deep that reading or writing them
recurses past the interpreter's limit. Each goes through every client and server connection,
fed whole, byte by byte and cut at random points, and must give the documented outcome: a shape
the model does not accept arrives raw (or its field reads as absent) and the connection goes
on, invalid JSON ends the connection (close code 1007 over WebSocket) with a
``RemoteProtocolError`` after every event before it, and every request gets one outcome.
"""

from __future__ import annotations

import math
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from brokerwire.core import ctrader, tradovate
from brokerwire.core.ctrader import CTraderServerConnection, PayloadType
from brokerwire.core.ctrader import units as ctrader_units
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import dumps_str
from brokerwire.core.tradovate import Quote
from brokerwire.core.tradovate.helpers import decode_tick_packet
from brokerwire.core.transport import Closed
from brokerwire.core.websocket.frames import OP_CONTINUATION, OP_TEXT
from tests.core.ctrader.helpers import TRANSPORTS, client, wire
from tests.core.tradovate.helpers import frames, open_client
from tests.helpers import byte_by_byte, client_frame, random_chunks, server_frame

pytestmark = pytest.mark.timeout(120)

HUGE = "9" * 5000  # past the decoder's 4,300-digit limit for integers: invalid JSON
WIDE = "9" * 400  # an integer the decoder reads, beyond a double's range
QUOTE = 'a[{"e":"md","d":{"quotes":[{"id":1,"contractId":5}]}}]'
#: Numbers the JSON decoder refuses, each with words of the error it gives.
INVALID_NUMBERS = {
    "NaN": "malformed",
    "Infinity": "malformed",
    "-Infinity": "malformed",
    "1e400": "Number out of range",
    HUGE: "Integer value out of range",
}


def feedings(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The same bytes whole, one at a time, and cut at random points (seeded by the bytes)."""
    yield "whole", [data]
    yield "byte by byte", byte_by_byte(data)
    yield "random cuts", random_chunks(data, random.Random(zlib.crc32(data)), max_cuts=60)


def fed(conn: Any, chunks: list[bytes], now: float = 0.0) -> list[Any]:
    """Every event of ``chunks``, read through ``receive_events`` where the connection has it."""
    events: list[Any] = []
    for chunk in chunks:
        if hasattr(conn, "receive_events"):
            events.extend(conn.receive_events(chunk, now))
        else:
            events.extend(conn.receive_data(chunk, now))
    return events


def each_feeding(
    make: Callable[[], Any], data: bytes, key: Callable[[Any], Any] = lambda event: event
) -> list[Any]:
    """The events of ``data`` fed every way to a fresh connection; all ways must agree (as
    ``key`` sees each event)."""
    results = [(how, fed(make(), chunks)) for how, chunks in feedings(data)]
    first = results[0][1]
    for how, events in results[1:]:
        assert list(map(key, events)) == list(map(key, first)), f"fed {how}, the events differ"
    return first


def fields(event: Any) -> tuple[Any, ...]:
    """An event's fields in order (events are Structs, not tuples)."""
    return msgspec.structs.astuple(event)


def shallow(event: Any) -> Any:
    """An event without its decoded JSON, which is too deep to compare here (``==`` on it
    recurses past the limit in the test itself)."""
    kept = tuple(f for f in fields(event) if isinstance(f, str | int | float | RemoteProtocolError))
    return type(event).__name__, kept


def assert_failed_with(
    events: list[Any], close_code: int | None, words: str
) -> RemoteProtocolError:
    closed = events[-1]
    assert type(closed) is Closed
    assert sum(type(e) is Closed for e in events) == 1
    assert isinstance(closed.error, RemoteProtocolError)
    assert closed.error.close_code == close_code
    assert words in closed.error.message
    return closed.error


def fragmented(text: str) -> bytes:
    """A server text message in two fragments (decoded as a whole ``TextMessage``)."""
    data = text.encode()
    half = len(data) // 2
    first = server_frame(OP_TEXT, data[:half], fin=False)
    return first + server_frame(OP_CONTINUATION, data[half:])


def depths() -> range:
    """Nesting depths around the interpreter's recursion limit: some parse and cannot be
    written back, some cannot be parsed (which depths do which depends on how deep the stack
    already is)."""
    limit = sys.getrecursionlimit()
    return range(limit - 120, min(limit + 40, 1020))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- Tradovate, client role --------------------------------------------------------------------


def _tradovate_with_request() -> tradovate.TradovateConnection:
    conn = open_client()
    assert conn.request("account/list", now=0.0) == 1
    conn.data_to_send()
    return conn


@pytest.mark.parametrize("deliver", [frames, fragmented], ids=["one frame", "fragmented"])
def test_tradovate_integer_past_the_digit_limit_ends_the_connection_after_earlier_events(
    deliver: Callable[[str], bytes],
) -> None:
    data = frames(QUOTE) + deliver('a[{"s":200,"i":1,"d":' + HUGE + "}]")
    events = each_feeding(_tradovate_with_request, data)
    assert [type(e).__name__ for e in events] == ["MarketData", "RequestFailed", "Closed"]
    assert events[0].quotes == [Quote(contract_id=5, id=1)]
    assert events[1] == tradovate.RequestFailed(1, "account/list", events[2].reason)
    assert_failed_with(events, 1007, "Integer value out of range")


def _clock(speed: str) -> str:
    return '{"t":"2026-11-21T10:00:00.000Z","s":' + speed + "}"


@pytest.mark.parametrize("speed", sorted(INVALID_NUMBERS))
def test_tradovate_clock_speed_that_is_no_integer_arrives_raw(speed: str) -> None:
    # As the server sends it: the clock is a JSON text inside a string, read on its own.
    message = 'a[{"e":"clock","d":' + dumps_str(_clock(speed)) + "}]"
    events = each_feeding(_tradovate_with_request, frames(message, QUOTE))
    assert [type(e).__name__ for e in events] == ["UnknownEvent", "MarketData"]
    assert events[0].kind == "clock"
    assert events[0].reason
    assert INVALID_NUMBERS[speed] in events[0].reason


@pytest.mark.parametrize("speed", sorted(INVALID_NUMBERS))
def test_tradovate_clock_speed_as_an_object_the_decoder_refuses_ends_the_connection(
    speed: str,
) -> None:
    # The same clock as an object: the frame itself cannot be parsed, invalid JSON after nothing.
    message = 'a[{"e":"clock","d":' + _clock(speed) + "}]"
    events = each_feeding(_tradovate_with_request, frames(message, QUOTE))
    assert [type(e).__name__ for e in events] == ["RequestFailed", "Closed"]
    assert events[0] == tradovate.RequestFailed(1, "account/list", events[1].reason)
    error = assert_failed_with(events, 1007, "invalid JSON")
    assert INVALID_NUMBERS[speed] in error.message


def test_tradovate_clock_speed_as_a_finite_float_is_its_integer_part() -> None:
    events = each_feeding(
        _tradovate_with_request, frames('a[{"e":"clock","d":{"t":"x","s":250.7}}]')
    )
    assert events == [tradovate.ReplayClock("x", 250)]


def _penalty(p_time: str) -> str:
    return 'a[{"s":200,"i":1,"d":{"p-ticket":"T1","p-time":' + p_time + "}}]"


@pytest.mark.parametrize("p_time", [WIDE, "-5", '"soon"', '"NaN"', '"1e400"'])
def test_tradovate_penalty_time_that_is_no_usable_number_reads_as_not_told(p_time: str) -> None:
    # None, not 0.0: a wait of zero would read as "retry at once".
    events = each_feeding(_tradovate_with_request, frames(_penalty(p_time), QUOTE))
    assert events[0] == tradovate.Penalty(1, "T1", None, False, "account/list")
    assert type(events[1]) is tradovate.MarketData


@pytest.mark.parametrize("p_time", ["NaN", "Infinity", "1e400"])
def test_tradovate_penalty_time_the_decoder_refuses_ends_the_connection(p_time: str) -> None:
    events = each_feeding(_tradovate_with_request, frames(QUOTE, _penalty(p_time), QUOTE))
    assert [type(e).__name__ for e in events] == ["MarketData", "RequestFailed", "Closed"]
    assert events[1] == tradovate.RequestFailed(1, "account/list", events[2].reason)
    error = assert_failed_with(events, 1007, "invalid JSON")
    assert INVALID_NUMBERS[p_time] in error.message


def _outcome_or_failure(events: list[Any], outcome: type) -> None:
    """Either the message decoded (``outcome``, and the connection lives on), or it could not
    be parsed at all (invalid JSON ends the connection): never an exception."""
    if type(events[-1]) is Closed:
        assert_failed_with(events, 1007, "invalid JSON")
    else:
        assert type(events[0]) is outcome
        assert type(events[-1]) is tradovate.MarketData


@pytest.mark.parametrize(
    ("template", "outcome"),
    [
        ('a[{"s":400,"i":1,"d":%s}]', tradovate.ErrorResponse),
        ('a[{"s":200,"i":1,"d":{"p-ticket":%s}}]', tradovate.Penalty),
        ('a[{"e":"shutdown","d":{"reasonCode":%s}}]', tradovate.Shutdown),
    ],
    ids=["error data", "penalty ticket", "shutdown reason code"],
)
def test_tradovate_values_too_deep_to_write_back_never_raise(template: str, outcome: type) -> None:
    for depth in depths():
        data = frames(template % nested(depth), QUOTE)
        events = fed(_tradovate_with_request(), [data])
        _outcome_or_failure(events, outcome)
        if type(events[0]) is outcome:
            assert all(isinstance(field, str | int | float | None) for field in fields(events[0]))
    deepest = frames(template % nested(max(depths())), QUOTE)
    each_feeding(_tradovate_with_request, deepest, shallow)


def test_tradovate_message_too_deep_to_quote_is_raw_or_ends_the_connection_readably() -> None:
    """A nested list where a message belongs is valid JSON of the wrong shape (raw, and the
    connection goes on) until it is too deep to parse (invalid JSON): either way, what says so
    is short."""
    outcomes = set()
    for depth in depths():
        data = frames(QUOTE, "a[" + nested(depth) + "]", QUOTE)
        events = fed(_tradovate_with_request(), [data])
        assert type(events[0]) is tradovate.MarketData
        if type(events[-1]) is Closed:
            assert [type(e).__name__ for e in events[1:]] == ["RequestFailed", "Closed"]
            error = assert_failed_with(events, 1007, "invalid JSON")
            assert len(error.message) < 400
            outcomes.add("closed")
        else:
            assert [type(e).__name__ for e in events] == [
                "MarketData",
                "UnknownEvent",
                "MarketData",
            ]
            raw = events[1]
            assert (raw.kind, raw.data) == ("", None)
            assert raw.reason
            assert len(raw.reason) < 400
            outcomes.add("raw")
    assert outcomes == {"raw", "closed"}, "the depths cross the decoder's limit"


# -- cTrader, client role ----------------------------------------------------------------------

SPOT = {"payloadType": 2131, "payload": {"ctidTraderAccountId": 1, "symbolId": 1, "bid": 1}}


def _ctrader_with_request(kind: str) -> Callable[[], ctrader.CTraderConnection]:
    def make() -> ctrader.CTraderConnection:
        conn = client(kind)
        assert conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=0.0) == "bw-1"
        conn.data_to_send()
        return conn

    return make


def _error_envelope(fields: str) -> str:
    return '{"clientMsgId":"bw-1","payloadType":2142,"payload":{"errorCode":"X"' + fields + "}}"


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_ctrader_integer_past_the_digit_limit_ends_the_connection_after_earlier_events(
    kind: str,
) -> None:
    data = wire(kind, SPOT, _error_envelope(',"retryAfter":' + HUGE))
    events = each_feeding(_ctrader_with_request(kind), data)
    assert [type(e).__name__ for e in events] == ["SpotEvent", "RequestFailed", "Closed"]
    assert events[0] == ctrader.SpotEvent(ctid_trader_account_id=1, symbol_id=1, bid=1)
    assert events[1] == ctrader.RequestFailed("bw-1", 2104, events[2].reason, True)
    close_code = 1007 if kind == "websocket" else None
    assert_failed_with(events, close_code, "Integer value out of range")


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("retry_after", [WIDE, f'"{WIDE}"', "-1", '"-1"', '"NaN"', '"1e400"'])
def test_ctrader_retry_after_that_is_no_usable_number_is_not_obeyed(
    kind: str, retry_after: str
) -> None:
    data = wire(kind, _error_envelope(',"retryAfter":' + retry_after), SPOT)
    events = each_feeding(_ctrader_with_request(kind), data)
    assert [type(e).__name__ for e in events] == ["ErrorResponse", "SpotEvent"]
    assert events[0].retry_after is None
    assert "retryAfter" in events[0].payload  # the raw value is still there
    conn = _ctrader_with_request(kind)()
    conn.receive_data(data, 0.0)
    conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=0.0)
    assert conn.queued_requests == 0  # the payload type is not blocked


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("retry_after", ["NaN", "1e400"])
def test_ctrader_retry_after_the_decoder_refuses_ends_the_connection(
    kind: str, retry_after: str
) -> None:
    data = wire(kind, SPOT, _error_envelope(',"retryAfter":' + retry_after), SPOT)
    events = each_feeding(_ctrader_with_request(kind), data)
    assert [type(e).__name__ for e in events] == ["SpotEvent", "RequestFailed", "Closed"]
    assert events[1] == ctrader.RequestFailed("bw-1", 2104, events[2].reason, True)
    close_code = 1007 if kind == "websocket" else None
    error = assert_failed_with(events, close_code, "invalid JSON")
    assert INVALID_NUMBERS[retry_after] in error.message


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_ctrader_retry_after_in_range_still_blocks_its_payload_type(kind: str) -> None:
    conn = _ctrader_with_request(kind)()
    events = conn.receive_data(wire(kind, _error_envelope(',"retryAfter":"3"')), 0.0)
    assert isinstance(events[0], ctrader.ErrorResponse)
    assert events[0].retry_after == 3.0
    conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=0.0)
    assert conn.queued_requests == 1
    assert conn.next_deadline() == 3.0


@pytest.mark.parametrize(
    ("template", "outcome"),
    [
        (_error_envelope(',"description":%s'), ctrader.ErrorResponse),
        ('{"clientMsgId":"bw-1","payloadType":2142,"payload":{"errorCode":%s}}', None),
        ('{"payloadType":2148,"payload":{"reason":%s}}', ctrader.ClientDisconnected),
        ('{"payloadType":2147,"payload":{"reason":%s}}', ctrader.TokenInvalidated),
    ],
    ids=["error description", "error code", "disconnect reason", "token reason"],
)
def test_ctrader_values_too_deep_to_write_back_never_raise(
    template: str, outcome: type | None
) -> None:
    expected = outcome or ctrader.ErrorResponse
    for depth in depths():
        data = wire("tcp-length-prefix", template % nested(depth), SPOT)
        events = fed(_ctrader_with_request("tcp-length-prefix")(), [data])
        if type(events[-1]) is Closed:
            assert_failed_with(events, None, "invalid JSON")  # TCP sends no close code
            continue
        assert type(events[0]) is expected
        assert type(events[-1]) is ctrader.SpotEvent
        texts = [field for field in fields(events[0]) if isinstance(field, str)]
        assert all(len(text) <= 210 for text in texts)
    for kind in TRANSPORTS:
        data = wire(kind, template % nested(max(depths())), SPOT)
        each_feeding(_ctrader_with_request(kind), data, shallow)


# -- the server roles --------------------------------------------------------------------------


def _ctrader_server_ws() -> CTraderServerConnection:
    conn = CTraderServerConnection.websocket(heartbeat_interval=None)
    client_ws = ctrader.CTraderConnection.websocket("broker.test")
    conn.receive_data(client_ws.data_to_send(), 0.0)
    conn.accept(now=0.0)
    conn.data_to_send()
    return conn


@pytest.mark.parametrize("transport", ["websocket", "tcp"])
def test_ctrader_server_integer_past_the_digit_limit_ends_the_connection(transport: str) -> None:
    heartbeat = b'{"payloadType":51}'
    huge = ('{"payloadType":2104,"payload":{"n":' + HUGE + "}}").encode()
    if transport == "websocket":
        data = client_frame(OP_TEXT, heartbeat) + client_frame(OP_TEXT, huge)
        make: Callable[[], CTraderServerConnection] = _ctrader_server_ws
    else:
        data = b"".join(len(m).to_bytes(4, "big") + m for m in (heartbeat, huge))
        make = lambda: CTraderServerConnection.tcp(heartbeat_interval=None)  # noqa: E731
    events = each_feeding(make, data)
    assert [type(e).__name__ for e in events] == ["ClientMessage", "Closed"]
    assert events[0].envelope.payload_type == 51
    close_code = 1007 if transport == "websocket" else None
    assert_failed_with(events, close_code, "Integer value out of range")


# -- helpers over decoded values ---------------------------------------------------------------


@pytest.mark.parametrize("marker", ['{"eoh":true}', '{"id":"x","eoh":true}', '{"id":null}'])
def test_a_chart_marker_without_an_integer_id_arrives_raw_and_the_next_is_typed(
    marker: str,
) -> None:
    conn = open_client()
    bad = 'a[{"e":"chart","d":{"charts":[{"id":7,"eoh":true},' + marker + "]}}]"
    good = 'a[{"e":"chart","d":{"charts":[{"id":7,"eoh":true}]}}]'
    unknown, chart = conn.receive_data(frames(bad) + frames(good), 1.0)
    assert isinstance(unknown, tradovate.UnknownEvent)
    assert unknown.kind == "chart"
    assert unknown.reason
    assert isinstance(chart, tradovate.Chart)
    assert chart.end_of_history == [7]


@pytest.mark.parametrize(
    "convert",
    [
        lambda: ctrader_units.price(10**400),
        lambda: ctrader_units.volume(str(10**400)),
        lambda: ctrader_units.price(math.inf),  # type: ignore[arg-type]
        lambda: ctrader_units.money(10**400, 2),
        lambda: ctrader_units.money(100, 10**9),
        lambda: ctrader_units.money(100, -1),
        lambda: ctrader_units.decode_trendbar({"low": 10**400}),
        lambda: ctrader_units.decode_tick_data([{"timestamp": 1, "tick": 10**400}]),
        lambda: decode_tick_packet(
            {"id": 1, "bp": 10**400, "bt": 1, "ts": 0.25, "tks": [{"t": 1, "p": 1}]}
        ),
    ],
    ids=[
        "price",
        "volume",
        "infinite price",
        "money",
        "money digits",
        "negative money digits",
        "trendbar",
        "tick data",
        "tick packet",
    ],
)
def test_unit_helpers_refuse_values_beyond_a_float_with_value_error(
    convert: Callable[[], Any],
) -> None:
    """They raise the documented ``ValueError``, not ``OverflowError``; and a hostile
    ``moneyDigits`` is refused before ``10 ** digits`` is computed."""
    with pytest.raises(ValueError, match=r"range|integer|outside"):
        convert()


def test_a_ctrader_event_with_a_payload_too_deep_to_walk_still_has_a_repr() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    event = ctrader.ServerEvent(2126, {"deep": deep, "accessToken": "secret"}, None)
    shown = repr(event)
    assert shown.startswith("ServerEvent(payload_type=2126")
    assert "secret" not in shown
