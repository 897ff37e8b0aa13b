"""A client and a server wired back to back: every message kind, pings and closes both ways."""

from __future__ import annotations

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.transport import BinaryMessage, Closed, TextMessage, TransportState
from brokerwire.core.websocket import Ping, Pong
from brokerwire.core.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT
from tests.helpers import client_frame, connected_pair, pump, server_frame

MESSAGES = [
    "",
    "o",
    'a[{"s":200,"i":2}]',
    "é ü 漢字 🚀" * 10,
    "x" * 125,
    "y" * 126,  # first size that needs the 2-byte length
    "z" * 65535,
    "w" * 65536,  # first size that needs the 8-byte length
]


@pytest.mark.parametrize("text", MESSAGES, ids=lambda t: f"{len(t)}chars")
def test_text_both_ways(text: str) -> None:
    client, server = connected_pair()
    client.send_text(text)
    assert pump(client, server) == [TextMessage(text)]
    server.send_text(text)
    assert pump(server, client) == [TextMessage(text)]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_binary_both_ways(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    client, server = connected_pair()
    client.send_binary(payload)
    assert pump(client, server) == [BinaryMessage(payload)]
    server.send_binary(payload)
    assert pump(server, client) == [BinaryMessage(payload)]


def test_text_sent_as_utf8_bytes_arrives_as_text() -> None:
    client, server = connected_pair()
    client.send_text(b'{"payloadType":51}')
    assert pump(client, server) == [TextMessage('{"payloadType":51}')]


def test_many_messages_in_one_read_keep_their_order() -> None:
    client, server = connected_pair()
    for i in range(500):
        server.send_text(f"message {i}")
    assert pump(server, client) == [TextMessage(f"message {i}") for i in range(500)]


def test_client_frames_are_masked_and_server_frames_are_not() -> None:
    client, server = connected_pair()
    client.send_text("hello")
    sent = client.data_to_send()
    assert sent[1] & 0x80, "client frames must carry the mask bit"
    assert b"hello" not in sent
    server.send_text("hello")
    assert server.data_to_send() == b"\x81\x05hello"


def test_fragmented_text_is_reassembled() -> None:
    _, server = connected_pair()
    text = "fragmented é message"
    encoded = text.encode()
    # Split inside the two-byte "é" so each fragment alone is not valid UTF-8.
    cut = encoded.index("é".encode()) + 1
    data = (
        client_frame(OP_TEXT, encoded[:cut], fin=False)
        + client_frame(OP_PING, b"in between")
        + client_frame(OP_CONTINUATION, encoded[cut:-3], fin=False)
        + client_frame(OP_CONTINUATION, encoded[-3:])
    )
    assert server.receive_data(data, 0.0) == [Ping(b"in between"), TextMessage(text)]


def test_fragmented_binary_is_reassembled() -> None:
    client, _ = connected_pair()
    data = (
        server_frame(OP_BINARY, b"\x00\x01", fin=False)
        + server_frame(OP_CONTINUATION, b"", fin=False)
        + server_frame(OP_CONTINUATION, b"\x02")
    )
    assert client.receive_data(data, 0.0) == [BinaryMessage(b"\x00\x01\x02")]


@pytest.mark.parametrize("pinger", ["client", "server"])
def test_ping_is_answered_with_a_pong_automatically(pinger: str) -> None:
    client, server = connected_pair()
    a, b = (client, server) if pinger == "client" else (server, client)
    a.ping(b"are you there")
    assert pump(a, b) == [Ping(b"are you there")]
    assert pump(b, a) == [Pong(b"are you there")]


def test_ping_payload_limit_is_the_callers_mistake() -> None:
    client, _ = connected_pair()
    with pytest.raises(LocalProtocolError, match="125 bytes"):
        client.ping(b"x" * 126)


@pytest.mark.parametrize("closer", ["client", "server"])
def test_close_handshake_started_by_either_side(closer: str) -> None:
    client, server = connected_pair()
    a, b = (client, server) if closer == "client" else (server, client)
    a.close(4000, "done for today")
    assert a.state is TransportState.CLOSING
    assert pump(a, b) == [Closed(4000, "done for today")]
    assert b.state is TransportState.CLOSED
    assert pump(b, a) == [Closed(4000, "done for today")]
    assert a.state is TransportState.CLOSED
    assert a.data_to_send() == b""
    assert b.data_to_send() == b""


def test_messages_sent_before_the_close_still_arrive() -> None:
    client, server = connected_pair()
    server.send_text("last quote")
    server.close()
    client.send_text("crossing message")
    assert pump(server, client) == [TextMessage("last quote"), Closed(1000, "")]
    # The client's message crossed the server's close frame; RFC 6455 lets it be delivered.
    assert pump(client, server) == [TextMessage("crossing message"), Closed(1000, "")]


def test_close_without_status_code_is_reported_as_1005_and_echoed_empty() -> None:
    client, _ = connected_pair()
    events = client.receive_data(server_frame(0x8, b""), 0.0)
    assert events == [Closed(1005, "")]
    echoed = client.data_to_send()
    assert echoed[0] == 0x88, "a close frame"
    assert echoed[1] == 0x80, "empty and masked"
    assert len(echoed) == 6


def test_long_close_reason_is_cut_to_fit_a_control_frame() -> None:
    client, server = connected_pair()
    client.close(1000, "é" * 100)
    (closed,) = pump(client, server)
    assert isinstance(closed, Closed)
    assert closed.reason == "é" * 61  # 123 bytes of room; a 2-byte character may not be split


def test_sending_after_close_is_the_callers_mistake() -> None:
    client, server = connected_pair()
    client.close()
    with pytest.raises(LocalProtocolError, match="closing"):
        client.send_text("too late")
    with pytest.raises(LocalProtocolError, match="already closing"):
        client.close()
    pump(client, server)
    pump(server, client)
    for action in (lambda: client.send_binary(b"x"), client.ping, client.close):
        with pytest.raises(LocalProtocolError, match="closed"):
            action()


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_invalid_close_codes_are_refused(code: int) -> None:
    client, _ = connected_pair()
    with pytest.raises(LocalProtocolError, match=str(code)):
        client.close(code)
    assert client.state is TransportState.OPEN


def test_data_after_closed_is_ignored() -> None:
    client, server = connected_pair()
    server.close()
    pump(server, client)
    assert client.receive_data(server_frame(OP_TEXT, b"late"), 1.0) == []
    assert client.receive_data(b"", 1.0) == []


def test_fail_from_the_protocol_above_closes_at_once() -> None:
    client, server = connected_pair()
    assert client.fail(1007, "the message held invalid JSON") == 1007
    assert client.state is TransportState.CLOSED
    assert client.next_deadline() is None
    assert pump(client, server) == [Closed(1007, "the message held invalid JSON")]
    with pytest.raises(LocalProtocolError, match="reserved"):
        server.fail(1006, "1006 is only ever reported, never sent")
