"""brokerwire's frame decoder against wsproto's, on generated good and bad frames.

wsproto is the reference implementation: for every generated stream both must deliver the same
complete messages, pings and pongs, in the same order, and end with the same close code (the
peer's code for a close frame, or the code that answers bad input). Messages stay under our size
limit and close codes avoid 1014, which wsproto refuses and the IANA registry allows.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from brokerwire.core import transport
from brokerwire.core.websocket import Ping as OurPing
from brokerwire.core.websocket import Pong as OurPong
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.helpers import feed, random_chunks, raw_frame

# 1000 is weighted the way real streams weight it.
VALID_CLOSE_CODES = [1000] * 6 + [
    1001,
    1002,
    1003,
    1007,
    1008,
    1009,
    1010,
    1011,
    1012,
    1013,
    3000,
    4999,
]
INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]
BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"]


@st.composite
def messages(draw: st.DrawFn, mask: bytes | None) -> bytes:
    """A valid message: text or binary, whole or in fragments with control frames between."""
    is_text = draw(st.booleans())
    data = draw(st.text(max_size=60)).encode() if is_text else draw(st.binary(max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    out = b""
    for i, piece in enumerate(pieces):
        opcode = (0x1 if is_text else 0x2) if i == 0 else 0x0
        out += raw_frame(opcode, piece, fin=i == len(pieces) - 1, mask=mask)
        if i < len(pieces) - 1 and draw(st.booleans()):
            out += raw_frame(
                draw(st.sampled_from([0x9, 0xA])), draw(st.binary(max_size=10)), mask=mask
            )
    return out


@st.composite
def broken_frames(draw: st.DrawFn, mask: bytes | None) -> bytes:
    """One frame broken in one of the ways a peer can break a frame."""
    other_mask = None if mask is not None else b"abcd"
    kind = draw(
        st.sampled_from(
            [
                "opcode",
                "rsv",
                "wrong-mask",
                "big-control",
                "fragmented-control",
                "long-length",
                "continuation",
                "utf8",
                "utf8-fragment",
                "close-code",
                "close-1-byte",
                "close-utf8",
            ]
        )
    )
    if kind == "opcode":
        return raw_frame(draw(st.sampled_from([0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xF])), mask=mask)
    if kind == "rsv":
        return raw_frame(0x1, b"x", rsv=draw(st.sampled_from([1, 2, 4, 7])), mask=mask)
    if kind == "wrong-mask":
        return raw_frame(0x2, b"x", mask=other_mask)
    if kind == "big-control":
        return raw_frame(draw(st.sampled_from([0x8, 0x9, 0xA])), b"p" * 126, mask=mask)
    if kind == "fragmented-control":
        return raw_frame(draw(st.sampled_from([0x9, 0xA])), b"p", fin=False, mask=mask)
    if kind == "long-length":
        return raw_frame(0x2, b"x" * 10, length_bytes=draw(st.sampled_from([2, 8])), mask=mask)
    if kind == "continuation":
        return raw_frame(0x0, b"x", mask=mask)
    if kind == "utf8":
        return raw_frame(0x1, b"ok" + draw(st.sampled_from(BAD_UTF8)), mask=mask)
    if kind == "utf8-fragment":
        return raw_frame(0x1, draw(st.sampled_from(BAD_UTF8)), fin=False, mask=mask) + raw_frame(
            0x0, b"x", mask=mask
        )
    if kind == "close-code":
        return raw_frame(
            0x8, struct.pack("!H", draw(st.sampled_from(INVALID_CLOSE_CODES))), mask=mask
        )
    if kind == "close-1-byte":
        return raw_frame(0x8, b"\x03", mask=mask)
    return raw_frame(0x8, struct.pack("!H", 1000) + draw(st.sampled_from(BAD_UTF8)), mask=mask)


@st.composite
def streams(draw: st.DrawFn, role: Role) -> bytes:
    """Mostly valid messages, sometimes a broken frame, sometimes a close frame, in any order."""
    mask = b"\x01\x02\x03\x04" if role is Role.SERVER else None
    parts = []
    for _ in range(draw(st.integers(0, 10))):
        roll = draw(st.integers(0, 19))
        if roll == 0:
            parts.append(draw(broken_frames(mask)))
        elif roll == 1:
            payload = (
                b""
                if draw(st.integers(0, 4)) == 0
                else struct.pack("!H", draw(st.sampled_from(VALID_CLOSE_CODES)))
                + draw(st.text(max_size=10)).encode()
            )
            parts.append(raw_frame(0x8, payload, mask=mask))
        else:
            parts.append(draw(messages(mask)))
    return b"".join(parts)


def wsproto_view(role: Role, data: bytes) -> tuple[list[Any], int | None]:
    """Complete messages, pings and pongs, and the close code, as wsproto decodes them."""
    conn = Connection(ConnectionType.CLIENT if role is Role.CLIENT else ConnectionType.SERVER)
    conn.receive_data(data)
    items: list[Any] = []
    parts: list[Any] = []
    for event in conn.events():
        if isinstance(event, TextMessage | BytesMessage):
            parts.append(event.data)
            if event.message_finished:
                items.append(
                    ("text", "".join(parts))
                    if isinstance(event, TextMessage)
                    else ("binary", b"".join(parts))
                )
                parts = []
        elif isinstance(event, Ping):
            items.append(("ping", bytes(event.payload)))
        elif isinstance(event, Pong):
            items.append(("pong", bytes(event.payload)))
        elif isinstance(event, CloseConnection):
            return items, int(event.code)
    return items, None


def our_view(role: Role, chunks: list[bytes]) -> tuple[list[Any], int | None]:
    conn = WebSocketConnection(role, already_open=True)
    items: list[Any] = []
    for event in feed(conn.receive_data, chunks):
        if isinstance(event, transport.TextMessage):
            items.append(("text", event.data))
        elif isinstance(event, transport.BinaryMessage):
            items.append(("binary", event.data))
        elif isinstance(event, OurPing):
            items.append(("ping", event.payload))
        elif isinstance(event, OurPong):
            items.append(("pong", event.payload))
        elif isinstance(event, transport.Closed):
            return items, event.code
    return items, None


@settings(max_examples=1000, deadline=None)
@given(data=st.data(), role=st.sampled_from(list(Role)), seed=st.integers(0, 2**32))
def test_same_messages_and_close_code_as_wsproto(
    data: st.DataObject, role: Role, seed: int
) -> None:
    wire = data.draw(streams(role))
    expected = wsproto_view(role, wire)
    assert our_view(role, [wire]) == expected
    assert our_view(role, random_chunks(wire, random.Random(seed))) == expected


def reaches(view: tuple[list[Any], int | None], outcome: int | None) -> bool:
    """A stream that ends with ``outcome`` after at least two decoded items."""
    items, code = view
    return code == outcome and len(items) >= 2


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("outcome", [None, 1000, 1002, 1005, 1007])
def test_the_generator_reaches_every_outcome(role: Role, outcome: int | None) -> None:
    """Guard against a differential test that only ever compares easy cases."""
    found = find(
        streams(role),
        lambda wire: reaches(wsproto_view(role, wire), outcome),
        settings=settings(max_examples=5000, database=None),
        random=random.Random(f"{role}{outcome}"),  # the same search on every run: no flakes
    )
    assert wsproto_view(role, found)[1] == outcome
