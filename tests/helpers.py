"""Helpers shared by the tests: frame builders, chunked feeding, connected pairs."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from brokerwire.core.transport import Closed
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket.frames import apply_mask

MASK = b"\x37\xfa\x21\x3d"

#: The checkout these tests belong to. Scans of the library's source read its files, whichever
#: way brokerwire is installed (a wheel's copy, or an editable tree of links that lists only
#: the files there were when it was made).
CHECKOUT = Path(__file__).resolve().parents[1]


def library_sources(*folders: str) -> list[Path]:
    """Every Python file under the checkout's ``folders`` (``"core"``, ``"adapters"``)."""
    return sorted(p for folder in folders for p in (CHECKOUT / folder).rglob("*.py"))


def raw_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length_bytes: int | None = None,
) -> bytes:
    """Any frame, including ones that break the rules (reserved bits, non-minimal lengths)."""
    length = len(payload)
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask is not None else 0
    if length_bytes is None:
        length_bytes = 0 if length < 126 else 2 if length < 65536 else 8
    if length_bytes == 0:
        header = bytes((first, mask_bit | length))
    elif length_bytes == 2:
        header = bytes((first, mask_bit | 126)) + struct.pack("!H", length)
    else:
        header = bytes((first, mask_bit | 127)) + struct.pack("!Q", length)
    if mask is None:
        return header + payload
    return header + mask + apply_mask(payload, mask)


def server_frame(opcode: int, payload: bytes = b"", **kwargs: Any) -> bytes:
    """A frame as a server sends it (unmasked)."""
    return raw_frame(opcode, payload, **kwargs)


def client_frame(opcode: int, payload: bytes = b"", **kwargs: Any) -> bytes:
    """A frame as a client sends it (masked)."""
    return raw_frame(opcode, payload, mask=MASK, **kwargs)


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


def random_chunks(data: bytes, rng: random.Random, max_cuts: int = 40) -> list[bytes]:
    if len(data) < 2:
        return [data]
    cuts = [rng.randrange(1, len(data)) for _ in range(rng.randrange(0, max_cuts))]
    return split_at(data, cuts)


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def feed(
    receive: Callable[[bytes, float], list[Any]], chunks: Sequence[bytes], now: float = 0.0
) -> list[Any]:
    """Feed chunks one call at a time and collect every event."""
    events: list[Any] = []
    for chunk in chunks:
        if chunk:
            events.extend(receive(chunk, now))
    return events


def open_client(**kwargs: Any) -> WebSocketConnection:
    """A client connection already past the handshake (frames only)."""
    return WebSocketConnection(Role.CLIENT, already_open=True, **kwargs)


def open_server(**kwargs: Any) -> WebSocketConnection:
    """A server connection already past the handshake (frames only)."""
    return WebSocketConnection(Role.SERVER, already_open=True, **kwargs)


def connected_pair(
    client_kwargs: dict[str, Any] | None = None, server_kwargs: dict[str, Any] | None = None
) -> tuple[WebSocketConnection, WebSocketConnection]:
    """A client and a server that have completed a real opening handshake with each other."""
    client = WebSocketConnection(
        Role.CLIENT, host="broker.test", target="/v1/websocket", **(client_kwargs or {})
    )
    server = WebSocketConnection(Role.SERVER, **(server_kwargs or {}))
    request_events = server.receive_data(client.data_to_send(), 0.0)
    assert [type(e).__name__ for e in request_events] == ["ConnectionRequest"]
    assert server.accept() == []
    accepted = client.receive_data(server.data_to_send(), 0.0)
    assert [type(e).__name__ for e in accepted] == ["ConnectionAccepted"]
    return client, server


def pump(sender: WebSocketConnection, receiver: WebSocketConnection, now: float = 0.0) -> list[Any]:
    """Deliver everything ``sender`` has queued to ``receiver``; returns the receiver's events."""
    data = sender.data_to_send()
    return receiver.receive_data(data, now) if data else []


def only_closed(events: Sequence[Any]) -> Closed:
    assert events, "expected a Closed event, got no events"
    assert isinstance(events[-1], Closed), f"expected Closed last, got {events[-1]!r}"
    assert sum(isinstance(e, Closed) for e in events) == 1
    return events[-1]
