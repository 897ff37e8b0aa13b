"""Cutting a TCP byte stream into messages, and back.

cTrader's JSON-over-TCP framing is not documented (reference/ctrader.md §1.4), so two framings
are supported:

* ``LENGTH_PREFIX``: each message is preceded by its length as a 4-byte big-endian integer, as
  in cTrader's protobuf transport.
* ``JSON_STREAM``: messages are JSON objects written one after another, with optional
  whitespace between them. A newline follows each message sent.

A receiver can tell them apart from the first byte of the stream: a JSON object starts with
``{`` (or whitespace before it), while a length prefix starts with ``0x00`` for any message under
16 MiB and could only start with ``{`` (0x7B) for a message of about 2 GiB, far over any limit.

Framers raise ``RemoteProtocolError`` for bad input after appending every message that came
before it to the caller's list, so nothing already decoded is lost.
"""

from __future__ import annotations

import enum
import re
import struct
from typing import Protocol

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "Framer",
    "Framing",
    "JsonStreamFramer",
    "LengthPrefixFramer",
    "detect_framing",
    "make_framer",
]

_WHITESPACE = b" \t\r\n"


class Framing(enum.Enum):
    LENGTH_PREFIX = "length-prefix"
    JSON_STREAM = "json-stream"


def detect_framing(first_byte: int) -> Framing:
    """Which framing a stream uses, from its first byte."""
    if first_byte == 0x7B or first_byte in _WHITESPACE:
        return Framing.JSON_STREAM
    return Framing.LENGTH_PREFIX


class Framer(Protocol):
    """Receive side: ``feed`` appends complete messages to ``out``. Send side: ``frame``."""

    max_message_size: int

    def feed(self, data: bytes, out: list[bytes]) -> None: ...

    def frame(self, message: bytes) -> bytes: ...

    @property
    def buffered(self) -> int:
        """Bytes held of a message that has not fully arrived (0 at a message boundary)."""
        ...


_prefix = struct.Struct("!I")
_unpack_prefix = _prefix.unpack_from
_pack_prefix = _prefix.pack
_MAX_PREFIXED = 2**32 - 1


class LengthPrefixFramer:
    """Messages preceded by a 4-byte big-endian length."""

    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes, out: list[bytes]) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        buffer = self._buffer
        pos = 0
        if buffer:
            pos = self._complete_held_message(data, out)
            if buffer:
                return
        # Cut messages out of ``data`` where it is; keep only an unfinished one at its end.
        size = len(data)
        limit = self.max_message_size
        append = out.append
        try:
            while size - pos >= 4:
                (length,) = _unpack_prefix(data, pos)
                if length > limit:
                    raise self._too_big(length)
                end = pos + 4 + length
                if end > size:
                    break
                append(data[pos + 4 : end])
                pos = end
        finally:
            if pos < size:
                buffer += memoryview(data)[pos:]

    def _complete_held_message(self, data: bytes, out: list[bytes]) -> int:
        """Finish the message held from the last read; returns how many bytes of ``data`` it took.

        It takes only what it still needs (the rest of its prefix first, so that a length over
        the limit is refused before any of the message is held), and the messages after it are
        cut from ``data`` in place: a slice of ``bytes`` is one copy, a slice of the held
        ``bytearray`` two, and a read seldom ends on a message boundary.
        """
        buffer = self._buffer
        used = 0
        if len(buffer) < 4:
            used = 4 - len(buffer)
            buffer += data[:used]
            if len(buffer) < 4:
                return len(data)
        (length,) = _unpack_prefix(buffer)
        if length > self.max_message_size:
            raise self._too_big(length)
        piece = memoryview(data)[used : used + 4 + length - len(buffer)]
        buffer += piece
        used += len(piece)
        if len(buffer) == 4 + length:
            out.append(bytes(buffer[4:]))
            buffer.clear()
        return used

    def _too_big(self, length: int) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"a length prefix announces a message of {length} bytes, over the limit of "
            f"{self.max_message_size} bytes (is the stream really length-prefixed?)"
        )

    def frame(self, message: bytes) -> bytes:
        if len(message) > _MAX_PREFIXED:
            raise LocalProtocolError(
                f"a message of {len(message)} bytes does not fit a 4-byte length prefix"
            )
        return _pack_prefix(len(message)) + message


# Scanning for the end of a JSON object only has to follow strings (where braces do not count)
# and brace depth; whether the object is valid JSON is the decoder's business afterwards.
_NEXT_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_NEXT_STRUCTURAL = re.compile(rb'[{}"]')
_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_QUOTE = 0x22
_OPEN_BRACE = 0x7B


class JsonStreamFramer:
    """JSON objects one after another, whitespace allowed between them.

    The scan is incremental and linear: a message split across many reads is never rescanned
    from its start.
    """

    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._scan = 0  # where scanning resumes
        self._start = -1  # where the object in progress starts, -1 between objects
        self._depth = 0
        self._in_string = False

    @property
    def buffered(self) -> int:
        return 0 if self._start < 0 else len(self._buffer) - self._start

    def feed(self, data: bytes, out: list[bytes]) -> None:
        buffer = self._buffer
        buffer += data
        size = len(buffer)
        pos, start, depth, in_string = self._scan, self._start, self._depth, self._in_string
        limit = self.max_message_size
        try:
            while True:
                if start < 0:
                    match = _NEXT_NON_SPACE.search(buffer, pos)
                    if match is None:
                        pos = size
                        break
                    pos = match.start()
                    if buffer[pos] != _OPEN_BRACE:
                        found = bytes(buffer[pos : pos + 16])
                        raise RemoteProtocolError(
                            f"expected '{{' to start a JSON object, found {found!r} "
                            "(is the stream really a sequence of JSON objects?)"
                        )
                    start, depth, pos = pos, 1, pos + 1
                if in_string:
                    end = _STRING_BODY.match(buffer, pos).end()  # type: ignore[union-attr]
                    if end >= size or buffer[end] != _QUOTE:
                        pos = end  # the string, or an escape in it, continues in the next read
                        break
                    in_string, pos = False, end + 1
                match = _NEXT_STRUCTURAL.search(buffer, pos)
                if match is None:
                    pos = size
                    break
                pos = match.end()
                char = buffer[pos - 1]
                if char == _QUOTE:
                    in_string = True
                elif char == _OPEN_BRACE:
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        if pos - start > limit:
                            raise self._too_big(pos - start)
                        out.append(bytes(buffer[start:pos]))
                        start = -1
            if start >= 0 and size - start > limit:
                raise self._too_big(size - start)
        finally:
            keep_from = pos if start < 0 else start
            if keep_from:
                del buffer[:keep_from]
                pos -= keep_from
                start = min(0, start)
            self._scan, self._start, self._depth, self._in_string = pos, start, depth, in_string

    def _too_big(self, size: int) -> RemoteProtocolError:
        return RemoteProtocolError(
            f"a JSON message of {size} bytes or more exceeds the limit of "
            f"{self.max_message_size} bytes"
        )

    def frame(self, message: bytes) -> bytes:
        return message + b"\n"


def make_framer(framing: Framing, max_message_size: int) -> LengthPrefixFramer | JsonStreamFramer:
    if framing is Framing.LENGTH_PREFIX:
        return LengthPrefixFramer(max_message_size)
    return JsonStreamFramer(max_message_size)
