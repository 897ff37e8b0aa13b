"""Client and server connections round-trip the whole session flow, on every transport."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from brokerwire.core.ctrader import (
    ClientMessage,
    Closed,
    CTraderConnection,
    CTraderServerConnection,
    CTraderState,
    ErrorResponse,
    FollowUp,
    Heartbeat,
    Opened,
    Response,
    SpotEvent,
)
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tcp import Framing
from brokerwire.core.transport import TransportState
from brokerwire.core.websocket.frames import OP_CONTINUATION, OP_TEXT
from tests.core.ctrader.helpers import TRANSPORTS, client, wire
from tests.helpers import byte_by_byte, client_frame, feed, random_chunks

ACCOUNT = 5_000_001


def pair(kind: str, **server_options: Any) -> tuple[CTraderConnection, CTraderServerConnection]:
    server_options.setdefault("heartbeat_interval", 30.0)
    if kind == "websocket":
        conn = CTraderConnection.websocket("demo.ctraderapi.com", target="/")
        server = CTraderServerConnection.websocket(**server_options)
        (request,) = server.receive_data(conn.data_to_send(), 0.0)
        assert type(request).__name__ == "ConnectionRequest"
        assert server.accept(now=0.0) == []
        assert conn.receive_data(server.data_to_send(), 0.0) == [Opened()]
        return conn, server
    framing = Framing.LENGTH_PREFIX if kind == "tcp-length-prefix" else Framing.JSON_STREAM
    return CTraderConnection.tcp(framing=framing), CTraderServerConnection.tcp(**server_options)


def to_server(
    conn: CTraderConnection, server: CTraderServerConnection, now: float = 0.0
) -> list[Any]:
    data = conn.data_to_send()
    return server.receive_data(data, now) if data else []


def to_client(
    server: CTraderServerConnection, conn: CTraderConnection, now: float = 0.0
) -> list[Any]:
    data = server.data_to_send()
    return conn.receive_data(data, now) if data else []


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_whole_session_flow(kind: str) -> None:
    conn, server = pair(kind)
    app = conn.authorize_application("client-id", "client-secret", now=0.0)
    (message,) = to_server(conn, server)
    assert isinstance(message, ClientMessage)
    assert message.envelope.payload == {"clientId": "client-id", "clientSecret": "client-secret"}
    assert "client-secret" not in repr(message)
    server.send(2101, None, message.envelope.client_msg_id)
    assert to_client(server, conn) == [Response(app, 2101, {}, 2100)]

    listing = conn.get_accounts("token")
    (message,) = to_server(conn, server)
    server.send(
        2150,
        {"accessToken": "token", "ctidTraderAccount": [{"ctidTraderAccountId": ACCOUNT}]},
        message.envelope.client_msg_id,
    )
    (accounts,) = to_client(server, conn)
    assert accounts.client_msg_id == listing

    auth = conn.authorize_account(ACCOUNT, "token")
    (message,) = to_server(conn, server)
    server.send(2103, {"ctidTraderAccountId": ACCOUNT}, message.envelope.client_msg_id)
    assert to_client(server, conn) == [Response(auth, 2103, {"ctidTraderAccountId": ACCOUNT}, 2102)]
    assert conn.authorized_accounts == {ACCOUNT}

    spots = conn.request(2127, {"ctidTraderAccountId": ACCOUNT, "symbolId": [1]})
    (message,) = to_server(conn, server)
    server.send(2128, {"ctidTraderAccountId": ACCOUNT}, message.envelope.client_msg_id)
    for bid in (108512, 108513):
        server.send(
            2131, {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "bid": bid, "ask": bid + 2}
        )
    events = to_client(server, conn)
    assert events[0] == Response(spots, 2128, {"ctidTraderAccountId": ACCOUNT}, 2127)
    assert [e.bid for e in events[1:]] == [108512, 108513]

    order = conn.request(
        2106,
        {
            "ctidTraderAccountId": ACCOUNT,
            "symbolId": 1,
            "orderType": 1,
            "tradeSide": 1,
            "volume": 1000,
        },
    )
    (message,) = to_server(conn, server)
    order_id = message.envelope.client_msg_id
    server.send(2126, {"ctidTraderAccountId": ACCOUNT, "executionType": 2}, order_id)
    server.send(2126, {"ctidTraderAccountId": ACCOUNT, "executionType": 3}, order_id)
    events = to_client(server, conn)
    assert [type(e) for e in events] == [Response, FollowUp]
    assert events[0].client_msg_id == order

    bad = conn.request(
        2106,
        {
            "ctidTraderAccountId": ACCOUNT,
            "symbolId": 1,
            "orderType": 1,
            "tradeSide": 1,
            "volume": 0,
        },
    )
    (message,) = to_server(conn, server)
    server.send_error(
        message.envelope.client_msg_id,
        "TRADING_BAD_VOLUME",
        "Invalid volume",
        payload_type=2132,
        ctidTraderAccountId=ACCOUNT,
    )
    (error,) = to_client(server, conn)
    assert isinstance(error, ErrorResponse)
    assert (error.client_msg_id, error.error_code, error.description) == (
        bad,
        "TRADING_BAD_VOLUME",
        "Invalid volume",
    )

    conn.send_heartbeat()
    (beat,) = to_server(conn, server)
    assert beat.envelope.payload_type == 51
    assert server.next_deadline() == 30.0
    server.handle_timer(30.0)  # the server sent answers during that interval: no heartbeat
    assert to_client(server, conn, 30.0) == []
    assert server.next_deadline() == 60.0
    server.handle_timer(60.0)
    assert to_client(server, conn, 60.0) == [Heartbeat()]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_close_from_the_client(kind: str) -> None:
    conn, server = pair(kind)
    conn.authorize_application("a", "b", now=0.0)
    to_server(conn, server)
    conn.close(now=1.0)
    if kind == "websocket":
        assert to_server(conn, server, 1.0) == [Closed(1000, "")]
        events = to_client(server, conn, 1.0)
    else:
        events = conn.handle_timer(1.0)
        assert server.receive_data(b"", 1.0) == [Closed(None, "the peer closed the connection")]
    assert [type(e).__name__ for e in events] == ["RequestFailed", "Closed"]
    assert conn.state is CTraderState.CLOSED
    assert server.state is TransportState.CLOSED


def test_server_answers_in_the_clients_framing() -> None:
    for framing in Framing:
        conn = CTraderConnection.tcp(framing=framing)
        server = CTraderServerConnection.tcp()
        request = conn.request(2104, now=0.0)
        (message,) = to_server(conn, server)
        server.send(2105, {"version": "99"}, message.envelope.client_msg_id)
        data = server.data_to_send()
        assert data.startswith(b"{") == (framing is Framing.JSON_STREAM)
        assert conn.receive_data(data, 0.0) == [Response(request, 2105, {"version": "99"}, 2104)]


def test_server_idle_timeout() -> None:
    conn, server = pair("websocket", idle_timeout=30.0)
    assert server.next_deadline() == 30.0
    assert server.handle_timer(30.0) == [Closed(1001, "the client sent nothing for 30 s")]
    assert to_client(server, conn, 30.0) == [Closed(1001, "idle timeout")]


@pytest.mark.parametrize("idle_timeout", [0.0, -1.0, math.nan, math.inf])
def test_server_idle_timeout_must_be_a_duration(idle_timeout: float) -> None:
    with pytest.raises(LocalProtocolError, match="idle_timeout"):
        CTraderServerConnection.tcp(idle_timeout=idle_timeout)
    with pytest.raises(LocalProtocolError, match="idle_timeout"):
        CTraderServerConnection.websocket(idle_timeout=idle_timeout)


def test_server_max_fragments_reaches_the_websocket() -> None:
    server_over_ws = CTraderServerConnection.websocket(max_fragments=2)
    request = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    server_over_ws.receive_data(request, 0.0)
    server_over_ws.accept(now=0.0)
    three = (
        client_frame(OP_TEXT, b'{"payloadType"', fin=False)
        + client_frame(OP_CONTINUATION, b":", fin=False)
        + client_frame(OP_CONTINUATION, b"51}")
    )
    closed = server_over_ws.receive_data(three, 1.0)[-1]
    assert type(closed) is Closed
    assert closed.code == 1009
    assert "more than 2 fragments" in closed.reason


# -- chunk-split invariance on every transport ----------------------------------------------------


def stream(kind: str, rng: random.Random) -> bytes:
    messages: list[Any] = []
    for i in range(800):
        roll = rng.random()
        if roll < 0.05:
            messages.append({"payloadType": 51})
        elif roll < 0.1:
            messages.append(
                {
                    "payloadType": 2155,
                    "payload": {
                        "ctidTraderAccountId": 1,
                        "symbolId": 1,
                        "newQuotes": [{"id": i, "size": 100, "bid": 108000}],
                    },
                }
            )
        elif roll < 0.12:
            messages.append(
                {"payloadType": 2189, "payload": {"text": 'é {} \\"' * rng.randrange(4)}}
            )
        else:
            messages.append(
                {
                    "payloadType": 2131,
                    "payload": {
                        "ctidTraderAccountId": 1,
                        "symbolId": i % 7,
                        "bid": 108000 + i,
                        "ask": 108002 + i,
                    },
                }
            )
    return wire(kind, *messages)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_whole_byte_by_byte_and_random_splits_agree(kind: str) -> None:
    rng = random.Random(2131)
    data = stream(kind, rng)
    whole = client(kind).receive_data(data, 0.0)
    assert len(whole) == 800
    assert sum(isinstance(e, SpotEvent) for e in whole) > 600
    for _ in range(5):
        assert feed(client(kind).receive_data, random_chunks(data, rng, max_cuts=2000)) == whole
    assert feed(client(kind).receive_data, byte_by_byte(data[:8000])) == client(kind).receive_data(
        data[:8000], 0.0
    )


@pytest.mark.parametrize("kind", ["tcp-length-prefix", "tcp-json-stream"])
def test_tcp_framing_is_recognised_whatever_this_side_sends(kind: str) -> None:
    data = stream(kind, random.Random(1))
    expected = client(kind).receive_data(data, 0.0)
    for sends in Framing:
        conn = CTraderConnection.tcp(framing=sends)
        assert feed(conn.receive_data, byte_by_byte(data[:3000])) == client(kind).receive_data(
            data[:3000], 0.0
        )
        assert (
            conn.receive_data(data[3000:], 0.0)
            == expected[len(feed(client(kind).receive_data, [data[:3000]])) :]
        )
