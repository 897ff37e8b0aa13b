"""``brokerwire decode``: captured server-to-client bytes in, one event per line out.

The capture starts after the WebSocket handshake (a ``HTTP/1.1 101`` response head at the start
is skipped) or, for cTrader over TCP, at the first byte of the stream. It is fed to the same
client connection a live link uses, so what comes out is exactly what a program would see.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from brokerwire.core.ctrader import CTraderConnection
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.transport import Closed

from ._common import CommandError, Output
from .render import json_line, learn_digits, pretty_line

__all__ = [
    "DecodeError",
    "add_parser",
    "capture_connection",
    "decode_capture",
    "looks_like_tcp",
    "run",
]

CHUNK_SIZE = 64 * 1024


class DecodeError(Exception):
    """The capture held bytes that are not the protocol, or ended inside a message."""


def capture_connection(broker: str, transport: str) -> Any:
    """A client connection for bytes a server sent past the handshake: no timers of its own,
    since a capture (or a benchmark) has no clock."""
    if broker == "tradovate":
        return TradovateConnection(already_open=True, watchdog_timeout=None, request_timeout=None)
    if transport == "ws":
        return CTraderConnection.websocket(already_open=True, watchdog_timeout=None)
    return CTraderConnection.tcp(watchdog_timeout=None)


def decode_capture(broker: str, transport: str, chunks: Iterable[bytes]) -> Iterator[Any]:
    """Every event in a capture, in order, as soon as its bytes have been read.

    Raises ``DecodeError`` after the last good event when the bytes break the protocol or stop
    in the middle of a message. A close in the capture is an event like any other; the end of
    a capture that stops between messages is not.
    """
    conn = capture_connection(broker, transport)
    for chunk in chunks:
        closed = False
        for event in conn.receive_events(chunk, 0.0):
            _check(event)
            closed = isinstance(event, Closed)
            yield event
        conn.data_to_send()  # pongs and heartbeats a live link would send: not ours to send
        if closed:
            return
    for event in conn.receive_events(b"", 0.0):
        if isinstance(event, Closed):
            _check(event)
            return
        yield event


def _check(event: Any) -> None:
    if isinstance(event, Closed) and event.error is not None:
        raise DecodeError(str(event.error))


class _Source:
    """A capture read in chunks; remembers how it starts, for a hint when it will not decode."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.start = b""

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._source.read(CHUNK_SIZE):
            if len(self.start) < _SNIFF_SIZE:
                self.start += chunk[: _SNIFF_SIZE - len(self.start)]
            yield chunk


_SNIFF_SIZE = 5


def looks_like_tcp(start: bytes) -> bool:
    """Whether a capture starts as cTrader's TCP does: a JSON object, bare or after a
    4-byte big-endian length (never the first byte of a server's WebSocket frame)."""
    text = start.lstrip()
    if text.startswith(b"{"):
        return True
    return start[:2] == b"\0\0" and start[4:5] == b"{"


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "decode",
        parents=parents,
        help="decode captured server-to-client bytes into events",
        description=(
            "Decode bytes a server sent (captured after the WebSocket handshake; an HTTP "
            "response head at the start is skipped) into JSON lines, one event per line: "
            '{"type": "<EventClass>", ...fields}. On bad bytes, every event before them is '
            "printed, then one error line on stderr, and the exit code is 1. With --pretty, "
            "cTrader prices show at the digits a ProtoOASymbolByIdRes in the capture gives, "
            "or with as many decimals as each needs, up to five. A file written by "
            "'brokerwire stream --record FILE' decodes to the events the stream printed."
        ),
    )
    parser.add_argument("broker", choices=("tradovate", "ctrader"))
    parser.add_argument("file", metavar="FILE", help="the capture, or - for standard input")
    parser.add_argument(
        "--transport",
        choices=("ws", "tcp"),
        default="ws",
        help="how the bytes were carried: WebSocket frames (default) or cTrader's TCP framing",
    )
    parser.add_argument(
        "--pretty", action="store_true", help="one human-readable line per event instead of JSON"
    )
    parser.set_defaults(run=run, command_parser=parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.broker == "tradovate" and args.transport != "ws":
        parser.error("Tradovate speaks only WebSocket: --transport tcp is for cTrader")
    output = Output()
    if args.file == "-":
        return _decode(args, sys.stdin.buffer, output, "standard input")
    try:
        source = open(args.file, "rb")  # noqa: SIM115 - closed below, after decoding
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    with source:
        return _decode(args, source, output, args.file)


def _decode(args: argparse.Namespace, source: BinaryIO, output: Output, name: str) -> int:
    decoded = 0
    digits: dict[int, int] = {}
    reader = _Source(source)
    try:
        for event in decode_capture(args.broker, args.transport, reader.chunks()):
            if args.pretty:
                learn_digits(event, digits)
                output.line(pretty_line(event, digits))
            else:
                output.line(json_line(event))
            decoded += 1
    except DecodeError as exc:
        events = "1 event" if decoded == 1 else f"{decoded} events"
        hint = ""
        if args.broker == "ctrader" and args.transport == "ws" and looks_like_tcp(reader.start):
            hint = "; it looks like a TCP capture: try --transport tcp"
        raise CommandError(f"{name}: {exc} (after {events}){hint}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from None
    return 0
