"""Typed cTrader messages through a real ``CTraderConnection``, over WebSocket and TCP.

Spot and depth events arrive as their generated Structs; execution events, order errors and
error responses arrive as ``Response``, ``FollowUp``, ``ServerEvent`` or ``ErrorResponse``
events that hold the payload as sent and its typed message. Valid JSON that a model
cannot hold never ends the connection: a spot or depth arrives raw with the reason, the others
refuse to be typed (``ValidationError``). Invalid JSON ends it after every event before it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from brokerwire.core.ctrader import (
    ClientMessage,
    Closed,
    CTraderConnection,
    CTraderServerConnection,
    CTraderState,
    DepthEvent,
    ErrorResponse,
    FollowUp,
    Heartbeat,
    Opened,
    RequestFailed,
    Response,
    ServerEvent,
    SpotEvent,
)
from brokerwire.core.ctrader.models import (
    DepthQuote,
    ErrorRes,
    ExecutionEvent,
    ExecutionType,
    Order,
    OrderErrorEvent,
    OrderStatus,
    OrderType,
    TradeData,
    TradeSide,
    Trendbar,
    TrendbarPeriod,
)
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import ValidationError, dumps
from brokerwire.core.tcp import Framing
from tests.core.ctrader.helpers import TRANSPORTS, wire
from tests.core.ctrader.test_connection import ACCOUNT, ORDER, authorized
from tests.helpers import byte_by_byte, random_chunks

pytestmark = pytest.mark.timeout(60)

SPOT_PAYLOAD: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "symbolId": 1,
    "bid": 108512,
    "ask": 108514,
    "trendbar": [
        {
            "volume": 120,
            "period": 1,
            "low": 108400,
            "deltaOpen": 50,
            "deltaClose": 80,
            "deltaHigh": 150,
            "utcTimestampInMinutes": 29_000_000,
        }
    ],
    "sessionClose": 108000,
    "timestamp": 1_740_000_000_000,
}
SPOT = SpotEvent(
    ctid_trader_account_id=ACCOUNT,
    symbol_id=1,
    bid=108512,
    ask=108514,
    trendbar=[
        Trendbar(
            volume=120,
            period=TrendbarPeriod(1),
            low=108400,
            delta_open=50,
            delta_close=80,
            delta_high=150,
            utc_timestamp_in_minutes=29_000_000,
        )
    ],
    session_close=108000,
    timestamp=1_740_000_000_000,
)
DEPTH_PAYLOAD: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "symbolId": 1,
    "newQuotes": [
        {"id": 7, "size": 100000, "bid": 108510},
        {"id": 8, "size": 200000, "ask": 108516},
    ],
    "deletedQuotes": [3, 4],
}
DEPTH = DepthEvent(
    ctid_trader_account_id=ACCOUNT,
    symbol_id=1,
    new_quotes=[
        DepthQuote(id=7, size=100000, bid=108510),
        DepthQuote(id=8, size=200000, ask=108516),
    ],
    deleted_quotes=[3, 4],
)
EXECUTION_PAYLOAD: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "executionType": 2,
    "order": {
        "orderId": 9001,
        "tradeData": {"symbolId": 1, "volume": 100000, "tradeSide": 1},
        "orderType": 1,
        "orderStatus": 1,
    },
    "isServerEvent": False,
}
EXECUTION = ExecutionEvent(
    ctid_trader_account_id=ACCOUNT,
    execution_type=ExecutionType(2),
    order=Order(
        order_id=9001,
        trade_data=TradeData(symbol_id=1, volume=100000, trade_side=TradeSide(1)),
        order_type=OrderType(1),
        order_status=OrderStatus(1),
    ),
    is_server_event=False,
)
ORDER_ERROR_PAYLOAD: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "errorCode": "TRADING_BAD_VOLUME",
    "orderId": 9001,
    "positionId": 77,
    "description": "Invalid volume",
}
ORDER_ERROR = OrderErrorEvent(
    ctid_trader_account_id=ACCOUNT,
    error_code="TRADING_BAD_VOLUME",
    order_id=9001,
    position_id=77,
    description="Invalid volume",
)
ERROR_RES_PAYLOAD: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "errorCode": "BLOCKED_PAYLOAD_TYPE",
    "description": "too many requests",
    "maintenanceEndTimestamp": 1_740_000_000,
    "retryAfter": 3,
}
ERROR_RES = ErrorRes(
    ctid_trader_account_id=ACCOUNT,
    error_code="BLOCKED_PAYLOAD_TYPE",
    description="too many requests",
    maintenance_end_timestamp=1_740_000_000,
    retry_after=3,
)
#: What follows each message under test: decoding it typed shows the connection went on.
AFTER = {"payloadType": 2131, "payload": SPOT_PAYLOAD}


@dataclass(frozen=True)
class Case:
    """One model, the way its message reaches the caller, and the event type it arrives as."""

    name: str
    payload_type: int
    payload: dict[str, Any]
    model: msgspec.Struct
    route: str  # "event" (no clientMsgId), "response", "follow-up", "unknown id"
    arrives_as: type

    @property
    def market(self) -> bool:
        return self.arrives_as in (SpotEvent, DepthEvent)

    def __str__(self) -> str:
        return f"{self.name} as {self.route}"


CASES = [
    Case("spot", 2131, SPOT_PAYLOAD, SPOT, "event", SpotEvent),
    Case("depth", 2155, DEPTH_PAYLOAD, DEPTH, "event", DepthEvent),
    Case("execution", 2126, EXECUTION_PAYLOAD, EXECUTION, "response", Response),
    Case("execution", 2126, EXECUTION_PAYLOAD, EXECUTION, "follow-up", FollowUp),
    Case("execution", 2126, EXECUTION_PAYLOAD, EXECUTION, "event", ServerEvent),
    Case("order error", 2132, ORDER_ERROR_PAYLOAD, ORDER_ERROR, "response", ErrorResponse),
    Case("order error", 2132, ORDER_ERROR_PAYLOAD, ORDER_ERROR, "follow-up", FollowUp),
    Case("order error", 2132, ORDER_ERROR_PAYLOAD, ORDER_ERROR, "event", ServerEvent),
    Case("error", 2142, ERROR_RES_PAYLOAD, ERROR_RES, "response", ErrorResponse),
    Case("error", 2142, ERROR_RES_PAYLOAD, ERROR_RES, "unknown id", ServerEvent),
]


def deliver(
    kind: str, case: Case, payload: dict[str, Any], *, fits: bool = True
) -> tuple[CTraderConnection, Any]:
    """``payload`` sent the case's way, then ``AFTER``: the connection and the payload's event.

    Asserts that ``AFTER`` still decoded typed, after exactly one event for the payload, of
    the case's type (a ``ServerEvent`` for a spot or depth its model cannot hold: not ``fits``).
    """
    conn = authorized(kind)
    message: dict[str, Any] = {"payloadType": case.payload_type, "payload": payload}
    if case.route == "response":
        request_type = 2106 if case.payload_type != 2142 else 2104
        message["clientMsgId"] = conn.request(request_type, ORDER if request_type == 2106 else None)
    elif case.route == "follow-up":
        order = conn.request(2106, ORDER)
        accepted = {"ctidTraderAccountId": ACCOUNT, "executionType": 2}
        accept = {"clientMsgId": order, "payloadType": 2126, "payload": accepted}
        (response,) = conn.receive_data(wire(kind, accept), 1.0)
        assert type(response) is Response
        message["clientMsgId"] = order
    elif case.route == "unknown id":
        message["clientMsgId"] = "never-sent"
    events = conn.receive_data(wire(kind, message, AFTER), 1.0)
    assert len(events) == 2, events
    assert events[1] == SPOT, "the message after it decodes: the connection goes on"
    assert conn.state is CTraderState.APP_AUTHORIZED
    expected = case.arrives_as if fits or not case.market else ServerEvent
    assert type(events[0]) is expected
    return conn, events[0]


def typed(event: Any) -> Any:
    """The payload of a non-market event as its model."""
    assert isinstance(event, Response | ErrorResponse | FollowUp | ServerEvent)
    return event.message


def assert_not_typed(case: Case, event: Any, payload: dict[str, Any], *words: str) -> None:
    """A spot or depth arrives raw with its reason; any other event refuses to be typed."""
    if case.market:
        assert type(event) is ServerEvent
        assert (event.payload_type, event.payload, event.client_msg_id) == (
            case.payload_type,
            payload,
            None,
        )
        assert event.reason
        for word in words:
            assert word in event.reason, (word, event.reason)
        with pytest.raises(ValidationError):
            event.message  # noqa: B018
        return
    assert event.payload == payload
    with pytest.raises(ValidationError) as caught:
        typed(event)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


# -- which fields a model has, and values of the wrong type for each -----------------------------


def _concrete(kind: mi.Type) -> mi.Type:
    if isinstance(kind, mi.UnionType):
        (kind,) = (k for k in kind.types if not isinstance(k, mi.NoneType))
    return kind


def wrong_value(kind: mi.Type) -> Any:
    """A JSON value of the wrong type: text that is no number for a number, an object for a
    list or text, and so on."""
    kind = _concrete(kind)
    if isinstance(kind, mi.IntType | mi.FloatType | mi.EnumType):
        return "not a number"
    if isinstance(kind, mi.ListType):
        return {"not": "a list"}
    if isinstance(kind, mi.StrType):
        return {"not": "text"}
    if isinstance(kind, mi.BoolType):
        return "not a bool"
    if isinstance(kind, mi.StructType):
        return ["not", "an object"]
    raise AssertionError(f"no wrong value for {kind}")


@functools.cache
def type_info(model: type) -> mi.StructType:
    """``msgspec.inspect.type_info`` of a Struct class, once (it walks every nested type)."""
    info = mi.type_info(model)
    assert isinstance(info, mi.StructType)
    return info


@functools.cache
def fields_of(model: type) -> list[tuple[Any, ...]]:
    """Paths to every field of ``model`` (wire names), and of the first item of each list of
    Structs and of each Struct it holds (``("trendbar", 0, "volume")``)."""
    paths: list[tuple[Any, ...]] = []
    for field in type_info(model).fields:
        paths.append((field.encode_name,))
        inner = _concrete(field.type)
        if isinstance(inner, mi.ListType) and isinstance(inner.item_type, mi.StructType):
            paths += [(field.encode_name, 0, *p) for p in fields_of(inner.item_type.cls)]
        elif isinstance(inner, mi.StructType):
            paths += [(field.encode_name, *p) for p in fields_of(inner.cls)]
    return paths


def field_type(model: type, path: tuple[Any, ...]) -> tuple[mi.Type, bool]:
    """The type at ``path`` and whether it is required."""
    info: mi.Type = type_info(model)
    required = True
    for step in path:
        info = _concrete(info)
        if isinstance(info, mi.ListType):
            info = info.item_type
            continue
        assert isinstance(info, mi.StructType)
        (field,) = (f for f in info.fields if f.encode_name == step)
        info, required = field.type, field.required
    return info, required


def with_value(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``payload`` with ``value`` at ``path`` (``msgspec.UNSET`` removes it); None
    when a Struct on the way is not in the payload."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(payload, list):
        if len(payload) <= head:
            return None
        inner = with_value(payload[head], rest, value)
        return None if inner is None else [*payload[:head], inner, *payload[head + 1 :]]
    if rest and head not in payload:
        return None
    copy = dict(payload)
    if not rest:
        if value is msgspec.UNSET:
            copy.pop(head, None)
        else:
            copy[head] = value
        return copy
    inner = with_value(payload[head], rest, value)
    if inner is None:
        return None
    copy[head] = inner
    return copy


def json_path(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def numbers_as_strings(value: Any) -> Any:
    """Every integer of a decoded JSON value as a numeric string, as cTrader may send them."""
    if isinstance(value, dict):
        return {key: numbers_as_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [numbers_as_strings(item) for item in value]
    if type(value) is int:
        return str(value)
    return value


# -- the tests --------------------------------------------------------------------------------

CASE_IDS = [str(case) for case in CASES]


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_valid_message_decodes_typed(kind: str, case: Case) -> None:
    _, event = deliver(kind, case, case.payload)
    if case.market:
        assert event == case.model
    else:
        assert event.payload == case.payload
        assert typed(event) == case.model


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_field_of_the_wrong_type_is_not_typed_and_the_connection_goes_on(
    kind: str, case: Case
) -> None:
    tried = 0
    for path in fields_of(type(case.model)):
        kind_at, _ = field_type(type(case.model), path)
        bad = with_value(case.payload, path, wrong_value(kind_at))
        if bad is None:
            continue
        _, event = deliver(kind, case, bad, fits=False)
        assert_not_typed(case, event, bad, json_path(path))
        tried += 1
    assert tried >= len(type_info(type(case.model)).fields)


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_required_field_missing_is_not_typed_and_the_connection_goes_on(
    kind: str, case: Case
) -> None:
    tried = 0
    for path in fields_of(type(case.model)):
        _, required = field_type(type(case.model), path)
        bad = with_value(case.payload, path, msgspec.UNSET) if required else None
        if bad is None:
            continue
        _, event = deliver(kind, case, bad, fits=False)
        where = json_path(path[:-1])
        words = [f"missing required field `{path[-1]}`"] + ([where] if len(path) > 1 else [])
        assert_not_typed(case, event, bad, *words)
        tried += 1
    assert tried >= 1


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_an_unknown_extra_field_is_ignored(kind: str, case: Case) -> None:
    extra = {"brandNewField": [1, {"nested": "x"}], "anotherOne": None}
    payload = {**case.payload, **extra}
    if case.name == "spot":
        payload["trendbar"] = [{**SPOT_PAYLOAD["trendbar"][0], "brandNewField": "x"}]
    _, event = deliver(kind, case, payload)
    assert (event if case.market else typed(event)) == case.model


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_numbers_sent_as_numeric_strings_decode_as_numbers(kind: str, case: Case) -> None:
    payload = numbers_as_strings(case.payload)
    assert payload != case.payload
    _, event = deliver(kind, case, payload)
    decoded = event if case.market else typed(event)
    assert decoded == case.model
    assert msgspec.to_builtins(decoded) == case.payload, "numbers, not their strings"


# -- invalid JSON ------------------------------------------------------------------------------

#: A short spot message, so that every position of it can be tried every way quickly.
SHORT_SPOT = dumps(
    {"payloadType": 2131, "payload": {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "bid": 7}}
)
SHORT = SpotEvent(ctid_trader_account_id=ACCOUNT, symbol_id=1, bid=7)


def corrupted() -> Iterator[tuple[str, bytes]]:
    """The short spot cut short at each position, and with an invalid byte at each position."""
    for end in range(1, len(SHORT_SPOT)):
        yield f"cut at {end}", SHORT_SPOT[:end]
    for at in range(len(SHORT_SPOT)):
        yield f"0xff at {at}", SHORT_SPOT[:at] + b"\xff" + SHORT_SPOT[at + 1 :]


def feedings(data: bytes, seed: int) -> Iterator[tuple[str, list[bytes]]]:
    yield "whole", [data]
    yield "byte by byte", byte_by_byte(data)
    yield "random cuts", random_chunks(data, random.Random(seed), max_cuts=12)


@pytest.mark.parametrize("kind", ["websocket", "tcp-length-prefix"])
def test_invalid_json_at_every_position_ends_the_connection_after_the_events_before(
    kind: str,
) -> None:
    """Over a transport that delimits messages (the JSON stream framing reads the JSON itself
    to find where a message ends, so a cut message runs into the next)."""
    base = authorized(kind)
    request = base.request(2104)
    for seed, (what, bad) in enumerate(corrupted()):
        data = wire(kind, SHORT_SPOT, bad, SHORT_SPOT)
        for how, chunks in feedings(data, seed):
            conn = authorized(kind)
            assert conn.request(2104) == request
            events: list[Any] = []
            for chunk in chunks:
                events += conn.receive_data(chunk, 1.0)
            assert len(events) == 3, (what, how, events)
            closed = events[2]
            assert type(closed) is Closed, (what, how)
            assert events[:2] == [SHORT, RequestFailed(request, 2104, closed.reason, True)]
            assert isinstance(closed.error, RemoteProtocolError), (what, how)
            assert closed.code == (1007 if kind == "websocket" else None), (what, how)
            assert conn.state is CTraderState.CLOSED
            assert conn.receive_data(wire(kind, SHORT_SPOT), 2.0) == []


# -- round trip through the server connection -----------------------------------------------


def pair(kind: str) -> tuple[CTraderConnection, CTraderServerConnection]:
    if kind == "websocket":
        conn = CTraderConnection.websocket("demo.ctraderapi.com")
        server = CTraderServerConnection.websocket(heartbeat_interval=None)
        (request,) = server.receive_data(conn.data_to_send(), 0.0)
        assert type(request).__name__ == "ConnectionRequest"
        assert server.accept(now=0.0) == []
        assert conn.receive_data(server.data_to_send(), 0.0) == [Opened()]
        return conn, server
    framing = Framing.LENGTH_PREFIX if kind == "tcp-length-prefix" else Framing.JSON_STREAM
    conn = CTraderConnection.tcp(framing=framing)
    server = CTraderServerConnection.tcp(heartbeat_interval=None)
    conn.send_heartbeat()  # the server answers in the framing the client uses
    (beat,) = server.receive_data(conn.data_to_send(), 0.0)
    assert isinstance(beat, ClientMessage)
    assert beat.envelope.payload_type == 51
    return conn, server


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    "model",
    [
        SPOT,
        DEPTH,
        SpotEvent(ctid_trader_account_id=1, symbol_id=2),
        DepthEvent(ctid_trader_account_id=1, symbol_id=2, deleted_quotes=[9]),
    ],
    ids=["spot", "depth", "bare spot", "depth deletions only"],
)
def test_what_the_server_sends_from_a_struct_the_client_decodes_equal(
    kind: str, model: SpotEvent | DepthEvent
) -> None:
    conn, server = pair(kind)
    server.send(model.PAYLOAD_TYPE, msgspec.to_builtins(model))
    server.send(51)
    assert conn.receive_data(server.data_to_send(), 1.0) == [model, Heartbeat()]
