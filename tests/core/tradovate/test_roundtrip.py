"""A TradovateConnection and a TradovateServerConnection wired back to back."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.jsonlib import convert, dumps_str
from brokerwire.core.tradovate import (
    Chart,
    ClientHeartbeat,
    ClientRequest,
    Closed,
    CloseFrame,
    Dom,
    EntityChanged,
    EntityEventType,
    ErrorResponse,
    Histogram,
    MarketData,
    Quote,
    QuoteEntries,
    QuoteEntry,
    ReplayClock,
    RequestDocument,
    RequestFailed,
    Response,
    ServerHeartbeat,
    Shutdown,
    TradovateConnection,
    TradovateServerConnection,
    TradovateState,
    UnknownEvent,
    event_message,
    response_message,
)
from brokerwire.core.tradovate.market import EndOfHistory
from brokerwire.core.tradovate.models import Fill
from brokerwire.core.transport import TransportState
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.core.tradovate.helpers import connected, frames, state_of, to_client, to_server
from tests.helpers import byte_by_byte, client_frame, feed, random_chunks

QUOTE = {
    "timestamp": "2026-11-21T14:00:00.000Z",
    "contractId": 1,
    "entries": {"Bid": {"price": 1.5, "size": 2}},
}


#: A complete ``fill`` entity (every field its model requires).
FILL: dict[str, Any] = {
    "id": 3,
    "orderId": 210518,
    "contractId": 560901,
    "timestamp": "2026-11-21T14:00:00.000Z",
    "tradeDate": {"year": 2026, "month": 11, "day": 21},
    "action": "Buy",
    "qty": 1,
    "price": 6012.25,
    "active": True,
    "finallyPaired": 0,
}


def test_authorize_request_response() -> None:
    client, server = connected()
    auth_id = client.authorize("s3cret-token")
    (request,) = to_server(client, server)
    assert request == ClientRequest(RequestDocument("authorize", auth_id, "", "s3cret-token"))
    assert "s3cret-token" not in repr(request)
    server.respond(auth_id)
    assert to_client(server, client) == [Response(auth_id, 200, None, "authorize")]
    assert client.state is TradovateState.AUTHORIZED

    find_id = client.request("contract/find", {"name": "ESZ6"})
    place_id = client.request(
        "order/placeorder", body={"accountId": 1, "action": "Buy", "orderQty": 1}
    )
    first, second = to_server(client, server)
    assert first.request == RequestDocument("contract/find", find_id, "name=ESZ6", "")
    assert second.request.json_body() == {"accountId": 1, "action": "Buy", "orderQty": 1}
    server.respond(place_id, 400, "Order rejected")
    server.respond(find_id, 200, {"id": 7, "name": "ESZ6"})
    assert to_client(server, client) == [
        ErrorResponse(place_id, 400, "Order rejected", "order/placeorder"),
        Response(find_id, 200, {"id": 7, "name": "ESZ6"}, "contract/find"),
    ]


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        (
            "md",
            {"quotes": [QUOTE]},
            MarketData(
                [
                    Quote(
                        1,
                        "2026-11-21T14:00:00.000Z",
                        QuoteEntries(bid=QuoteEntry(1.5, 2.0)),
                    )
                ],
                [],
                [],
            ),
        ),
        (
            "md",
            {"doms": [{"contractId": 1, "bids": [], "offers": []}]},
            MarketData([], [Dom(1, None, [], [])], []),
        ),
        (
            "md",
            {"histograms": [{"contractId": 1, "items": {}}]},
            MarketData([], [], [Histogram(1, items={})]),
        ),
        (
            "props",
            {"entityType": "fill", "eventType": "Created", "entity": FILL},
            EntityChanged("fill", EntityEventType.CREATED, convert(FILL, Fill)),
        ),
        ("chart", {"charts": [{"id": 31, "eoh": True}]}, Chart([EndOfHistory(31)])),
        (
            "clock",
            dumps_str({"t": "2026-11-21T14:00:00.000Z", "s": 400}),
            ReplayClock("2026-11-21T14:00:00.000Z", 400),
        ),
        ("shutdown", {"reasonCode": "Maintenance"}, Shutdown("Maintenance", None)),
        ("future", [1, 2], UnknownEvent("future", [1, 2], {"e": "future", "d": [1, 2]})),
    ],
)
def test_every_event_kind(kind: str, data: Any, expected: Any) -> None:
    client, server = connected()
    server.send_event(kind, data)
    assert to_client(server, client) == [expected]


def test_a_batch_keeps_its_order() -> None:
    client, server = connected()
    request_id = client.request("account/list")
    to_server(client, server)
    server.send_messages(
        [
            event_message("md", {"quotes": [QUOTE]}),
            response_message(request_id, 200, []),
            event_message("props", {"entityType": "fill", "eventType": "Updated", "entity": FILL}),
        ]
    )
    assert [type(e) for e in to_client(server, client)] == [MarketData, Response, EntityChanged]


def test_heartbeats_both_ways() -> None:
    client, server = connected(server_kwargs={"heartbeat_interval": 2.5})
    client.handle_timer(2.5)
    assert to_server(client, server, 2.5) == [ClientHeartbeat()]
    assert server.next_deadline() == 2.5
    server.handle_timer(2.5)
    assert to_client(server, client, 2.5) == [ServerHeartbeat()]


def test_server_sends_no_heartbeat_while_it_streams() -> None:
    client, server = connected(server_kwargs={"heartbeat_interval": 2.5})
    heartbeats = 0
    for step in range(1, 51):  # a quote every 100 ms for 5 s
        now = step / 10
        deadline = server.next_deadline()
        if deadline is not None and deadline <= now:
            server.handle_timer(now)
        server.send_event("md", {"quotes": [QUOTE]})
        heartbeats += sum(isinstance(e, ServerHeartbeat) for e in to_client(server, client, now))
    assert heartbeats == 0
    # The last quote went out at 5.0, inside the interval that ends at 7.5; the first fully
    # idle interval ends at 10.0, and that is when the heartbeat resumes.
    resumed_at = []
    for now in (6.0, 7.5, 9.9, 10.0, 11.0):
        if (server.next_deadline() or 1e9) <= now:
            server.handle_timer(now)
        if any(isinstance(e, ServerHeartbeat) for e in to_client(server, client, now)):
            resumed_at.append(now)
    assert resumed_at == [10.0]


def test_server_close_frame_then_websocket_close() -> None:
    client, server = connected()
    pending = client.request("account/list")
    to_server(client, server)
    server.send_close_frame(3000, "Go away!")
    assert to_client(server, client) == [CloseFrame(3000, "Go away!")]
    assert client.state is TradovateState.CLOSING
    assert to_server(client, server) == [Closed(1000, "")]
    assert server.state is TransportState.CLOSED
    assert to_client(server, client) == [
        RequestFailed(pending, "account/list", "the connection closed (code 1000)"),
        Closed(1000, ""),
    ]
    assert state_of(client) is TradovateState.CLOSED


@pytest.mark.parametrize("closer", ["client", "server"])
def test_websocket_close_from_either_side(closer: str) -> None:
    client, server = connected()
    if closer == "client":
        client.close(1000, "bye")
        assert to_server(client, server) == [Closed(1000, "bye")]
        assert to_client(server, client) == [Closed(1000, "bye")]
    else:
        server.close(1001, "restarting")
        assert to_client(server, client) == [Closed(1001, "restarting")]
        assert to_server(client, server) == [Closed(1001, "restarting")]
    assert client.state is TradovateState.CLOSED
    assert server.state is TransportState.CLOSED


def test_server_drops_a_client_that_sends_nothing() -> None:
    client, server = connected(
        client_kwargs={"heartbeat_interval": 100.0},
        server_kwargs={"idle_timeout": 10.0, "heartbeat_interval": None},
    )
    assert server.next_deadline() == 10.0
    assert server.handle_timer(10.0) == [Closed(1001, "the client sent nothing for 10 s")]
    events = to_client(server, client, 10.0)
    assert events == [Closed(1001, "idle timeout")]


@pytest.mark.parametrize("idle_timeout", [0.0, -1.0, math.nan, math.inf])
def test_server_idle_timeout_must_be_a_duration(idle_timeout: float) -> None:
    with pytest.raises(LocalProtocolError, match="idle_timeout"):
        TradovateServerConnection(idle_timeout=idle_timeout)


def test_server_max_fragments_reaches_the_websocket() -> None:
    server = TradovateServerConnection(max_fragments=2)
    ws_client = WebSocketConnection(Role.CLIENT, host="h")
    server.receive_data(ws_client.data_to_send(), 0.0)
    server.accept()
    three = (
        client_frame(0x1, b"[", fin=False)
        + client_frame(0x0, b"", fin=False)
        + client_frame(0x0, b"]")
    )
    closed = server.receive_data(three, 1.0)[-1]
    assert type(closed) is Closed
    assert closed.code == 1009
    assert "more than 2 fragments" in closed.reason


def test_server_refuses_a_document_that_is_not_a_request() -> None:
    server = TradovateServerConnection()
    ws_client = WebSocketConnection(Role.CLIENT, host="h")
    server.receive_data(ws_client.data_to_send(), 0.0)
    server.accept()
    ws_client.receive_data(server.data_to_send(), 0.0)
    events = server.receive_data(
        client_frame(0x1, b"[]") + client_frame(0x1, b"not\na request"), 1.0
    )
    assert events[0] == ClientHeartbeat()
    assert isinstance(events[1], Closed)
    assert events[1].code == 1002
    assert events[1].error is not None
    assert "request id" in events[1].error.message


def test_server_rejects_an_upgrade() -> None:
    client = TradovateConnection("h")
    server = TradovateServerConnection()
    server.receive_data(client.data_to_send(), 0.0)
    server.reject(401, b"Invalid access token")
    events = to_client(server, client)
    assert [type(e).__name__ for e in events] == ["ConnectionRejected", "Closed"]
    assert events[0].status_code == 401


# -- chunk-split invariance over a long mixed stream ----------------------------------------


def mixed_stream(rng: random.Random, request_ids: list[int]) -> bytes:
    texts = ["o"]
    pending = list(request_ids)
    for i in range(1500):
        roll = rng.random()
        if roll < 0.05:
            texts.append("h")
        elif roll < 0.15 and pending:
            texts.append(
                "a" + dumps_str([response_message(pending.pop(), rng.choice([200, 404]), {"n": i})])
            )
        elif roll < 0.25:
            texts.append(
                "a"
                + dumps_str(
                    [
                        event_message(
                            "props",
                            {
                                "entityType": "order",
                                "eventType": "Updated",
                                "entity": {"id": i, "text": "é" * rng.randrange(5)},
                            },
                        )
                    ]
                )
            )
        elif roll < 0.3:
            texts.append(
                "a"
                + dumps_str(
                    [
                        event_message("chart", {"charts": [{"id": 1, "bars": [bar(i)]}]}),
                        event_message("md", {"quotes": [QUOTE] * rng.randrange(1, 4)}),
                    ]
                )
            )
        else:
            quote = dict(QUOTE, contractId=i, entries={"Trade": {"price": i / 4, "size": 1}})
            texts.append("a" + dumps_str([event_message("md", {"quotes": [quote]})]))
    return frames(*texts)


def bar(close: int) -> dict[str, Any]:
    return {
        "timestamp": f"2026-12-0{1 + close % 9}T10:00Z",
        "open": 1,
        "high": 9,
        "low": 0,
        "close": close,
    }


def decode_stream(chunks: list[bytes]) -> list[Any]:
    conn = TradovateConnection(already_open=True, watchdog_timeout=None)
    conn.receive_data(chunks[0], 0.0)
    for _ in range(40):
        conn.request("contract/find")
    return feed(conn.receive_data, chunks[1:], 0.5)


def test_whole_byte_by_byte_and_random_splits_decode_the_same() -> None:
    rng = random.Random(1121)
    data = mixed_stream(rng, list(range(1, 41)))
    opened = frames("o")
    body = data[len(opened) :]
    whole = decode_stream([opened, body])
    assert len(whole) > 1500
    assert sum(isinstance(e, Response | ErrorResponse) for e in whole) == 40
    for _ in range(5):
        assert decode_stream([opened, *random_chunks(body, rng, max_cuts=3000)]) == whole
    assert decode_stream([opened, *byte_by_byte(body[:20_000])]) == decode_stream(
        [opened, body[:20_000]]
    )


def test_decoding_a_captured_stream_with_its_http_head() -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    conn = TradovateConnection(already_open=True)
    events = feed(conn.receive_data, byte_by_byte(head + frames("o", "h", 'a[{"s":200,"i":1}]')))
    assert [type(e).__name__ for e in events] == ["Opened", "ServerHeartbeat", "UnmatchedResponse"]
