"""The typed predicates of the connection contract: ``opened``, ``closing``, ``closed``.

Whoever drives a connection asks these instead of reading its ``state`` enum. Each connection
is walked through its life here, and at each step exactly the predicate that fits holds.
"""

from __future__ import annotations

from brokerwire.core.ctrader import CTraderConnection, CTraderServerConnection
from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.tradovate import TradovateConnection, TradovateServerConnection
from brokerwire.core.transport import Connection
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.core.tradovate.helpers import connected, reply, to_client, to_server


def predicates(conn: Connection) -> tuple[bool, bool, bool]:
    return conn.opened, conn.closing, conn.closed


HANDSHAKE = (False, False, False)
OPENED = (True, False, False)
CLOSING = (False, True, False)
CLOSED = (False, False, True)


def test_tradovate_client_and_server_through_their_lives() -> None:
    client = TradovateConnection("demo.broker.test")
    server = TradovateServerConnection()
    assert predicates(client) == HANDSHAKE
    assert predicates(server) == HANDSHAKE
    server.receive_data(client.data_to_send(), 0.0)
    server.accept(now=0.0)
    assert predicates(server) == OPENED
    assert predicates(client) == HANDSHAKE  # the upgrade answer and "o" are not read yet
    to_client(server, client)
    assert predicates(client) == OPENED
    assert not client.authorized
    request_id = client.authorize("token", now=0.0)
    to_server(client, server)
    server.respond(request_id, 200, {"accessToken": "token"})
    to_client(server, client)
    assert client.authorized
    assert predicates(client) == OPENED
    client.close(now=1.0)
    assert predicates(client) == CLOSING
    assert not client.authorized
    to_server(client, server)
    assert predicates(server) == CLOSED
    to_client(server, client)
    assert predicates(client) == CLOSED


def test_tradovate_server_that_closes_first_is_closing_until_the_client_answers() -> None:
    client, server = connected()
    server.close(now=0.0)
    assert predicates(server) == CLOSING
    to_client(server, client)
    to_server(client, server)
    assert predicates(server) == CLOSED


def test_a_tradovate_client_closed_during_its_handshake_is_closed_at_once() -> None:
    client = TradovateConnection("demo.broker.test")
    client.close(now=0.0)
    assert predicates(client) == CLOSED


def test_a_tradovate_client_fed_bad_bytes_is_closed() -> None:
    client, _ = connected()
    client.receive_data(b"\x82\x01x", 0.0)  # a binary frame: Tradovate speaks text only
    assert predicates(client) == CLOSED
    assert reply(1)  # the helpers stay importable for the pair tests


def ctrader_pair(kind: str) -> tuple[CTraderConnection, CTraderServerConnection]:
    if kind == "websocket":
        client = CTraderConnection.websocket("demo.broker.test")
        server = CTraderServerConnection.websocket()
        server.receive_data(client.data_to_send(), 0.0)
        server.accept(now=0.0)
        assert predicates(client) == HANDSHAKE
        client.receive_data(server.data_to_send(), 0.0)
    else:
        client = CTraderConnection.tcp(framing=Framing.LENGTH_PREFIX)
        server = CTraderServerConnection.tcp()
    return client, server


def test_ctrader_client_and_server_through_their_lives() -> None:
    for kind in ("websocket", "tcp"):
        client, server = ctrader_pair(kind)
        assert predicates(client) == OPENED, kind
        assert predicates(server) == OPENED, kind
        assert not client.app_authorized
        request_id = client.authorize_application("id", "secret", now=0.0)
        (message,) = server.receive_data(client.data_to_send(), 0.0)
        server.send(2101, {}, message.envelope.client_msg_id)
        client.receive_data(server.data_to_send(), 0.0)
        assert client.app_authorized, (kind, request_id)
        assert predicates(client) == OPENED
        client.close(now=1.0)
        assert predicates(client) == CLOSING, kind
        if kind == "websocket":
            server.receive_data(client.data_to_send(), 1.0)
            client.receive_data(server.data_to_send(), 1.0)
        else:
            client.handle_timer(1.0)  # TCP has no closing handshake: over at the next timer
            server.receive_data(b"", 1.0)
        assert predicates(client) == CLOSED, kind
        assert predicates(server) == CLOSED, kind


def test_transports_through_their_lives() -> None:
    ws_client = WebSocketConnection(Role.CLIENT, host="demo.broker.test")
    ws_server = WebSocketConnection(Role.SERVER)
    assert predicates(ws_client) == HANDSHAKE
    ws_server.receive_data(ws_client.data_to_send(), 0.0)
    ws_server.accept()
    ws_client.receive_data(ws_server.data_to_send(), 0.0)
    assert predicates(ws_client) == OPENED
    assert predicates(ws_server) == OPENED
    ws_client.close()
    assert predicates(ws_client) == CLOSING
    ws_server.receive_data(ws_client.data_to_send(), 0.0)
    assert predicates(ws_server) == CLOSED
    ws_client.receive_data(ws_server.data_to_send(), 0.0)
    assert predicates(ws_client) == CLOSED

    tcp = TcpConnection(Framing.LENGTH_PREFIX)
    assert predicates(tcp) == OPENED
    tcp.receive_data(b"", 0.0)
    assert predicates(tcp) == CLOSED
