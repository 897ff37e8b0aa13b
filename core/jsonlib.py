"""The one JSON engine: msgspec, for decoding and encoding.

msgspec reads RFC 8259 JSON straight from bytes, checks the UTF-8 as it goes, and decodes into
typed Structs as fast as other parsers build dicts, which is why the whole library speaks JSON
through it. What it refuses is invalid JSON here: ``NaN`` and ``Infinity``, a lone surrogate
escape such as ``"\\ud800"``, a number beyond a double's range, nesting deeper than the
interpreter's recursion limit (``RecursionError``). Integers of any size are read exactly.

``loads`` decodes one document into dicts, lists and scalars; ``decoder(kind)`` makes a decoder
into a typed form (``strict=False``, so that numbers sent as numeric strings, as cTrader may send
its 64-bit fields, decode as numbers). Both raise ``JSONDecodeError`` (a ``ValueError``) for
invalid JSON; a typed decoder raises its subclass ``ValidationError`` for valid JSON in a shape
the type does not take, which a connection turns into a raw event rather than an error.

``dumps`` writes compact UTF-8 bytes (no spaces, non-ASCII characters as they are), the form
both brokers expect; Structs are written with their wire names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from .errors import LocalProtocolError

__all__ = [
    "JSONDecodeError",
    "ValidationError",
    "convert",
    "decoder",
    "dumps",
    "dumps_str",
    "loads",
    "to_builtins",
]

#: What every decoder raises for bytes that are not JSON (a ``ValueError``).
JSONDecodeError = msgspec.DecodeError
#: What a typed decoder raises for valid JSON of the wrong shape (a ``JSONDecodeError``).
ValidationError = msgspec.ValidationError

_T = TypeVar("_T")

#: One JSON document from ``str`` or any bytes-like object, as dicts, lists and scalars.
loads: Callable[[str | bytes | bytearray | memoryview], Any] = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def decoder(kind: type[_T]) -> Callable[[bytes | bytearray | memoryview | str], _T]:
    """A decoder into ``kind``: numeric strings read as numbers, unknown fields ignored."""
    return msgspec.json.Decoder(kind, strict=False).decode


def convert(value: Any, kind: type[_T]) -> _T:
    """Already-decoded JSON (dicts and lists, by wire name) as ``kind``, as ``decoder`` reads it.

    Raises ``ValidationError`` when the value does not fit.
    """
    return msgspec.convert(value, kind, strict=False)


def to_builtins(value: Any) -> Any:
    """Structs (and what they hold) as dicts and lists keyed by wire name; the rest as it is."""
    return msgspec.to_builtins(value)


def dumps(obj: Any, /) -> bytes:
    """Compact JSON. A string with a lone surrogate has no UTF-8 form: ``LocalProtocolError``."""
    try:
        return _encode(obj)
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"cannot write JSON: {exc.reason} in a string") from None


def dumps_str(obj: Any, /) -> str:
    """Compact JSON as text, for protocols whose messages are text documents."""
    return dumps(obj).decode()
