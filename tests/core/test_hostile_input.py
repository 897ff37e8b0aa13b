"""Hostile values from the wire never raise out of a connection.

An integer of over 4,300 digits (Python's ``json`` raises a plain ``ValueError`` for it, orjson
refuses it and hands it to json), ``NaN`` and infinities where a number is converted, integers
beyond a double's range, and values nested so deep that writing them back out recurses past the
interpreter's limit. Each goes through every client and server connection, fed whole, byte by
byte and cut at random points, and must give the documented outcome: a shape the model does not
accept arrives raw (or its field reads as absent), invalid JSON ends the connection with a
``RemoteProtocolError`` after every event before it, and every request gets one outcome.
"""

from __future__ import annotations

import math
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brokerwire.core import ctrader, tradovate
from brokerwire.core.ctrader import CTraderServerConnection, PayloadType
from brokerwire.core.ctrader import units as ctrader_units
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import dumps_str
from brokerwire.core.tradovate.helpers import decode_tick_packet
from brokerwire.core.transport import Closed
from brokerwire.core.websocket.frames import OP_CONTINUATION, OP_TEXT
from tests.core.ctrader.helpers import TRANSPORTS, client, wire
from tests.core.tradovate.helpers import frames, open_client
from tests.helpers import byte_by_byte, client_frame, random_chunks, server_frame

pytestmark = pytest.mark.timeout(120)

HUGE = "9" * 5000  # past json's 4,300-digit limit for integers
WIDE = "9" * 400  # an integer json reads, beyond a double's range
QUOTE = 'a[{"e":"md","d":{"quotes":[{"id":1,"contractId":5}]}}]'


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


def shallow(event: Any) -> Any:
    """An event without its decoded JSON, which is too deep to compare here (``==`` on it
    recurses past the limit in the test itself)."""
    fields = tuple(f for f in event if isinstance(f, str | int | float | RemoteProtocolError))
    return type(event).__name__, fields


def assert_failed_with(events: list[Any], close_code: int, words: str) -> RemoteProtocolError:
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
    written back, some cannot be parsed (which depths do which depends on the JSON backend and
    on how deep the stack already is)."""
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
    assert events[0].quotes == [{"id": 1, "contractId": 5}]
    assert_failed_with(events, 1007, "digits")


@pytest.mark.parametrize("speed", ["NaN", "Infinity", "-Infinity", "1e400", HUGE])
@pytest.mark.parametrize("inside_a_string", [True, False], ids=["as sent", "as an object"])
def test_tradovate_clock_speed_that_is_no_integer_arrives_raw(
    speed: str, inside_a_string: bool
) -> None:
    clock = '{"t":"2026-11-21T10:00:00.000Z","s":' + speed + "}"
    data_field = dumps_str(clock) if inside_a_string else clock
    message = 'a[{"e":"clock","d":' + data_field + "}]"
    events = each_feeding(_tradovate_with_request, frames(message, QUOTE))
    if not inside_a_string and speed == HUGE:
        # the frame itself cannot be parsed: invalid JSON, after nothing
        assert [type(e).__name__ for e in events] == ["RequestFailed", "Closed"]
        assert_failed_with(events, 1007, "digits")
        return
    assert [type(e).__name__ for e in events] == ["UnknownEvent", "MarketData"]
    assert events[0].kind == "clock"


def test_tradovate_clock_speed_as_a_finite_float_is_its_integer_part() -> None:
    events = each_feeding(
        _tradovate_with_request, frames('a[{"e":"clock","d":{"t":"x","s":250.7}}]')
    )
    assert events == [tradovate.ReplayClock("x", 250)]


@pytest.mark.parametrize("p_time", [WIDE, "NaN", "Infinity", "-5", '"soon"', "1e400"])
def test_tradovate_penalty_time_that_is_no_usable_number_reads_as_not_told(p_time: str) -> None:
    # None, not 0.0: a wait of zero would read as "retry at once".
    message = 'a[{"s":200,"i":1,"d":{"p-ticket":"T1","p-time":' + p_time + "}}]"
    events = each_feeding(_tradovate_with_request, frames(message, QUOTE))
    assert events[0] == tradovate.Penalty(1, "T1", None, False, "account/list")
    assert type(events[1]) is tradovate.MarketData


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
            assert all(isinstance(field, str | int | float | None) for field in events[0])
    deepest = frames(template % nested(max(depths())), QUOTE)
    each_feeding(_tradovate_with_request, deepest, shallow)


def test_tradovate_message_too_deep_to_quote_ends_the_connection_with_a_readable_error() -> None:
    for depth in depths():
        events = fed(_tradovate_with_request(), [frames(QUOTE, "a[" + nested(depth) + "]")])
        assert type(events[0]) is tradovate.MarketData
        error = assert_failed_with(events, events[-1].error.close_code, "")
        assert len(error.message) < 400


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
    assert_failed_with(events, events[-1].error.close_code, "digits")


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("retry_after", [WIDE, f'"{WIDE}"', "-1", '"-1"', "NaN", "1e400"])
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
def test_ctrader_retry_after_in_range_still_blocks_its_payload_type(kind: str) -> None:
    conn = _ctrader_with_request(kind)()
    events = conn.receive_data(wire(kind, _error_envelope(',"retryAfter":"3"')), 0.0)
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
            assert_failed_with(events, events[-1].error.close_code, "invalid JSON")
            continue
        assert type(events[0]) is expected
        assert type(events[-1]) is ctrader.SpotEvent
        texts = [field for field in events[0] if isinstance(field, str)]
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
    assert_failed_with(events, events[-1].error.close_code, "digits")


# -- helpers over decoded values ---------------------------------------------------------------


def test_chart_end_of_history_skips_markers_without_an_integer_id() -> None:
    chart = tradovate.Chart([{"eoh": True}, {"id": 7, "eoh": True}, {"id": "x", "eoh": True}])
    assert chart.end_of_history == [7]


@pytest.mark.parametrize(
    "convert",
    [
        lambda: ctrader_units.price(10**400),
        lambda: ctrader_units.volume(str(10**400)),
        lambda: ctrader_units.price(math.inf),
        lambda: ctrader_units.money(10**400, 2),
        lambda: ctrader_units.money(100, 10**9),
        lambda: ctrader_units.money(100, -1),
        lambda: ctrader_units.decode_trendbar({"low": 10**400}),
        lambda: ctrader_units.decode_tick_data([{"timestamp": 1, "tick": 10**400}]),
        lambda: decode_tick_packet({"bp": 10**400, "bt": 1, "ts": 0.25, "tks": [{"t": 1, "p": 1}]}),
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
