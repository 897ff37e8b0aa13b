"""The one place that chooses the JSON functions.

With the ``fast`` extra installed, orjson does the work; otherwise the standard library does.
``loads`` accepts ``str``, ``bytes``, ``bytearray`` or ``memoryview`` and decodes straight from
bytes where the backend can. ``dumps`` returns compact UTF-8 bytes (no spaces after separators,
non-ASCII characters kept as they are), the form both brokers expect.

Both backends raise ``JSONDecodeError`` (a ``ValueError``) for invalid JSON, including invalid
UTF-8 in bytes input, so callers catch one exception type whatever is installed.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable
from typing import Any

__all__ = ["BACKEND", "JSONDecodeError", "dumps", "dumps_str", "loads"]

JSONDecodeError: type[ValueError]
loads: Callable[[str | bytes | bytearray | memoryview], Any]
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

else:
    BACKEND = "orjson"
    JSONDecodeError = _orjson.JSONDecodeError
    loads = _orjson.loads
    dumps = _orjson.dumps


def dumps_str(obj: Any, /) -> str:
    """Compact JSON as text, for protocols whose messages are text documents."""
    return dumps(obj).decode()
