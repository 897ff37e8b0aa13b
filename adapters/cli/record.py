"""``stream --record FILE``: the bytes a server sent, kept for ``brokerwire decode``.

What is written is what the socket delivered on the first connection, after the WebSocket
handshake (the ``HTTP/1.1 101`` answer is left out) or, over cTrader's TCP, from the first
byte. ``brokerwire decode`` reads such a file back to the same events. A reconnect starts a
new stream with a handshake of its own, so recording stops when the first connection ends.

The client gives every byte it reads to its engine's ``feed``; the recorder wraps that one
method on the one client it records.
"""

from __future__ import annotations

from typing import Any, BinaryIO

__all__ = ["Recorder"]

_HEAD_END = b"\r\n\r\n"


class Recorder:
    """Writes the bytes ``client`` receives to ``sink`` (flushed as they come)."""

    def __init__(self, client: Any, sink: BinaryIO, *, websocket: bool) -> None:
        self._sink = sink
        self._head: bytearray | None = bytearray() if websocket else None
        self._connection: Any = None
        self._done = False
        engine = client._engine
        feed = engine.feed

        def recording_feed(data: bytes, now: float) -> list[Any]:
            self._note(engine.conn, data)
            events: list[Any] = feed(data, now)
            return events

        engine.feed = recording_feed

    def _note(self, connection: Any, data: bytes) -> None:
        if self._done or not data:
            return
        if self._connection is None:
            self._connection = connection
        elif connection is not self._connection:
            self._done = True
            return
        if self._head is not None:
            self._head += data
            end = self._head.find(_HEAD_END)
            if end < 0:
                return
            data, self._head = bytes(self._head[end + len(_HEAD_END) :]), None
        if data:
            self._sink.write(data)
            self._sink.flush()
