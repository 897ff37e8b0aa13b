"""A fragmented message is bounded in frames as well as in bytes, and costs memory in
proportion to its payload, not to its number of fragments."""

from __future__ import annotations

import random
import tracemalloc
from typing import Any

import pytest

from brokerwire.core.ctrader import CTraderConnection
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.transport import BinaryMessage, Closed, TextMessage
from brokerwire.core.websocket import DEFAULT_MAX_FRAGMENTS, Role, WebSocketConnection
from tests.helpers import (
    byte_by_byte,
    client_frame,
    feed,
    only_closed,
    open_client,
    random_chunks,
    server_frame,
)

TOO_MANY = "fragments exceeds the limit"


def _fragments(opcode: int, pieces: list[bytes], *, last_fin: bool = True) -> bytes:
    last = len(pieces) - 1
    return b"".join(
        server_frame(opcode if i == 0 else 0x0, piece, fin=last_fin and i == last)
        for i, piece in enumerate(pieces)
    )


def _every_feeding(data: bytes, **options: Any) -> list[list[Any]]:
    rng = random.Random(len(data))
    return [
        feed(open_client(**options).receive_data, chunks)
        for chunks in ([data], byte_by_byte(data), random_chunks(data, rng))
    ]


def test_the_default_bound_is_generous() -> None:
    assert DEFAULT_MAX_FRAGMENTS == 65_536
    data = _fragments(0x1, [b"ab"] * 1000)
    assert open_client().receive_data(data, 0.0) == [TextMessage("ab" * 1000)]


@pytest.mark.parametrize("opcode", [0x1, 0x2], ids=["text", "binary"])
def test_a_message_in_exactly_the_most_fragments_arrives(opcode: int) -> None:
    data = _fragments(opcode, [b"x", b"", b"yz", b"", b"w"])
    expected = TextMessage("xyzw") if opcode == 0x1 else BinaryMessage(b"xyzw")
    for events in _every_feeding(data, max_fragments=5):
        assert events == [expected]


@pytest.mark.parametrize("opcode", [0x1, 0x2], ids=["text", "binary"])
def test_empty_continuations_past_the_bound_close_1009(opcode: int) -> None:
    before = server_frame(0x1, b"whole")
    data = before + _fragments(opcode, [b"x"] + [b""] * 20, last_fin=False)
    for events in _every_feeding(data, max_fragments=8):
        assert events[0] == TextMessage("whole")
        closed = only_closed(events)
        assert closed.code == 1009
        assert closed.error is not None
        assert closed.error.message == f"message in more than 8 {TOO_MANY}"
        assert len(events) == 2


def test_the_bound_is_judged_from_the_header_before_the_payload() -> None:
    conn = open_client(max_fragments=2)
    head = _fragments(0x1, [b"a", b"b"], last_fin=False)
    assert conn.receive_data(head, 0.0) == []
    third_header = server_frame(0x0, b"c" * 1000)[:4]  # its payload never comes
    closed = only_closed(conn.receive_data(third_header, 0.0))
    assert closed.code == 1009


def test_a_fragment_flood_to_the_server_role_closes_1009() -> None:
    conn = WebSocketConnection(Role.SERVER, already_open=True, max_fragments=3)
    data = client_frame(0x1, b"a", fin=False) + client_frame(0x0, b"", fin=False) * 5
    closed = only_closed(conn.receive_data(data, 0.0))
    assert closed.code == 1009


def test_the_bound_resets_with_each_message() -> None:
    conn = open_client(max_fragments=3)
    message = _fragments(0x1, [b"a", b"b", b"c"])
    assert conn.receive_data(message * 4, 0.0) == [TextMessage("abc")] * 4


def test_bytes_still_bound_a_fragmented_message() -> None:
    conn = open_client(max_message_size=10)
    closed = only_closed(conn.receive_data(_fragments(0x1, [b"x" * 6, b"y" * 6]), 0.0))
    assert closed.code == 1009
    assert "exceeds the limit of 10 bytes" in closed.reason


def test_bad_utf8_in_a_fragment_still_fails_at_once() -> None:
    conn = open_client()
    closed = only_closed(conn.receive_data(server_frame(0x1, b"ok\xff", fin=False), 0.0))
    assert closed.code == 1007


def test_a_character_split_across_fragments_is_kept_whole() -> None:
    euro = "\u20ac".encode()
    data = _fragments(0x1, [euro[:1], euro[1:2], euro[2:]])
    for events in _every_feeding(data):
        assert events == [TextMessage("\u20ac")]


def test_the_broker_connections_pass_the_bound_on() -> None:
    flood = server_frame(0x1, b"a", fin=False) + server_frame(0x0, b"", fin=False) * 4
    tradovate = TradovateConnection(already_open=True, max_fragments=3)
    tradovate.receive_data(server_frame(0x1, b"o"), 0.0)
    assert only_closed(tradovate.receive_data(flood, 0.0)).code == 1009
    ctrader = CTraderConnection.websocket(already_open=True, max_fragments=3)
    assert only_closed(ctrader.receive_data(flood, 0.0)).code == 1009


def test_a_bad_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="max_fragments"):
        open_client(max_fragments=0)


def _peak_while_feeding(data: bytes, **options: Any) -> tuple[int, list[Any]]:
    conn = open_client(**options)
    tracemalloc.start()
    try:
        events = [
            e
            for start in range(0, len(data), 65536)
            for e in conn.receive_data(data[start : start + 65536], 0.0)
        ]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, events


def test_small_fragments_cost_memory_in_proportion_to_the_payload() -> None:
    """A 256 KiB message in 2-byte fragments: one object per fragment cost some 30 times the
    payload; one growing buffer costs a few times it."""
    size = 256 * 1024
    data = _fragments(0x1, [b"ab"] * (size // 2))
    peak, events = _peak_while_feeding(data, max_fragments=size)
    assert events == [TextMessage("ab" * (size // 2))]
    assert peak < 6 * size, f"peak {peak} bytes for a message of {size}"


def test_empty_continuations_cost_no_memory_while_they_last() -> None:
    data = server_frame(0x1, b"x", fin=False) + server_frame(0x0, b"", fin=False) * 100_000
    peak, events = _peak_while_feeding(data, max_fragments=200_000)
    assert events == []
    # a list of 100,000 empty pieces alone is some 800 KB; the 64 KiB reads are most of this
    assert peak < 400 * 1024, f"peak {peak} bytes for 100,000 empty fragments"
    assert not any(type(e) is Closed for e in events)
