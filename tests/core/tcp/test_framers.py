"""The length-prefix and concatenated-JSON framers, and the TCP transport built on them."""

from __future__ import annotations

import json
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from brokerwire.core.tcp import (
    Framing,
    JsonStreamFramer,
    LengthPrefixFramer,
    TcpConnection,
    detect_framing,
)
from brokerwire.core.transport import BinaryMessage, Closed, TransportState
from tests.helpers import byte_by_byte, feed, only_closed, random_chunks

SPOT = (
    b'{"clientMsgId":"cm_1","payloadType":2131,'
    b'"payload":{"ctidTraderAccountId":5,"symbolId":1,"bid":108250}}'
)
TRICKY = [
    SPOT,
    b"{}",
    b'{"payloadType":51}',
    b'{"s":"a } inside { a string","n":{"deep":{"er":[{"x":"}"}]}}}',
    b'{"escaped":"quote \\" and backslash \\\\","u":"\\u007d"}',
    b'{"ends with backslash pair":"\\\\"}',
    '{"unicode":"é 漢字 🚀 {"}'.encode(),
]

json_objects = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab{}[]"\\ é:,')),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.sampled_from('k{}"\\'), max_size=5), children, max_size=4
        )
    ),
    max_leaves=12,
).map(lambda value: {"v": value})


def prefixed(message: bytes) -> bytes:
    return struct.pack("!I", len(message)) + message


def frame_all(framer: LengthPrefixFramer | JsonStreamFramer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        framer.feed(chunk, out)
    return out


@pytest.mark.parametrize("framing", list(Framing))
def test_round_trip_whole_and_byte_by_byte(framing: Framing) -> None:
    sender = TcpConnection(framing)
    for message in TRICKY:
        sender.send_message(message)
    wire = sender.data_to_send()
    expected = [BinaryMessage(m) for m in TRICKY]
    for chunks in ([wire], byte_by_byte(wire)):
        receiver = TcpConnection(framing, receive_framing=framing)
        assert feed(receiver.receive_data, chunks) == expected


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(json_objects, max_size=10),
    seed=st.integers(0, 2**32),
    gaps=st.lists(st.sampled_from([b"", b" ", b"\n", b"\r\n\t "]), min_size=11, max_size=11),
)
def test_json_stream_split_invariance(values: list[object], seed: int, gaps: list[bytes]) -> None:
    messages = [json.dumps(v, ensure_ascii=False).encode() for v in values]
    wire = b"".join(gap + m for gap, m in zip(gaps, messages, strict=False)) + gaps[-1]
    rng = random.Random(seed)
    whole = frame_all(JsonStreamFramer(1 << 20), [wire])
    assert whole == messages
    assert frame_all(JsonStreamFramer(1 << 20), byte_by_byte(wire)) == messages
    assert frame_all(JsonStreamFramer(1 << 20), random_chunks(wire, rng)) == messages


@settings(max_examples=200, deadline=None)
@given(messages=st.lists(st.binary(max_size=300), max_size=10), seed=st.integers(0, 2**32))
def test_length_prefix_split_invariance(messages: list[bytes], seed: int) -> None:
    wire = b"".join(prefixed(m) for m in messages)
    assert frame_all(LengthPrefixFramer(1 << 20), [wire]) == messages
    assert frame_all(LengthPrefixFramer(1 << 20), byte_by_byte(wire)) == messages
    assert (
        frame_all(LengthPrefixFramer(1 << 20), random_chunks(wire, random.Random(seed))) == messages
    )


def test_json_stream_scan_is_linear_across_many_reads() -> None:
    """A 2 MB string that arrives 1 KiB at a time must not be rescanned from its start."""
    big = b'{"blob":"' + b'x\\"' * 700_000 + b'"}'
    framer = JsonStreamFramer(4 << 20)
    out: list[bytes] = []
    for i in range(0, len(big), 1024):
        framer.feed(big[i : i + 1024], out)
    assert out == [big]


@pytest.mark.parametrize(
    ("first", "framing"),
    [
        (b"{", Framing.JSON_STREAM),
        (b" ", Framing.JSON_STREAM),
        (b"\n", Framing.JSON_STREAM),
        (b"\t", Framing.JSON_STREAM),
        (b"\r", Framing.JSON_STREAM),
        (b"\x00", Framing.LENGTH_PREFIX),
        (b"\x01", Framing.LENGTH_PREFIX),
    ],
)
def test_detection_from_the_first_byte(first: bytes, framing: Framing) -> None:
    assert detect_framing(first[0]) is framing


@pytest.mark.parametrize("framing", list(Framing))
def test_receiver_recognises_the_senders_framing(framing: Framing) -> None:
    sender = TcpConnection(framing)
    sender.send_message(SPOT)
    sender.send_message(b'{"payloadType":51}')
    receiver = TcpConnection()  # sends length-prefixed, recognises whatever arrives
    events = feed(receiver.receive_data, byte_by_byte(sender.data_to_send()))
    assert events == [BinaryMessage(SPOT), BinaryMessage(b'{"payloadType":51}')]
    assert receiver.receive_framing is framing


def test_length_prefix_over_the_limit_fails_from_the_prefix_alone() -> None:
    conn = TcpConnection(max_message_size=1000)
    events = conn.receive_data(prefixed(SPOT) + struct.pack("!I", 1001), 0.0)
    assert events[0] == BinaryMessage(SPOT)
    closed = only_closed(events)
    assert closed.code is None
    assert closed.error == RemoteProtocolError(
        "a length prefix announces a message of 1001 bytes, over the limit of 1000 bytes "
        "(is the stream really length-prefixed?)"
    )
    assert conn.state is TransportState.CLOSED


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_length_prefix_over_the_limit_split_across_reads_fails_before_holding_more(
    cut: int,
) -> None:
    framer = LengthPrefixFramer(1000)
    out: list[bytes] = []
    framer.feed(prefixed(SPOT) + struct.pack("!I", 1001)[:cut], out)
    assert out == [SPOT]
    with pytest.raises(RemoteProtocolError, match="1001 bytes, over the limit of 1000"):
        framer.feed(struct.pack("!I", 1001)[cut:] + b"x" * 5000, out)
    assert framer.buffered == 4, "only the prefix is held, none of what followed it"


def test_messages_after_a_held_one_are_cut_from_the_read_as_bytes() -> None:
    """A read that finishes a held message goes on to the whole messages behind it."""
    wire = b"".join(prefixed(m) for m in (SPOT, b"{}", b'{"payloadType":51}', SPOT))
    framer = LengthPrefixFramer(1 << 20)
    out: list[bytes] = []
    framer.feed(wire[:10], out)
    assert out == []
    assert framer.buffered == 10
    framer.feed(wire[10:-5], out)
    assert out == [SPOT, b"{}", b'{"payloadType":51}']
    assert all(type(message) is bytes for message in out)
    assert framer.buffered == len(prefixed(SPOT)) - 5
    framer.feed(wire[-5:], out)
    assert out[3:] == [SPOT]
    assert framer.buffered == 0


def test_json_stream_that_is_not_json() -> None:
    conn = TcpConnection(receive_framing=Framing.JSON_STREAM)
    events = conn.receive_data(SPOT + b"\n<html>", 0.0)
    assert events[0] == BinaryMessage(SPOT)
    closed = only_closed(events)
    assert closed.error is not None
    assert "expected '{' to start a JSON object, found b'<html>'" in closed.error.message


def test_json_object_over_the_limit_fails_before_it_completes() -> None:
    conn = TcpConnection(receive_framing=Framing.JSON_STREAM, max_message_size=64)
    assert conn.receive_data(b'{"a":"' + b"x" * 50, 0.0) == []
    closed = only_closed(conn.receive_data(b"y" * 20, 0.0))
    assert closed.error is not None
    assert "exceeds the limit of 64 bytes" in closed.error.message


def test_json_object_over_the_limit_in_one_read() -> None:
    framer = JsonStreamFramer(10)
    out: list[bytes] = []
    with pytest.raises(RemoteProtocolError, match="exceeds the limit"):
        framer.feed(b'{"a":1} {"long":"enough to break"}', out)
    assert out == [b'{"a":1}'], "the message before the bad one is kept"


@pytest.mark.parametrize("framing", list(Framing))
def test_stream_truncated_at_eof(framing: Framing) -> None:
    sender = TcpConnection(framing)
    sender.send_message(SPOT)
    wire = sender.data_to_send()
    conn = TcpConnection(receive_framing=framing)
    assert conn.receive_data(wire + wire[:9], 0.0) == [BinaryMessage(SPOT)]
    closed = only_closed(conn.receive_data(b"", 1.0))
    assert closed.error is not None
    assert "the stream ended inside a message (9 bytes of it had arrived)" in closed.error.message


def test_eof_at_a_message_boundary_is_not_an_error() -> None:
    conn = TcpConnection(receive_framing=Framing.JSON_STREAM)
    conn.receive_data(SPOT + b"\n  ", 0.0)
    assert conn.receive_data(b"", 1.0) == [Closed(None, "the peer closed the connection")]


def test_close_and_misuse() -> None:
    conn = TcpConnection()
    assert conn.next_deadline() is None
    assert conn.handle_timer(5.0) == []
    conn.close()
    assert conn.state is TransportState.CLOSED
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.send_message(b"{}")
    with pytest.raises(LocalProtocolError, match="already closed"):
        conn.close()
    assert conn.receive_data(b"{}", 0.0) == []


def test_json_stream_sends_a_newline_after_each_message() -> None:
    conn = TcpConnection(Framing.JSON_STREAM)
    conn.send_message('{"payloadType":51}')
    assert conn.data_to_send() == b'{"payloadType":51}\n'


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), framing=st.sampled_from([None, *Framing]))
def test_arbitrary_bytes_never_raise(data: bytes, framing: Framing | None) -> None:
    conn = TcpConnection(receive_framing=framing, max_message_size=100)
    events = conn.receive_data(data, 0.0) if data else []
    events += conn.receive_data(b"", 1.0)
    only_closed(events)


def test_a_side_that_follows_the_peers_framing_cannot_send_before_it_knows_it() -> None:
    server = TcpConnection(None)
    assert server.framing is None
    with pytest.raises(LocalProtocolError, match="peer's framing"):
        server.send_message(b"{}")
    server.receive_data(b'{"payloadType":51}', 0.0)
    assert server.framing is Framing.JSON_STREAM
    server.send_message(b'{"payloadType":51}')
    assert server.data_to_send() == b'{"payloadType":51}\n'
    assert "json-stream" in repr(server)


def test_fail_ends_at_once_and_reports_no_close_code() -> None:
    conn = TcpConnection()
    assert conn.fail(1007, "bad JSON") is None
    assert conn.state is TransportState.CLOSED
    assert conn.data_to_send() == b"", "TCP has no close frame to send"
    assert conn.fail(1002, "again") is None, "failing an ended connection is harmless"
