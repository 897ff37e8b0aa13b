"""``stream --record FILE``: the bytes a server sent, kept for ``brokerwire decode``.

What is written is what the socket delivered on the first connection, after the WebSocket
handshake (the ``HTTP/1.1 101`` answer is left out) or, over cTrader's TCP, from the first
byte. ``brokerwire decode`` reads such a file back to the same events. A reconnect starts a
new stream with a handshake of its own, so recording stops when the first connection ends.

The recorder is the client's ``on_received`` hook: the client hands it each read's bytes with
the number of the connection they came on.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["Recorder"]

_HEAD_END = b"\r\n\r\n"
_FIRST_CONNECTION = 1


class Recorder:
    """Writes the bytes of the first connection to ``sink`` (flushed as they come); pass
    ``received`` as the client's ``on_received``."""

    def __init__(self, sink: BinaryIO, *, websocket: bool) -> None:
        self._sink = sink
        self._head: bytearray | None = bytearray() if websocket else None

    def received(self, data: bytes, connection: int) -> None:
        if connection != _FIRST_CONNECTION or not data:
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
