"""Bad bytes from the peer: the right close code, a clear error, and nothing decoded is lost."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.transport import Closed, TextMessage, TransportState
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    parse_close_payload,
)
from tests.helpers import (
    close_payload,
    only_closed,
    open_client,
    open_server,
    raw_frame,
    server_frame,
)

GOOD = server_frame(OP_TEXT, b"decoded before the bad bytes")


def sent_close(conn: WebSocketConnection) -> tuple[int, str]:
    """The close frame the connection queued in answer, decoded (client role: unmasked here)."""
    data = conn.data_to_send()
    assert data, "expected a close frame to be queued"
    assert data[0] == 0x88, f"expected a close frame, got {data[:2]!r}"
    length = data[1] & 0x7F
    masked = data[1] & 0x80
    payload = data[6 : 6 + length] if masked else data[2 : 2 + length]
    if masked:
        key = data[2:6]
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return parse_close_payload(payload)


BAD_CLIENT_INPUT = {
    # name: (bytes a server sends, expected close code, words the error message must hold)
    "reserved opcode 0x3": (raw_frame(0x3, b"x"), 1002, "reserved opcode 0x3"),
    "reserved opcode 0x7": (raw_frame(0x7), 1002, "reserved opcode"),
    "reserved opcode 0xb": (raw_frame(0xB), 1002, "reserved opcode 0xb"),
    "reserved opcode 0xf": (raw_frame(0xF), 1002, "reserved opcode"),
    "RSV1": (raw_frame(OP_TEXT, b"x", rsv=4), 1002, "reserved bit"),
    "RSV2": (raw_frame(OP_TEXT, b"x", rsv=2), 1002, "reserved bit"),
    "RSV3": (raw_frame(OP_TEXT, b"x", rsv=1), 1002, "reserved bit"),
    "masked frame to the client": (raw_frame(OP_TEXT, b"x", mask=b"abcd"), 1002, "masked"),
    "control frame over 125 bytes": (raw_frame(OP_PING, b"p" * 126), 1002, "over 125 bytes"),
    "fragmented control frame": (raw_frame(OP_PING, b"p", fin=False), 1002, "fragmented control"),
    "non-minimal 2-byte length": (
        raw_frame(OP_TEXT, b"x" * 10, length_bytes=2),
        1002,
        "instead of 1",
    ),
    "non-minimal 8-byte length": (
        raw_frame(OP_TEXT, b"x" * 300, length_bytes=8),
        1002,
        "instead of 2",
    ),
    "non-minimal 2-byte length on a masked frame": (
        raw_frame(OP_TEXT, b"", mask=b"abcd", length_bytes=2),
        1002,
        "instead of 1",
    ),
    "non-minimal 8-byte length on a masked frame": (
        raw_frame(OP_TEXT, b"", mask=b"abcd", length_bytes=8),
        1002,
        "instead of 2",
    ),
    "64-bit length with MSB set": (
        b"\x82\x7f" + struct.pack("!Q", 1 << 63),
        1002,
        "most significant bit",
    ),
    "continuation with nothing to continue": (
        raw_frame(OP_CONTINUATION, b"x"),
        1002,
        "no fragmented",
    ),
    "new message inside a fragmented one": (
        raw_frame(OP_TEXT, b"a", fin=False) + raw_frame(OP_BINARY, b"b"),
        1002,
        "fragmented message is in progress",
    ),
    "invalid UTF-8 in a text message": (raw_frame(OP_TEXT, b"caf\xc3"), 1007, "UTF-8"),
    "invalid UTF-8 in the first fragment": (
        raw_frame(OP_TEXT, b"\xff", fin=False) + raw_frame(OP_CONTINUATION, b"x"),
        1007,
        "UTF-8",
    ),
    "overlong UTF-8 encoding": (raw_frame(OP_TEXT, b"\xc0\xaf"), 1007, "UTF-8"),
    "UTF-8 surrogate": (raw_frame(OP_TEXT, b"\xed\xa0\x80"), 1007, "UTF-8"),
    "close frame with 1-byte payload": (raw_frame(OP_CLOSE, b"\x03"), 1002, "1-byte"),
    "close frame with code 999": (
        raw_frame(OP_CLOSE, close_payload(999)),
        1002,
        "invalid close code 999",
    ),
    "close frame with code 1005": (raw_frame(OP_CLOSE, close_payload(1005)), 1002, "1005"),
    "close frame with code 1006": (raw_frame(OP_CLOSE, close_payload(1006)), 1002, "1006"),
    "close frame with code 2999": (raw_frame(OP_CLOSE, close_payload(2999)), 1002, "2999"),
    "close frame with code 5000": (raw_frame(OP_CLOSE, close_payload(5000)), 1002, "5000"),
    "close reason not UTF-8": (
        raw_frame(OP_CLOSE, struct.pack("!H", 1000) + b"\xff"),
        1007,
        "UTF-8",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CLIENT_INPUT))
def test_bad_server_input(name: str) -> None:
    bad, code, words = BAD_CLIENT_INPUT[name]
    client = open_client()
    events = client.receive_data(GOOD + bad + GOOD, 0.0)
    assert events[0] == TextMessage("decoded before the bad bytes")
    closed = only_closed(events)
    assert len(events) == 2, "nothing after the bad bytes may be decoded"
    assert closed.code == code
    assert isinstance(closed.error, RemoteProtocolError)
    assert closed.error.close_code == code
    assert words in closed.error.message
    assert client.state is TransportState.CLOSED
    assert sent_close(client)[0] == code
    # Whatever arrives afterwards is ignored, never raises.
    assert client.receive_data(GOOD, 1.0) == []


@pytest.mark.parametrize("name", sorted(BAD_CLIENT_INPUT))
def test_bad_server_input_byte_by_byte(name: str) -> None:
    bad, code, _ = BAD_CLIENT_INPUT[name]
    client = open_client()
    events: list[object] = []
    for i, byte in enumerate(GOOD + bad):
        events.extend(client.receive_data(bytes([byte]), float(i)))
    assert events[0] == TextMessage("decoded before the bad bytes")
    assert only_closed(events).code == code


@pytest.mark.parametrize("name", sorted(BAD_CLIENT_INPUT))
def test_bad_header_is_judged_the_same_wherever_the_reads_split_it(name: str) -> None:
    """The stream may end anywhere in or after a bad header: whether it ends in a protocol
    error or in a truncated frame must depend on the bytes, not on where the reads fell."""
    bad = BAD_CLIENT_INPUT[name][0]

    def close_code(reads: list[bytes]) -> int:
        client = open_client()
        events: list[object] = []
        for data in reads:
            events += client.receive_data(data, 0.0)
        events += client.receive_data(b"", 1.0)
        return only_closed(events).code

    for end in range(1, min(len(bad), 16) + 1):
        stream = GOOD + bad[:end]
        whole = close_code([stream])
        for cut in range(1, len(stream)):
            assert close_code([stream[:cut], stream[cut:]]) == whole, (end, cut)


def test_unmasked_frame_to_the_server() -> None:
    server = open_server()
    good = raw_frame(OP_TEXT, b"fine", mask=b"\x01\x02\x03\x04")
    events = server.receive_data(good + raw_frame(OP_TEXT, b"no mask"), 0.0)
    assert events[0] == TextMessage("fine")
    closed = only_closed(events)
    assert closed.code == 1002
    assert closed.error is not None
    assert "the client sent an unmasked frame" in closed.error.message


def test_oversized_message_is_refused_from_the_header_alone() -> None:
    client = open_client(max_message_size=1024)
    # Only the 10-byte header of a 64 MiB frame: the refusal must not wait for the payload.
    header = b"\x82\x7f" + struct.pack("!Q", 64 * 1024 * 1024)
    closed = only_closed(client.receive_data(header, 0.0))
    assert closed.code == 1009
    assert closed.error is not None
    assert "exceeds the limit of 1024 bytes" in closed.error.message
    assert sent_close(client)[0] == 1009


@pytest.mark.parametrize("cut", range(1, 10))
def test_oversized_header_split_across_reads_is_refused_before_its_payload(cut: int) -> None:
    client = open_client(max_message_size=1024)
    header = b"\x82\x7f" + struct.pack("!Q", 64 * 1024 * 1024)
    assert client.receive_data(raw_frame(OP_TEXT, b"before") + header[:cut], 0.0) == [
        TextMessage("before")
    ]
    closed = only_closed(client.receive_data(header[cut:] + b"\x00" * 4096, 0.0))
    assert closed.code == 1009
    assert sent_close(client)[0] == 1009


def test_fragmented_message_over_the_limit_is_refused_at_the_fragment_that_crosses_it() -> None:
    client = open_client(max_message_size=100)
    first = raw_frame(OP_TEXT, b"a" * 60, fin=False)
    second_header = raw_frame(OP_CONTINUATION, b"b" * 60)[:2]
    closed = only_closed(client.receive_data(first + second_header, 0.0))
    assert closed.code == 1009
    assert closed.error is not None
    assert "120 bytes" in closed.error.message


def test_message_exactly_at_the_limit_is_accepted() -> None:
    client = open_client(max_message_size=100)
    assert client.receive_data(raw_frame(OP_TEXT, b"a" * 100), 0.0) == [TextMessage("a" * 100)]


def test_default_limit_is_32_mib() -> None:
    client = open_client()
    header = b"\x82\x7f" + struct.pack("!Q", 32 * 1024 * 1024 + 1)
    assert only_closed(client.receive_data(header, 0.0)).code == 1009
    client = open_client()
    header = b"\x82\x7f" + struct.pack("!Q", 32 * 1024 * 1024)
    assert client.receive_data(header, 0.0) == [], "exactly 32 MiB is allowed: wait for the payload"


def test_stream_truncated_inside_a_frame() -> None:
    client = open_client()
    frame = server_frame(OP_TEXT, b"cut short")
    events = client.receive_data(GOOD + frame[:5], 0.0)
    assert events == [TextMessage("decoded before the bad bytes")]
    closed = only_closed(client.receive_data(b"", 1.0))
    assert closed.code == 1006
    assert closed.error is not None
    assert "ended inside a frame (5 bytes of it had arrived)" in closed.error.message
    assert client.data_to_send() == b"", "nothing can be sent to a peer that has gone"


def test_stream_truncated_inside_a_fragmented_message() -> None:
    client = open_client()
    client.receive_data(raw_frame(OP_TEXT, b"part one", fin=False), 0.0)
    closed = only_closed(client.receive_data(b"", 1.0))
    assert closed.error is not None
    assert "inside a fragmented message (8 bytes" in closed.error.message


def test_eof_between_frames_is_an_abnormal_close_but_not_a_protocol_error() -> None:
    client = open_client()
    assert client.receive_data(GOOD, 0.0) == [TextMessage("decoded before the bad bytes")]
    assert client.receive_data(b"", 1.0) == [
        Closed(1006, "the peer closed the connection without a closing handshake")
    ]


def test_eof_while_waiting_for_the_close_answer() -> None:
    client = open_client()
    client.close()
    closed = only_closed(client.receive_data(b"", 1.0))
    assert closed == Closed(
        1006, "the peer closed the connection without answering the close frame"
    )


def test_protocol_error_while_closing_sends_no_second_close_frame() -> None:
    client = open_client()
    client.close()
    client.data_to_send()
    closed = only_closed(client.receive_data(raw_frame(0x3), 0.0))
    assert closed.code == 1002
    assert client.data_to_send() == b""


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(list(Role)), data=st.binary(max_size=300), cut=st.integers(0, 300))
def test_arbitrary_bytes_never_raise(role: Role, data: bytes, cut: int) -> None:
    conn = WebSocketConnection(role, already_open=True, max_message_size=200)
    events = conn.receive_data(data[:cut], 0.0) if data[:cut] else []
    events += conn.receive_data(data[cut:], 1.0) if data[cut:] else []
    events += conn.receive_data(b"", 2.0)
    assert isinstance(events[-1], Closed)
    assert sum(isinstance(e, Closed) for e in events) == 1
    assert conn.state is TransportState.CLOSED
    conn.data_to_send()


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_handshake_bytes_never_raise(data: bytes) -> None:
    for role in Role:
        conn = WebSocketConnection(role, host="broker.test")
        conn.data_to_send()
        events = conn.receive_data(data, 0.0) if data else []
        events += conn.receive_data(b"", 1.0)
        only_closed(events)
        assert conn.state is TransportState.CLOSED
