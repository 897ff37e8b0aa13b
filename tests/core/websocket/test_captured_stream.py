"""Starting past the handshake, as ``brokerwire decode`` does with captured traffic."""

from __future__ import annotations

import pytest

from brokerwire.core.transport import TextMessage
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket.frames import OP_TEXT
from tests.helpers import byte_by_byte, client_frame, feed, only_closed, server_frame

HEAD = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)
FRAMES = server_frame(OP_TEXT, b"o") + server_frame(OP_TEXT, b'a[{"s":200,"i":1}]')
EXPECTED = [TextMessage("o"), TextMessage('a[{"s":200,"i":1}]')]


@pytest.mark.parametrize("with_head", [True, False])
@pytest.mark.parametrize("split", ["whole", "byte-by-byte"])
def test_response_head_is_skipped_when_present(with_head: bool, split: str) -> None:
    data = (HEAD if with_head else b"") + FRAMES
    chunks = [data] if split == "whole" else byte_by_byte(data)
    conn = WebSocketConnection(Role.CLIENT, already_open=True)
    assert feed(conn.receive_data, chunks) == EXPECTED


def test_request_head_is_skipped_in_the_server_role() -> None:
    head = b"GET /v1/websocket HTTP/1.1\r\nHost: h\r\n\r\n"
    conn = WebSocketConnection(Role.SERVER, already_open=True)
    events = feed(conn.receive_data, byte_by_byte(head + client_frame(OP_TEXT, b"[]")))
    assert events == [TextMessage("[]")]


def test_an_endless_head_is_an_error() -> None:
    conn = WebSocketConnection(Role.CLIENT, already_open=True)
    events = conn.receive_data(b"HTTP/1.1 101 " + b"x" * 70_000, 0.0)
    closed = only_closed(events)
    assert closed.error is not None
    assert "HTTP head over" in closed.error.message


def test_a_stream_that_merely_starts_like_http_is_not_mistaken_for_one() -> None:
    # 'H' (0x48) as a first frame byte is a protocol error in its own right (RSV bit set),
    # and it must be reported as such, not swallowed as a head.
    conn = WebSocketConnection(Role.CLIENT, already_open=True)
    closed = only_closed(conn.receive_data(b"HTTX/1.1", 0.0))
    assert closed.code == 1002
