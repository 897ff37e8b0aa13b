"""Every cTrader message typed in one pass, and enum values read by number or by name.

Each payload type of ``MESSAGE_TYPES`` goes through a real ``CTraderConnection`` over WebSocket
and both TCP framings, fed whole, byte by byte and at random split points, and must come out as
its generated Struct without the general path being asked. Messages that cannot be typed (an
unknown payload type, a payload its model refuses, an enum name that is no member's) arrive as
the generic event with the payload as sent and the reason, and the connection goes on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from brokerwire.core.ctrader import (
    AccountDisconnected,
    ClientDisconnected,
    Closed,
    CTraderConnection,
    CTraderState,
    DepthEvent,
    Heartbeat,
    Response,
    ServerEvent,
    SpotEvent,
    TokenInvalidated,
    UnknownMessage,
)
from brokerwire.core.ctrader import connection as connection_module
from brokerwire.core.ctrader.messages import WirePayload, enum_numbers, payload_of, typed_payload
from brokerwire.core.ctrader.models import (
    MESSAGE_TYPES,
    ExecutionEvent,
    ExecutionType,
    NewOrderReq,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradeSide,
    TrendbarPeriod,
)
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import ValidationError, dumps, loads, to_builtins
from tests.core.ctrader.helpers import TRANSPORTS, client, wire
from tests.core.ctrader.test_connection import ACCOUNT, ORDER, authorized
from tests.core.ctrader.test_models import build
from tests.helpers import byte_by_byte, random_chunks

pytestmark = pytest.mark.timeout(120)

#: Unsolicited, these payload types become events of their own rather than ``ServerEvent``.
SPECIAL = {
    51: Heartbeat,
    2147: TokenInvalidated,
    2148: ClientDisconnected,
    2164: AccountDisconnected,
}
SPOT_PAYLOAD = {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "bid": 108512, "ask": 108514}
SPOT = SpotEvent(ctid_trader_account_id=ACCOUNT, symbol_id=1, bid=108512, ask=108514)


def every_message() -> list[tuple[int, Any]]:
    """One message of each payload type with every field set, the client disconnect last (it
    changes the connection's state) and the heartbeat with no payload at all."""
    messages = [(t, build(kind, True)) for t, kind in MESSAGE_TYPES.items() if t != 2148]
    return [*messages, (2148, build(MESSAGE_TYPES[2148], True))]


def envelope(payload_type: int, message: Any, client_msg_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"payloadType": payload_type}
    if client_msg_id is not None:
        out["clientMsgId"] = client_msg_id
    payload = to_builtins(message)
    if payload:
        out["payload"] = payload
    return out


def feedings(data: bytes, seed: int) -> Iterator[tuple[str, list[bytes]]]:
    yield "whole", [data]
    yield "byte by byte", byte_by_byte(data)
    yield "random splits", random_chunks(data, random.Random(seed), max_cuts=200)


def feed(conn: CTraderConnection, chunks: list[bytes]) -> list[Any]:
    events: list[Any] = []
    for chunk in chunks:
        events += conn.receive_data(chunk, 1.0)
    return events


@pytest.fixture
def one_pass_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail when a message reaches the general path's typing: it must have been typed already."""

    def general(*_: Any) -> Any:
        raise AssertionError("the message went the general way")

    monkeypatch.setattr(connection_module, "typed_envelope", general)


def assert_typed(event: Any, payload_type: int, message: Any, client_msg_id: str | None) -> None:
    if isinstance(message, SpotEvent | DepthEvent):
        assert event == message
    elif payload_type in SPECIAL:  # by payload type, whatever the clientMsgId
        assert type(event) is SPECIAL[payload_type]
    else:
        assert type(event) is ServerEvent
        assert (event.payload_type, event.client_msg_id, event.reason) == (
            payload_type,
            client_msg_id,
            None,
        )
        assert type(event.payload) is WirePayload
        assert event.payload == to_builtins(message)  # as sent
        assert event.message == message
        assert type(event.message) is MESSAGE_TYPES[payload_type]


@pytest.mark.usefixtures("one_pass_only")
@pytest.mark.parametrize("with_id", [False, True], ids=["unsolicited", "unknown clientMsgId"])
@pytest.mark.parametrize("kind", TRANSPORTS)
def test_every_payload_type_decodes_typed_in_one_pass(kind: str, with_id: bool) -> None:
    messages = every_message()
    client_msg_id = "not-ours" if with_id else None
    data = wire(kind, *(envelope(t, m, client_msg_id) for t, m in messages))
    for how, chunks in feedings(data, seed=len(data)):
        conn = client(kind)
        events = feed(conn, chunks)
        assert len(events) == len(messages), how
        for event, (payload_type, message) in zip(events, messages, strict=True):
            assert_typed(event, payload_type, message, client_msg_id)
        assert conn.state is CTraderState.OPEN


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_the_general_path_types_what_the_one_pass_path_does_not_read(kind: str) -> None:
    """A numeric ``clientMsgId`` or ``payloadType`` string is read by hand, then typed."""
    messages = every_message()
    sent = []
    for payload_type, message in messages:
        out = envelope(payload_type, message, None)
        out["clientMsgId"] = 7
        out["payloadType"] = str(payload_type)
        sent.append(out)
    events = client(kind).receive_data(wire(kind, *sent), 1.0)
    for event, (payload_type, message) in zip(events, messages, strict=True):
        assert_typed(event, payload_type, message, "7")


@pytest.mark.usefixtures("one_pass_only")
@pytest.mark.parametrize("kind", TRANSPORTS)
def test_an_answer_is_its_requests_typed_response(kind: str) -> None:
    conn = client(kind)
    asked = conn.request(2104, now=0.0)
    (event,) = conn.receive_data(
        wire(kind, {"clientMsgId": asked, "payloadType": 2105, "payload": {"version": "110"}}), 1.0
    )
    assert event == Response(asked, 2105, {"version": "110"}, 2104)
    assert event.message == MESSAGE_TYPES[2105](version="110")


def untypable() -> list[tuple[dict[str, Any], str]]:
    """Messages the models cannot hold, each with a word of the reason it arrives with."""
    execution = {"ctidTraderAccountId": ACCOUNT, "executionType": "x"}
    nested = {
        "ctidTraderAccountId": ACCOUNT,
        "executionType": 2,
        "order": {"orderId": 1, "tradeData": {"symbolId": 1, "volume": 1, "tradeSide": 1}},
    }
    return [
        ({"payloadType": 2999, "payload": {"x": 1}}, "2999"),
        ({"payloadType": 2126, "payload": execution}, "$.executionType"),
        ({"payloadType": 2126, "payload": nested}, "$.order"),  # orderType, orderStatus missing
        ({"payloadType": 2131, "payload": {"ctidTraderAccountId": ACCOUNT}}, "symbolId"),
        ({"payloadType": 2105, "payload": {"version": 110}}, "$.version"),
        ({"payloadType": 2142}, "errorCode"),
    ]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_what_cannot_be_typed_arrives_raw_with_the_reason_and_the_connection_goes_on(
    kind: str,
) -> None:
    cases = untypable()
    spot = {"payloadType": 2131, "payload": SPOT_PAYLOAD}
    sent = [m for message, _ in cases for m in (spot, message)] + [spot]
    data = wire(kind, *sent)
    for how, chunks in feedings(data, seed=7):
        conn = client(kind)
        events = feed(conn, chunks)
        assert events[::2] == [SPOT] * (len(cases) + 1), how  # nothing before or after is lost
        for event, (message, word) in zip(events[1::2], cases, strict=True):
            payload_type = message["payloadType"]
            expected = UnknownMessage if payload_type == 2999 else ServerEvent
            assert type(event) is expected
            assert (event.payload_type, event.payload) == (payload_type, message.get("payload", {}))
            assert type(event.payload) is dict
            assert event.reason is not None
            assert word in event.reason, (word, event.reason)
        assert conn.state is CTraderState.OPEN


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_an_answer_its_model_refuses_still_completes_its_request(kind: str) -> None:
    conn = client(kind)
    asked = conn.request(2104, now=0.0)
    answer = {"clientMsgId": asked, "payloadType": 2105, "payload": {"version": 110}}
    (event,) = conn.receive_data(wire(kind, answer), 1.0)
    assert event == Response(asked, 2105, {"version": 110}, 2104)
    assert conn.pending_requests == 0
    with pytest.raises(ValidationError, match=r"\$\.version"):
        event.message  # noqa: B018


# -- enum values by number or by name --------------------------------------------------------------

BY_NUMBER: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "executionType": 3,
    "order": {
        "orderId": 9001,
        "tradeData": {"symbolId": 1, "volume": 100000, "tradeSide": 2},
        "orderType": 1,
        "orderStatus": 2,
        "timeInForce": 3,
    },
    "isServerEvent": False,
}
BY_NAME: dict[str, Any] = {
    "ctidTraderAccountId": ACCOUNT,
    "executionType": "ORDER_FILLED",
    "order": {
        "orderId": 9001,
        "tradeData": {"symbolId": 1, "volume": 100000, "tradeSide": "SELL"},
        "orderType": "MARKET",
        "orderStatus": "ORDER_STATUS_FILLED",
        "timeInForce": "IMMEDIATE_OR_CANCEL",
    },
    "isServerEvent": False,
}


def test_the_names_used_are_the_members_of_appendix_a() -> None:
    assert ExecutionType.ORDER_FILLED == 3
    assert (TradeSide.SELL, OrderType.MARKET) == (2, 1)
    assert (OrderStatus.ORDER_STATUS_FILLED, TimeInForce.IMMEDIATE_OR_CANCEL) == (2, 3)


def assert_enum_members(message: ExecutionEvent) -> None:
    assert message.execution_type is ExecutionType.ORDER_FILLED
    assert message.order is not None
    assert message.order.order_type is OrderType.MARKET
    assert message.order.order_status is OrderStatus.ORDER_STATUS_FILLED
    assert message.order.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL
    assert message.order.trade_data.trade_side is TradeSide.SELL


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_enum_fields_by_name_and_by_number_decode_equal(kind: str) -> None:
    mixed = {**BY_NAME, "executionType": 3}  # one by number, the rest by name
    sent = [{"payloadType": 2126, "payload": p} for p in (BY_NUMBER, BY_NAME, mixed)]
    data = wire(kind, *sent, {"payloadType": 2131, "payload": SPOT_PAYLOAD})
    for how, chunks in feedings(data, seed=11):
        events = feed(client(kind), chunks)
        assert len(events) == 4, how
        by_number, by_name, by_both, spot = events
        assert spot == SPOT
        assert by_number.message == by_name.message == by_both.message
        for event in (by_number, by_name, by_both):
            assert event.reason is None
            assert_enum_members(event.message)
        assert by_name.payload == BY_NAME  # the payload stays as sent
        assert by_number.payload == BY_NUMBER


def test_enum_names_in_a_live_trendbar_and_in_an_orders_answer() -> None:
    trendbar = {"volume": 1, "period": "H1", "low": 5, "utcTimestampInMinutes": 29_000_000}
    spot = {"payloadType": 2131, "payload": {**SPOT_PAYLOAD, "trendbar": [trendbar]}}
    conn = authorized("websocket")
    order = conn.request(2106, ORDER)
    filled = {"clientMsgId": order, "payloadType": 2126, "payload": BY_NAME}
    first, second = conn.receive_data(wire("websocket", spot, filled), 1.0)
    assert type(first) is SpotEvent
    assert first.trendbar[0].period is TrendbarPeriod.H1
    assert second == Response(order, 2126, BY_NAME, 2106)
    assert_enum_members(second.message)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_wrong_enum_name_arrives_raw_with_the_reason(kind: str) -> None:
    wrong = {**BY_NAME, "order": {**BY_NAME["order"], "orderType": "MARKETT"}}
    lower = {**BY_NAME, "executionType": "order_filled"}  # names are matched exactly
    sent = [{"payloadType": 2126, "payload": p} for p in (wrong, lower, BY_NUMBER)]
    events = client(kind).receive_data(wire(kind, *sent), 1.0)
    assert [type(e) for e in events] == [ServerEvent] * 3
    assert events[0].payload == wrong
    assert "$.order.orderType" in str(events[0].reason)
    assert "$.executionType" in str(events[1].reason)
    assert events[2].reason is None
    with pytest.raises(ValidationError):
        events[0].message  # noqa: B018


def test_typed_payload_reads_names_and_leaves_its_input_alone() -> None:
    copy = loads(dumps(BY_NAME))
    message = typed_payload(2126, copy)
    assert message == typed_payload(2126, BY_NUMBER)
    assert copy == BY_NAME
    assert enum_numbers(BY_NUMBER, ExecutionEvent) is BY_NUMBER  # nothing to change, no copy
    assert enum_numbers(BY_NAME, ExecutionEvent) == BY_NUMBER
    assert enum_numbers([1], ExecutionEvent) == [1]  # not an object: left for the model


def test_encoding_writes_enum_numbers() -> None:
    message = typed_payload(2126, BY_NAME)
    assert msgspec.json.decode(msgspec.json.encode(message)) == BY_NUMBER
    order = NewOrderReq(
        ctid_trader_account_id=ACCOUNT,
        symbol_id=1,
        order_type=OrderType.MARKET,
        trade_side=TradeSide.BUY,
        volume=100_000,
    )
    assert payload_of(order)[1]["orderType"] == 1
    assert type(payload_of(order)[1]["tradeSide"]) is int


@pytest.mark.parametrize("kind", ["websocket", "tcp-length-prefix"])
def test_a_typed_message_whose_payload_is_not_json_as_sent_ends_the_connection(kind: str) -> None:
    """An integer of thousands of digits in a field the model does not have: the one-pass
    decode skips it, the payload read as sent cannot hold it; invalid JSON, as on the general
    path, after the events before it (found by fuzzing)."""
    huge = b'{"payloadType":2148,"payload":{"reason":"r","x":' + b"9" * 5000 + b"}}"
    spot = {"payloadType": 2131, "payload": SPOT_PAYLOAD}
    data = wire(kind, spot, huge, spot)
    for how, chunks in feedings(data, seed=3):
        conn = client(kind)
        events = feed(conn, chunks)
        assert len(events) == 2, (how, events)
        assert events[0] == SPOT
        closed = events[1]
        assert type(closed) is Closed, how
        assert isinstance(closed.error, RemoteProtocolError)
        assert closed.code == (1007 if kind == "websocket" else None)
        assert conn.state is CTraderState.CLOSED
