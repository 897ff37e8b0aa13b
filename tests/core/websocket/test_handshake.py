"""The opening handshake, both roles: what is sent, accepted, refused and reported."""

from __future__ import annotations

import base64
import hashlib

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.transport import Closed, TextMessage, TransportState
from brokerwire.core.websocket import (
    ConnectionAccepted,
    ConnectionRejected,
    ConnectionRequest,
    Role,
    WebSocketConnection,
)
from brokerwire.core.websocket.frames import OP_TEXT
from tests.helpers import (
    byte_by_byte,
    client_frame,
    connected_pair,
    feed,
    only_closed,
    server_frame,
)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_for(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())  # noqa: S324 - RFC 6455 mandates SHA-1


def client_and_key(**kwargs: object) -> tuple[WebSocketConnection, bytes, bytes]:
    client = WebSocketConnection(
        Role.CLIENT, host="md.broker.test", target="/v1/websocket", **kwargs
    )  # type: ignore[arg-type]
    request = client.data_to_send()
    key = next(
        line.split(b": ", 1)[1]
        for line in request.split(b"\r\n")
        if line.startswith(b"Sec-WebSocket-Key")
    )
    return client, request, key


def response_101(key: bytes, *extra: bytes) -> bytes:
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept_for(key),
        *extra,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_client_request_is_a_valid_upgrade() -> None:
    _, request, key = client_and_key(
        subprotocols=["json"],
        extra_headers=[("Origin", "https://app.test"), ("Authorization", "Bearer s3cret")],
    )
    head = request.split(b"\r\n")
    assert head[0] == b"GET /v1/websocket HTTP/1.1"
    assert b"Host: md.broker.test" in head
    assert b"Upgrade: websocket" in head
    assert b"Connection: Upgrade" in head
    assert b"Sec-WebSocket-Version: 13" in head
    assert b"Sec-WebSocket-Protocol: json" in head
    assert b"Origin: https://app.test" in head
    assert b"Authorization: Bearer s3cret" in head
    assert len(base64.b64decode(key)) == 16
    assert request.endswith(b"\r\n\r\n")


def test_accepted_by_a_server_byte_by_byte_with_frames_in_the_same_read() -> None:
    client, _, key = client_and_key()
    data = response_101(key) + server_frame(OP_TEXT, b"o")
    events = feed(client.receive_data, byte_by_byte(data))
    assert events == [
        ConnectionAccepted(
            None,
            (
                (b"upgrade", b"websocket"),
                (b"connection", b"Upgrade"),
                (b"sec-websocket-accept", accept_for(key)),
            ),
        ),
        TextMessage("o"),
    ]
    assert client.state is TransportState.OPEN


def test_subprotocol_negotiation() -> None:
    client, server = connected_pair({"subprotocols": ["v2", "v1"]})
    del client, server
    client = WebSocketConnection(Role.CLIENT, host="h", subprotocols=["v2", "v1"])
    server = WebSocketConnection(Role.SERVER)
    (request,) = server.receive_data(client.data_to_send(), 0.0)
    assert isinstance(request, ConnectionRequest)
    assert request.subprotocols == ("v2", "v1")
    server.accept(subprotocol="v1")
    (accepted,) = client.receive_data(server.data_to_send(), 0.0)
    assert isinstance(accepted, ConnectionAccepted)
    assert accepted.subprotocol == "v1"


def test_server_may_only_choose_an_offered_subprotocol() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h", subprotocols=["v1"])
    server = WebSocketConnection(Role.SERVER)
    server.receive_data(client.data_to_send(), 0.0)
    with pytest.raises(LocalProtocolError, match="not offered"):
        server.accept(subprotocol="v9")


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (
            lambda r: r.replace(b"Sec-WebSocket-Accept: ", b"Sec-WebSocket-Accept: x"),
            "Sec-WebSocket-Accept",
        ),
        (lambda r: r.replace(b"Upgrade: websocket\r\n", b""), "Upgrade: websocket"),
        (
            lambda r: r.replace(b"Connection: Upgrade\r\n", b"Connection: keep-alive\r\n"),
            "Connection: Upgrade",
        ),
        (
            lambda r: r.replace(
                b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ),
            "extension",
        ),
        (
            lambda r: r.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Protocol: chat\r\n\r\n"),
            "not offered",
        ),
        (
            lambda r: r.replace(b"Upgrade: websocket", b"Upgrade: web\xe9socket"),
            "Upgrade: websocket",
        ),
        (lambda r: b"HTTP/1.1 101 \x00bad\r\n\r\n", "invalid HTTP response"),
        (lambda r: b"NOT HTTP AT ALL\r\n\r\n", "invalid HTTP response"),
    ],
)
def test_client_refuses_a_bad_101(mangle: object, words: str) -> None:
    client, _, key = client_and_key()
    events = client.receive_data(mangle(response_101(key)), 0.0)  # type: ignore[operator]
    closed = only_closed(events)
    assert closed.code == 1006
    assert closed.error is not None
    assert words in closed.error.message
    assert client.state is TransportState.CLOSED


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 20\r\n\r\nInvalid access token",
        b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"8\r\nInvalid \r\nc\r\naccess token\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_refusal_is_reported_with_status_and_body(response: bytes) -> None:
    client, _, _ = client_and_key()
    events = feed(client.receive_data, byte_by_byte(response))
    assert len(events) == 2
    rejected, closed = events
    assert isinstance(rejected, ConnectionRejected)
    assert rejected.status_code == 401
    assert rejected.body == b"Invalid access token"
    assert closed == Closed(1006, "the server refused the WebSocket upgrade with HTTP 401")


def test_refusal_whose_body_ends_at_eof() -> None:
    client, _, _ = client_and_key()
    assert client.receive_data(b"HTTP/1.0 503 Service Unavailable\r\n\r\nback soon", 0.0) == []
    rejected, closed = client.receive_data(b"", 1.0)
    assert rejected == ConnectionRejected(503, (), b"back soon")
    assert isinstance(closed, Closed)


def test_eof_during_the_handshake() -> None:
    client, _, _ = client_and_key()
    client.receive_data(b"HTTP/1.1 101 Switching", 0.0)
    closed = only_closed(client.receive_data(b"", 1.0))
    assert closed.error is not None
    assert "closed during the opening handshake" in closed.error.message


def test_server_sees_request_target_host_and_headers() -> None:
    client = WebSocketConnection(
        Role.CLIENT,
        host="demo.broker.test",
        target="/v1/websocket?x=1",
        extra_headers=[("Origin", "o")],
    )
    server = WebSocketConnection(Role.SERVER)
    (request,) = feed(server.receive_data, byte_by_byte(client.data_to_send()))
    assert isinstance(request, ConnectionRequest)
    assert request.target == "/v1/websocket?x=1"
    assert request.host == "demo.broker.test"
    assert (b"origin", b"o") in request.headers


def test_server_reject_sends_an_http_response_and_closes() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h")
    server = WebSocketConnection(Role.SERVER)
    server.receive_data(client.data_to_send(), 0.0)
    server.reject(401, b"Invalid access token")
    assert server.state is TransportState.CLOSED
    rejected, _ = client.receive_data(server.data_to_send(), 0.0)
    assert rejected == ConnectionRejected(
        401,
        (
            (b"content-length", b"20"),
            (b"connection", b"close"),
            (b"content-type", b"text/plain; charset=utf-8"),
        ),
        b"Invalid access token",
    )


def test_accept_or_reject_without_a_request_is_the_callers_mistake() -> None:
    server = WebSocketConnection(Role.SERVER)
    with pytest.raises(LocalProtocolError, match="none is waiting"):
        server.accept()
    with pytest.raises(LocalProtocolError, match="none is waiting"):
        server.reject()
    client = WebSocketConnection(Role.CLIENT, host="h")
    with pytest.raises(LocalProtocolError, match="none is waiting"):
        client.accept()


def test_sending_before_the_handshake_is_the_callers_mistake() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h")
    with pytest.raises(LocalProtocolError, match="connecting"):
        client.send_text("too early")


@pytest.mark.parametrize(
    ("request_bytes", "status", "words"),
    [
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 405, "must use GET"),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 426, "Connection: Upgrade"),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: a2V5\r\n\r\n",
            426,
            "Sec-WebSocket-Version",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n",
            400,
            "Sec-WebSocket-Key",
        ),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n",
            400,
            "invalid HTTP",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: web\xe9socket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: a2V5\r\n\r\n",
            426,
            "Upgrade: websocket",
        ),
    ],
    ids=["post", "plain-get", "version-8", "no-key", "tls-hello", "non-ascii-upgrade"],
)
def test_server_refuses_a_bad_upgrade_request(
    request_bytes: bytes, status: int, words: str
) -> None:
    server = WebSocketConnection(Role.SERVER)
    closed = only_closed(server.receive_data(request_bytes, 0.0))
    assert closed.error is not None
    assert words in closed.error.message
    response = server.data_to_send()
    assert response.startswith(b"HTTP/1.1 %d " % status)
    if status == 426:
        assert b"Sec-WebSocket-Version: 13" in response
    assert server.state is TransportState.CLOSED


def test_client_closing_before_the_server_answers() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h")
    server = WebSocketConnection(Role.SERVER)
    server.receive_data(client.data_to_send(), 0.0)
    closed = only_closed(server.receive_data(b"", 1.0))
    assert closed.error is not None
    assert "before its upgrade was answered" in closed.error.message


def test_frames_sent_before_the_answer_are_decoded_by_accept() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h")
    server = WebSocketConnection(Role.SERVER)
    early = client_frame(OP_TEXT, b"eager")
    server.receive_data(client.data_to_send() + early[:3], 0.0)
    assert server.receive_data(early[3:], 0.0) == []
    assert server.accept() == [TextMessage("eager")]


def test_close_during_the_handshake_gives_up_quietly() -> None:
    client = WebSocketConnection(Role.CLIENT, host="h")
    client.data_to_send()
    client.close()
    assert client.state is TransportState.CLOSED
    assert client.data_to_send() == b""


@pytest.mark.parametrize(
    "header", [("X-Evil", "a\r\nInjected: 1"), ("Bad:Name", "v"), ("", "v"), ("X", "nul\x00")]
)
def test_header_injection_is_refused(header: tuple[str, str]) -> None:
    with pytest.raises(LocalProtocolError, match="invalid header"):
        WebSocketConnection(Role.CLIENT, host="h", extra_headers=[header])


def test_target_must_be_a_path() -> None:
    with pytest.raises(LocalProtocolError, match="must start with '/'"):
        WebSocketConnection(Role.CLIENT, host="h", target="v1/websocket")


def test_client_needs_a_host() -> None:
    with pytest.raises(ValueError, match="host"):
        WebSocketConnection(Role.CLIENT)


def test_credentials_never_appear_in_reprs() -> None:
    client = WebSocketConnection(
        Role.CLIENT,
        host="h",
        extra_headers=[("Authorization", "Bearer s3cret-token"), ("Cookie", "sid=abc")],
    )
    server = WebSocketConnection(Role.SERVER)
    (request,) = server.receive_data(client.data_to_send(), 0.0)
    text = repr(request) + repr(client) + repr(server)
    assert "s3cret-token" not in text
    assert "sid=abc" not in text
    assert "<redacted>" in repr(request)
