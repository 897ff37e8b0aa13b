"""The one place that chooses the JSON functions.

With the ``fast`` extra installed, orjson does the work; otherwise the standard library does.
``loads`` accepts ``str``, ``bytes``, ``bytearray`` or ``memoryview`` and decodes straight from
bytes where the backend can. ``dumps`` returns compact UTF-8 bytes (no spaces after separators,
non-ASCII characters kept as they are), the form both brokers expect.

``loads_utf8(data)`` and ``loads_utf8_from(data, start)`` are the hot path: one JSON document
from the UTF-8 bytes of a message (from byte ``start`` on, after an ASCII prefix such as
Tradovate's frame letter). They hand orjson the bytes as they are (orjson checks the UTF-8 as it
parses, and parses bytes faster than text). On the standard library it decodes the text once
and runs ``json``'s C scanner on it directly, which spares the two whitespace scans and the
layers of Python calls of ``json.loads`` — a third of its time on a 130-byte object; anything
the direct call cannot settle (whitespace around the document, an error) goes through
``json.loads`` so that results and error messages are exactly the library's. Either way an
error's position counts from ``start``, as if the document had been cut out of the message.

Both backends raise ``JSONDecodeError`` (a ``ValueError``) for invalid JSON, including invalid
UTF-8 in bytes input, so callers catch one exception type whatever is installed.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable
from typing import Any

__all__ = [
    "BACKEND",
    "JSONDecodeError",
    "dumps",
    "dumps_str",
    "loads",
    "loads_utf8",
    "loads_utf8_from",
    "scan_text",
]

JSONDecodeError: type[ValueError]
loads: Callable[[str | bytes | bytearray | memoryview], Any]
loads_utf8: Callable[[bytes], Any]
loads_utf8_from: Callable[[bytes, int], Any]
#: The standard library's C scanner, ``scan_text(text, index) -> (value, end)``: one JSON value
#: from ``text[index:]`` and the index where it ends (raises ``StopIteration`` when no value
#: starts there). For a hot path that spares itself even ``loads_utf8_from``'s Python frame;
#: None with orjson, whose ``loads_utf8`` is already one C call.
scan_text: Callable[[str, int], tuple[Any, int]] | None
dumps: Callable[[Any], bytes]

try:
    import orjson as _orjson
except ImportError:  # the ``fast`` extra is not installed
    BACKEND = "json"
    JSONDecodeError = _json.JSONDecodeError
    _stdlib_loads = _json.loads
    _encoder = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def loads(data: str | bytes | bytearray | memoryview, /) -> Any:
        if isinstance(data, memoryview):
            data = bytes(data)
        try:
            return _stdlib_loads(data)
        except UnicodeDecodeError as exc:
            # json.loads(bytes) detects the encoding and decodes before parsing; report bad
            # UTF-8 the way orjson does, as a decode error and not a Unicode error.
            raise _json.JSONDecodeError(f"invalid UTF-8: {exc.reason}", "", exc.start) from exc

    def dumps(obj: Any, /) -> bytes:
        return _encoder.encode(obj).encode()

    # Set by JSONDecoder.__init__: the C scanner (or its pure-Python twin) that json.loads
    # reaches through two layers of Python; typeshed does not declare the attribute.
    _scan_once = scan_text = _json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def loads_utf8_from(data: bytes, start: int = 0, /) -> Any:
        try:
            text = data.decode()
        except UnicodeDecodeError as exc:
            position = exc.start - start
            raise _json.JSONDecodeError(f"invalid UTF-8: {exc.reason}", "", position) from exc
        try:
            value, end = _scan_once(text, start)
        except (StopIteration, ValueError):
            # The scanner counts an error's position from the prefix; json.loads on the
            # document alone counts it from ``start``, as orjson does.
            end = -1
        if end == len(text):
            return value
        return _stdlib_loads(text[start:] if start else text)

    loads_utf8 = loads_utf8_from

else:
    BACKEND = "orjson"
    JSONDecodeError = _orjson.JSONDecodeError
    loads = _orjson.loads
    dumps = _orjson.dumps

    loads_utf8 = _orjson.loads
    scan_text = None

    def loads_utf8_from(data: bytes, start: int, /) -> Any:
        return _orjson.loads(data[start:])


def dumps_str(obj: Any, /) -> str:
    """Compact JSON as text, for protocols whose messages are text documents."""
    return dumps(obj).decode()
