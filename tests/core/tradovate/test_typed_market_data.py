"""Typed market data through a real ``TradovateConnection``.

A quote with every one of its ten entries, a DOM and a histogram decode into their Structs; the
same messages with any one field of the wrong type, or without a required field, arrive raw as
an ``UnknownEvent`` and the connection goes on; fields this version does not know are ignored;
a frame that is not JSON ends the connection with 1007, however its bytes are cut; and what a
``TradovateServerConnection`` sends from the Structs comes back equal.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import dumps_str
from brokerwire.core.tradovate import (
    Closed,
    Dom,
    Histogram,
    MarketData,
    Quote,
    QuoteEntries,
    QuoteEntry,
    RequestFailed,
    Response,
    ServerHeartbeat,
    TradeDate,
    TradovateState,
    UnknownEvent,
    response_message,
)
from brokerwire.core.websocket.frames import OP_TEXT
from tests.core.tradovate.helpers import (
    close_code_sent,
    connected,
    frames,
    open_client,
    raw_event,
    reason_of,
    reply,
    to_client,
    to_server,
)
from tests.helpers import byte_by_byte, feed, only_closed, random_chunks, server_frame

Path = tuple[str | int, ...]

QUOTE_DATA: dict[str, Any] = {
    "quotes": [
        {
            "timestamp": "2026-11-21T14:00:00.123Z",
            "contractId": 3570918,
            "id": 3570918,
            "entries": {
                "Bid": {"price": 6012.25, "size": 12},
                "Offer": {"price": 6012.5, "size": 7},
                "Trade": {"price": 6012.5, "size": 1},
                "TotalTradeVolume": {"size": 104233},
                "LowPrice": {"price": 5990},
                "HighPrice": {"price": 6030.75},
                "OpeningPrice": {"price": 6001},
                "SettlementPrice": {"price": 5998.5},
                "OpenInterest": {"size": 2401333},
                "EmptyBook": {"size": 0},
            },
        }
    ]
}
QUOTE = Quote(
    3570918,
    "2026-11-21T14:00:00.123Z",
    QuoteEntries(
        bid=QuoteEntry(6012.25, 12),
        offer=QuoteEntry(6012.5, 7),
        trade=QuoteEntry(6012.5, 1),
        total_trade_volume=QuoteEntry(None, 104233),
        low_price=QuoteEntry(5990),
        high_price=QuoteEntry(6030.75),
        opening_price=QuoteEntry(6001),
        settlement_price=QuoteEntry(5998.5),
        open_interest=QuoteEntry(None, 2401333),
        empty_book=QuoteEntry(None, 0),
    ),
    3570918,
)

DOM_DATA: dict[str, Any] = {
    "doms": [
        {
            "contractId": 3570918,
            "timestamp": "2026-11-21T14:00:00.456Z",
            "bids": [{"price": 6012.25, "size": 33}, {"price": 6012, "size": 758.5}],
            "offers": [{"price": 6012.5, "size": 255}, {"price": 6012.75, "size": 466}],
        }
    ]
}
DOM = Dom(
    3570918,
    "2026-11-21T14:00:00.456Z",
    [QuoteEntry(6012.25, 33), QuoteEntry(6012, 758.5)],
    [QuoteEntry(6012.5, 255), QuoteEntry(6012.75, 466)],
)

HISTOGRAM_DATA: dict[str, Any] = {
    "histograms": [
        {
            "contractId": 3570918,
            "timestamp": "2026-11-21T14:00:00.789Z",
            "tradeDate": {"year": 2026, "month": 11, "day": 21},
            "base": 6012.25,
            "items": {"-3": 120, "0": 455.5, "4": 12},
            "refresh": True,
        }
    ]
}
HISTOGRAM = Histogram(
    3570918,
    "2026-11-21T14:00:00.789Z",
    TradeDate(2026, 11, 21),
    6012.25,
    {"-3": 120, "0": 455.5, "4": 12},
    True,
)

MODELS: dict[str, tuple[dict[str, Any], MarketData]] = {
    "quote": (QUOTE_DATA, MarketData(quotes=[QUOTE])),
    "dom": (DOM_DATA, MarketData(doms=[DOM])),
    "histogram": (HISTOGRAM_DATA, MarketData(histograms=[HISTOGRAM])),
    "all three": (
        {**QUOTE_DATA, **DOM_DATA, **HISTOGRAM_DATA},
        MarketData([QUOTE], [DOM], [HISTOGRAM]),
    ),
}


def a(*messages: str) -> str:
    return "a[" + ",".join(messages) + "]"


def md(data: Any) -> str:
    """The JSON text of an ``md`` event carrying ``data``."""
    return dumps_str({"e": "md", "d": data})


QUOTE_MESSAGE = md(QUOTE_DATA)
QUOTE_EVENT = MarketData(quotes=[QUOTE])


# -- (a) a valid md message decodes typed ---------------------------------------------------


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_valid_md_message_decodes_typed(model: str) -> None:
    data, expected = MODELS[model]
    conn = open_client()
    request_id = conn.request("md/subscribeQuote")
    alone = conn.receive_data(frames(a(md(data))), 1.0)
    mixed = conn.receive_data(frames(a(md(data), reply(request_id), md(data))), 2.0)
    assert alone == [expected]
    assert mixed == [expected, Response(request_id, 200, None, "md/subscribeQuote"), expected]


def test_the_typed_quote_reads_by_attribute() -> None:
    (event,) = open_client().receive_data(frames(a(QUOTE_MESSAGE)), 1.0)
    assert type(event) is MarketData
    (quote,) = event.quotes
    assert type(quote) is Quote
    assert (quote.contract_id, quote.id, quote.timestamp) == (
        3570918,
        3570918,
        "2026-11-21T14:00:00.123Z",
    )
    assert quote.bid == QuoteEntry(6012.25, 12)
    assert quote.offer == QuoteEntry(6012.5, 7)
    assert quote.trade == QuoteEntry(6012.5, 1)
    assert quote.total_volume == 104233
    assert quote.entries.empty_book == QuoteEntry(None, 0)
    (dom_event,) = open_client().receive_data(frames(a(md(DOM_DATA))), 1.0)
    assert type(dom_event) is MarketData
    assert [level.price for level in dom_event.doms[0].bids] == [6012.25, 6012]
    (histogram_event,) = open_client().receive_data(frames(a(md(HISTOGRAM_DATA))), 1.0)
    assert type(histogram_event) is MarketData
    assert histogram_event.histograms[0].trade_date == TradeDate(2026, 11, 21)
    assert histogram_event.histograms[0].items["0"] == 455.5


# -- (b) a field of the wrong type, (c) a required field missing -----------------------------


def fields(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every field below ``value`` (object members and list items, at any depth) and its path."""
    children = (
        value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
    )
    for key, child in children:
        yield (*path, key), child
        yield from fields(child, (*path, key))


#: Fields whose value may not be null (required, or holding a list or a map, or a bool).
NOT_NULLABLE = {"contractId", "refresh", "year", "month", "day", "entries", "bids", "offers"}
NOT_NULLABLE |= {"items", "quotes", "doms", "histograms"}
#: Fields declared as integers, where a fraction is wrong too.
INTEGERS = {"contractId", "id", "year", "month", "day"}


def wrong_values(path: Path, value: Any) -> list[Any]:
    """Values of a JSON type the field at ``path`` (now holding ``value``) does not take.

    The text is not numeric: numbers sent as numeric text read as numbers by design.
    """
    if type(value) is bool:
        wrong: list[Any] = ["maybe", [], {}]
    elif type(value) in (int, float):
        wrong = ["not a number", True, [], {}]
    elif type(value) is str:
        wrong = [5, False, [], {}]
    elif type(value) is dict:
        wrong = [[], "text", 5, True]
    else:
        wrong = [{}, "text", 5]
    key = path[-1]
    if key in INTEGERS:
        wrong.append(1.5)
    if key in NOT_NULLABLE or type(key) is int or path[-2:-1] == ("items",):
        wrong.append(None)
    return wrong


def field_named(path: Path) -> str:
    """The name of the field (by its wire name) that holds what ``path`` points to."""
    names = [key for key in path if type(key) is str]
    if len(path) >= 2 and path[-2] == "items":
        return "items"
    return names[-1]


def replaced(data: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the field at ``path`` set to ``value``."""
    changed = copy.deepcopy(data)
    holder: Any = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


def without(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A deep copy of ``data`` without the field at ``path``."""
    changed = copy.deepcopy(data)
    holder: Any = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed


WRONG_TYPE_PATHS: list[tuple[str, Path]] = [
    (model, path) for model in ("quote", "dom", "histogram") for path, _ in fields(MODELS[model][0])
]
WRONG_TYPE_CASES = [
    pytest.param(model, path, id=f"{model}:{'.'.join(map(str, path))}")
    for model, path in WRONG_TYPE_PATHS
]


def assert_arrives_raw(bad_data: Any, field: str) -> None:
    """``bad_data`` as an md event arrives raw, alone in its frame and among other messages,
    with a reason naming ``field``; the valid quotes around it arrive typed, the connection
    stays open and a pending request is still answered."""
    message = {"e": "md", "d": bad_data}
    bad = dumps_str(message)
    conn = open_client()
    request_id = conn.request("md/subscribeQuote")
    events = conn.receive_data(
        frames(a(bad), a(QUOTE_MESSAGE), a(QUOTE_MESSAGE, bad, reply(request_id)), "h"), 1.0
    )
    assert len(events) == 6, events
    raw = UnknownEvent("md", bad_data, message)
    assert raw_event(events[0]) == raw
    assert events[1] == events[2] == QUOTE_EVENT
    assert raw_event(events[3]) == raw
    assert events[4:] == [Response(request_id, 200, None, "md/subscribeQuote"), ServerHeartbeat()]
    for event in (events[0], events[3]):
        assert field in reason_of(event), event
    assert conn.state is TradovateState.OPEN
    assert close_code_sent(conn) is None


@pytest.mark.parametrize(("model", "path"), WRONG_TYPE_CASES)
def test_a_field_of_the_wrong_type_arrives_raw_and_the_connection_goes_on(
    model: str, path: Path
) -> None:
    data = MODELS[model][0]
    value = dict(fields(data))[path]
    for wrong in wrong_values(path, value):
        assert_arrives_raw(replaced(data, path, wrong), field_named(path))


REQUIRED_CASES = [
    ("quote", ("quotes", 0, "contractId")),
    ("dom", ("doms", 0, "contractId")),
    ("histogram", ("histograms", 0, "contractId")),
    ("histogram", ("histograms", 0, "tradeDate", "year")),
    ("histogram", ("histograms", 0, "tradeDate", "month")),
    ("histogram", ("histograms", 0, "tradeDate", "day")),
]


@pytest.mark.parametrize(("model", "path"), REQUIRED_CASES)
def test_a_required_field_missing_arrives_raw_and_the_connection_goes_on(
    model: str, path: Path
) -> None:
    assert_arrives_raw(without(MODELS[model][0], path), str(path[-1]))


def test_the_wrong_type_cases_cover_every_field_of_every_model() -> None:
    covered = {field_named(path) for _, path in WRONG_TYPE_PATHS}
    wire_names = {"quotes", "doms", "histograms", "entries", "bids", "offers", "tradeDate"}
    for model in (Quote, QuoteEntries, QuoteEntry, Dom, Histogram, TradeDate):
        wire_names |= set(model.__struct_encode_fields__)
    assert covered == wire_names


# -- (d) fields this version does not know ---------------------------------------------------

EXTRA_VALUES: list[Any] = [None, 7, 2.5, "later", True, [1, {"x": []}], {"deep": {"er": [1]}}]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_unknown_extra_fields_are_ignored_at_every_level(model: str) -> None:
    data, expected = MODELS[model]
    objects = [()] + [path for path, value in fields(data) if type(value) is dict]
    for path in objects:
        for extra in EXTRA_VALUES:
            holder_path = (*path, "fieldOfALaterVersion")
            if path[-1:] == ("entries",):
                holder_path = (*path, "EntryOfALaterVersion")
            if path[-1:] == ("items",):
                continue  # every member of items is a price level, not a field
            extended = replaced(data, holder_path, extra)
            message = dumps_str({"e": "md", "d": extended, "later": extra})
            conn = open_client()
            events = conn.receive_data(frames(a(message), a('{"e":"x","d":0}', message)), 1.0)
            assert events == [expected, UnknownEvent("x", 0, {"e": "x", "d": 0}), expected]


# -- (e) invalid JSON, cut anywhere ----------------------------------------------------------

QUOTE_FRAME = a(QUOTE_MESSAGE).encode()


def invalid_frames() -> Iterator[tuple[str, bytes]]:
    """The quote's frame truncated at every position, and with each byte after its letter in
    turn replaced by a control character (never allowed in JSON, inside a string or out)."""
    for cut in range(1, len(QUOTE_FRAME)):
        yield f"cut at {cut}", QUOTE_FRAME[:cut]
    for at in range(1, len(QUOTE_FRAME)):
        yield f"byte {at} replaced", QUOTE_FRAME[:at] + b"\x01" + QUOTE_FRAME[at + 1 :]


def whole(data: bytes, rng: random.Random) -> list[bytes]:
    return [data]


def at_random(data: bytes, rng: random.Random) -> list[bytes]:
    return random_chunks(data, rng)


def one_by_one(data: bytes, rng: random.Random) -> list[bytes]:
    return byte_by_byte(data)


@pytest.mark.parametrize(
    "split", [whole, one_by_one, at_random], ids=["whole", "byte by byte", "random splits"]
)
def test_invalid_json_in_a_quote_frame_ends_the_connection_with_1007(
    split: Callable[[bytes, random.Random], list[bytes]],
) -> None:
    rng = random.Random(26)
    before = frames("h", a(QUOTE_MESSAGE))
    after = frames(a(QUOTE_MESSAGE), "h")
    cases = 0
    for name, bad in invalid_frames():
        conn = open_client()
        request_id = conn.request("md/subscribeQuote")
        if split is one_by_one:
            # The bytes around the bad frame are cut the same way on every case; feed them
            # whole and cut the frame itself byte by byte, to keep the run short.
            chunks = [before, *one_by_one(server_frame(OP_TEXT, bad), rng), after]
        else:
            chunks = split(before + server_frame(OP_TEXT, bad) + after, rng)
        events = feed(conn.receive_data, chunks, 1.0)
        closed = only_closed(events)
        assert events == [
            ServerHeartbeat(),
            QUOTE_EVENT,
            RequestFailed(request_id, "md/subscribeQuote", closed.reason),
            closed,
        ], name
        assert closed.code == 1007, name
        assert isinstance(closed.error, RemoteProtocolError), name
        assert closed.error.close_code == 1007, name
        assert conn.state is TradovateState.CLOSED, name
        assert close_code_sent(conn) == 1007, name
        assert conn.receive_data(frames(a(QUOTE_MESSAGE)), 2.0) == [], name
        cases += 1
    assert cases == 2 * (len(QUOTE_FRAME) - 1)


def test_the_whole_stream_byte_by_byte_for_a_sample_of_cuts() -> None:
    """Every byte of the stream on its own, the bytes before the bad frame included."""
    stream_parts = (frames("h", a(QUOTE_MESSAGE)), frames(a(QUOTE_MESSAGE), "h"))
    for index, (name, bad) in enumerate(invalid_frames()):
        if index % 37:
            continue
        conn = open_client()
        request_id = conn.request("md/subscribeQuote")
        data = stream_parts[0] + server_frame(OP_TEXT, bad) + stream_parts[1]
        events = feed(conn.receive_data, byte_by_byte(data), 1.0)
        closed = only_closed(events)
        assert events[:-1] == [
            ServerHeartbeat(),
            QUOTE_EVENT,
            RequestFailed(request_id, "md/subscribeQuote", closed.reason),
        ], name
        assert (closed.code, type(closed)) == (1007, Closed), name


# -- (f) a server's md event, built from the Structs, round trip -----------------------------


@pytest.mark.parametrize("model", sorted(MODELS))
def test_an_md_event_built_from_the_structs_comes_back_equal(model: str) -> None:
    expected = MODELS[model][1]
    data = msgspec.to_builtins(expected)
    assert data == msgspec.to_builtins(msgspec.convert(MODELS[model][0], MarketData))
    client, server = connected()
    request_id = client.request("md/subscribeQuote", body={"symbol": "ESZ6"})
    (request,) = to_server(client, server)
    server.send_event("md", data)
    server.send_messages([response_message(request_id, 200, {"ok": True}), {"e": "md", "d": data}])
    assert to_client(server, client) == [
        expected,
        Response(request_id, 200, {"ok": True}, "md/subscribeQuote"),
        expected,
    ]
    assert request.request.request_id == request_id


def test_the_structs_are_written_with_their_wire_names() -> None:
    data = msgspec.to_builtins(MarketData([QUOTE], [DOM], [HISTOGRAM]))
    assert data == {**QUOTE_DATA, **DOM_DATA, **HISTOGRAM_DATA}
