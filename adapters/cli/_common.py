"""What every ``brokerwire`` subcommand shares: failures, output, argument types."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TextIO

__all__ = [
    "CommandError",
    "Output",
    "OutputClosed",
    "non_negative_float",
    "non_negative_int",
    "port_number",
    "positive_float",
    "positive_int",
]


class CommandError(Exception):
    """A failure to report as one line on stderr, ending the command with exit code 1."""


class OutputClosed(Exception):
    """Whoever reads our output stopped reading (``brokerwire stream ... | head``)."""


class Output:
    """Lines to stdout, each flushed at once so that a pipe sees events as they happen."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout

    def line(self, text: str) -> None:
        try:
            try:
                self._stream.write(text + "\n")
            except UnicodeEncodeError:
                # Text from the network that the stream cannot encode (a lone surrogate, or a
                # character outside a narrow locale's charset) is shown escaped.
                encoding = getattr(self._stream, "encoding", None) or "utf-8"
                shown = text.encode(encoding, "backslashreplace").decode(encoding)
                self._stream.write(shown + "\n")
            self._stream.flush()
        except BrokenPipeError:
            # Point stdout at /dev/null so that the flush at interpreter exit cannot fail again.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._stream.fileno())
                os.close(devnull)
            raise OutputClosed from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, not {text}")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value
