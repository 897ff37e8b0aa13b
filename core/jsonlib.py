"""The one place that chooses the JSON functions, and the one JSON language both backends speak.

With the ``fast`` extra installed, orjson does the work; otherwise the standard library does.
Either way brokerwire accepts exactly what Python's ``json`` accepts. orjson refuses a few
documents ``json`` takes: a lone surrogate escape such as ``"\\ud800"`` (which a server that cuts
UTF-16 text in the middle of a pair sends), ``NaN`` and ``Infinity``, a number beyond a double's
range. What orjson refuses goes to ``json`` before it is called invalid, so installing the
extra changes the speed and not which messages end a connection, and an error's words are
``json``'s with either backend. One difference is left: an integer beyond 64 bits comes out of
orjson as a float.

``loads`` accepts ``str``, ``bytes``, ``bytearray`` or ``memoryview`` and decodes straight from
bytes where the backend can. ``dumps`` returns compact UTF-8 bytes (no spaces after separators,
non-ASCII characters kept as they are), the form both brokers expect; a lone surrogate, which
has no UTF-8 form, is written as its ``\\u`` escape, so that a string goes back out as it came in.

``loads_utf8(data)`` and ``loads_utf8_from(data, start)`` read one JSON document from the UTF-8
bytes of a message (from byte ``start`` on, after an ASCII prefix such as Tradovate's frame
letter). They hand orjson the bytes as they are (orjson checks the UTF-8 as it parses, and
parses bytes faster than text). On the standard library they decode the text once and run
``json``'s C scanner on it directly, which spares the two whitespace scans and the layers of
Python calls of ``json.loads`` — a third of its time on a 130-byte object; anything the direct
call cannot settle (whitespace around the document, an error) goes through ``json.loads`` so
that results and error messages are exactly the library's. Either way an error's position counts
from ``start``, as if the document had been cut out of the message.

``fast_loads_utf8(data)`` is the hot path itself: orjson's ``loads`` with nothing around it, or
the standard library's ``loads_utf8``. With orjson it refuses what orjson refuses, so a caller
that gets ``JSONDecodeError`` from it asks ``json_loads_utf8_from`` before it reports an error:
the standard library's ``loads_utf8_from`` whatever the backend, whose answer is final. Asking
``loads_utf8_from`` instead would hand the document to orjson a second time, to be refused again.

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
    "fast_loads_utf8",
    "json_loads_utf8_from",
    "loads",
    "loads_utf8",
    "loads_utf8_from",
    "scan_text",
]

#: What every loads raises for invalid JSON (orjson's own error is a subclass).
JSONDecodeError: type[ValueError] = _json.JSONDecodeError
loads: Callable[[str | bytes | bytearray | memoryview], Any]
loads_utf8: Callable[[bytes], Any]
loads_utf8_from: Callable[[bytes, int], Any]
fast_loads_utf8: Callable[[bytes], Any]
#: The standard library's C scanner, ``scan_text(text, index) -> (value, end)``: one JSON value
#: from ``text[index:]`` and the index where it ends (raises ``StopIteration`` when no value
#: starts there). For a hot path that spares itself even ``loads_utf8_from``'s Python frame;
#: None with orjson, whose ``fast_loads_utf8`` is already one C call.
scan_text: Callable[[str, int], tuple[Any, int]] | None
dumps: Callable[[Any], bytes]


# -- the standard library: the language both backends accept, and the backend without orjson ----

_stdlib_loads = _json.loads
_encoder = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ascii_encoder = _json.JSONEncoder(separators=(",", ":"))
# Set by JSONDecoder.__init__: the C scanner (or its pure-Python twin) that json.loads reaches
# through two layers of Python; typeshed does not declare the attribute.
_scan_once: Callable[[str, int], tuple[Any, int]]
_scan_once = _json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json_loads(data: str | bytes | bytearray | memoryview, /) -> Any:
    if isinstance(data, memoryview):
        data = bytes(data)
    try:
        return _stdlib_loads(data)
    except UnicodeDecodeError as exc:
        # json.loads(bytes) detects the encoding and decodes before parsing; report bad UTF-8
        # the way every other input error is reported, as a decode error.
        raise _json.JSONDecodeError(f"invalid UTF-8: {exc.reason}", "", exc.start) from exc


def json_loads_utf8_from(data: bytes, start: int = 0, /) -> Any:
    """The standard library's ``loads_utf8_from``, whichever backend is installed."""
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        position = exc.start - start
        raise _json.JSONDecodeError(f"invalid UTF-8: {exc.reason}", "", position) from exc
    try:
        value, end = _scan_once(text, start)
    except (StopIteration, ValueError):
        # The scanner counts an error's position from the prefix; json.loads on the document
        # alone counts it from ``start``, as orjson does.
        end = -1
    if end == len(text):
        return value
    return _stdlib_loads(text[start:] if start else text)


def _json_dumps(obj: Any, /) -> bytes:
    try:
        return _encoder.encode(obj).encode()
    except UnicodeEncodeError:
        # A lone surrogate (json.loads makes one of "\ud800") has no UTF-8 form: escape it.
        return _ascii_encoder.encode(obj).encode()


try:
    import orjson as _orjson
except ImportError:  # the ``fast`` extra is not installed
    BACKEND = "json"
    loads = _json_loads
    loads_utf8 = loads_utf8_from = fast_loads_utf8 = json_loads_utf8_from
    scan_text = _scan_once
    dumps = _json_dumps

else:
    BACKEND = "orjson"
    _orjson_loads = _orjson.loads
    _orjson_dumps = _orjson.dumps
    _OrjsonDecodeError = _orjson.JSONDecodeError
    _OrjsonEncodeError = _orjson.JSONEncodeError

    def loads(data: str | bytes | bytearray | memoryview, /) -> Any:
        try:
            return _orjson_loads(data)
        except _OrjsonDecodeError:
            return _json_loads(data)

    def loads_utf8_from(data: bytes, start: int = 0, /) -> Any:
        try:
            return _orjson_loads(data[start:] if start else data)
        except _OrjsonDecodeError:
            return json_loads_utf8_from(data, start)

    loads_utf8 = loads_utf8_from
    fast_loads_utf8 = _orjson_loads
    scan_text = None

    def dumps(obj: Any, /) -> bytes:
        try:
            encoded: bytes = _orjson_dumps(obj)
        except _OrjsonEncodeError:
            # A lone surrogate, an integer beyond 64 bits: what json can write, it writes.
            return _json_dumps(obj)
        return encoded


def dumps_str(obj: Any, /) -> str:
    """Compact JSON as text, for protocols whose messages are text documents."""
    return dumps(obj).decode()
