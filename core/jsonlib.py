"""The one JSON engine: msgspec, for decoding and encoding.

msgspec reads RFC 8259 JSON straight from bytes, checks the UTF-8 as it goes, and decodes into
typed Structs as fast as other parsers build dicts, which is why the whole library speaks JSON
through it. What it refuses is invalid JSON here: ``NaN`` and ``Infinity``, a lone surrogate
escape such as ``"\\ud800"``, a number beyond a double's range, nesting deeper than the
interpreter's recursion limit (``RecursionError``), an integer of more digits than Python
converts to text (4,300). Integers of any size below that are read exactly.

``loads`` decodes one document into dicts, lists and scalars; ``decoder(kind)`` makes a decoder
into a typed form, and ``convert`` reads already-decoded JSON the same way. With
``numeric_strings=True`` a number sent as a numeric string decodes as a number, as cTrader may
send its 64-bit fields; Tradovate's models take numbers only (a string "nan" is no price).

Both raise ``JSONDecodeError`` (a ``ValueError``) for invalid JSON; a typed decoder raises its
subclass ``ValidationError`` for valid JSON in a shape the type does not take, which a
connection turns into a raw event rather than an error.

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
    "checked_builtins",
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


def decoder(
    kind: type[_T], *, numeric_strings: bool = False
) -> Callable[[bytes | bytearray | memoryview | str], _T]:
    """A decoder into ``kind``; fields the type does not declare are skipped."""
    return msgspec.json.Decoder(kind, strict=not numeric_strings).decode


def convert(value: Any, kind: type[_T], *, numeric_strings: bool = False) -> _T:
    """Already-decoded JSON (dicts and lists, by wire name) as ``kind``, as ``decoder`` reads it.

    Raises ``ValidationError`` when the value does not fit.
    """
    return msgspec.convert(value, kind, strict=not numeric_strings)


def checked_builtins(value: msgspec.Struct) -> Any:
    """A Struct built by hand as the JSON it is sent as (wire names, absent fields left out),
    once every field is checked against its type: a constructor does not check what it is given
    (a string for a volume would reach the server as a string). Raises ``LocalProtocolError``
    naming the field that does not fit."""
    wire = msgspec.to_builtins(value)
    try:
        msgspec.convert(wire, type(value))
    except msgspec.ValidationError as exc:
        raise LocalProtocolError(f"{type(value).__name__} cannot be sent: {exc}") from None
    return wire


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
