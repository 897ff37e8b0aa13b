"""Values as exact text: numbers without a float in between, and JSON of any depth.

A server may send a value that Python's own tools cannot print: an integer of more digits than
``str(int)`` converts (4,300), a document nested deeper than the recursion limit. What the
core delivers, the command prints, so these functions convert without either limit.
"""

from __future__ import annotations

import decimal
import enum
import json
import math
from collections.abc import Mapping
from typing import Any

from msgspec import NODEFAULT, Struct
from msgspec.structs import FieldInfo, fields

from brokerwire.core.redaction import REDACTED, SECRET_FIELDS

__all__ = ["int_text", "json_text", "number_text", "scaled_text"]

# ``str(int)`` refuses more than this many digits (sys.get_int_max_str_digits(), at least 640).
_STR_BITS = 2000


def int_text(value: int) -> str:
    """``str(value)``, also for an integer beyond the interpreter's conversion limit."""
    if value.bit_length() <= _STR_BITS:
        return str(value)
    return str(decimal.Decimal(value))  # exact: a Decimal made from an int is never rounded


def number_text(value: int | float) -> str:
    """A JSON number as it was sent: ``21450.75`` stays ``21450.75``, ``10.0`` reads ``10``."""
    if isinstance(value, int):
        return int_text(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def scaled_text(raw: int | str, scale_digits: int, shown_digits: int | None) -> str | None:
    """``raw / 10**scale_digits`` written exactly, from the integer's digits.

    At least ``shown_digits`` decimals are written (a symbol's ``digits``), more when the value
    needs them, so nothing is rounded away; with ``shown_digits`` None, trailing zeros go. None
    when ``raw`` is not an integer.
    """
    text = int_text(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str):
        return None
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    if not digits.isascii() or not digits.isdigit():
        return None
    digits = digits.rjust(scale_digits + 1, "0")
    whole = digits[: len(digits) - scale_digits].lstrip("0") or "0"
    fraction = digits[len(digits) - scale_digits :].rstrip("0")
    if shown_digits is not None:
        fraction = fraction.ljust(shown_digits, "0")
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


# -- JSON of any depth ---------------------------------------------------------------------------


class _Literal(str):
    """Text to copy to the output as it is (a bracket, a comma, a key)."""

    __slots__ = ()


def _string(text: str) -> str:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: written as its \u escape
        return json.encoder.encode_basestring_ascii(text)
    return json.encoder.encode_basestring(text)


_REDACTED_JSON = _Literal(json.encoder.encode_basestring(REDACTED))


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _scalar(value: Any) -> str | None:
    """The JSON text of a value that holds no other value; None for containers."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, enum.Enum):
        return _string(value.name)
    if isinstance(value, int):
        return int_text(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _string(bytes(value).hex())
    if isinstance(value, BaseException) or not isinstance(value, Mapping | list | tuple | Struct):
        return _string(str(value))
    return None


def struct_members(value: Struct) -> list[tuple[str, Any]]:
    """A Struct's fields by wire name, leaving out those at their default where the Struct's
    JSON does (the generated models leave out what the server did not send)."""
    omit = value.__struct_config__.omit_defaults
    members = []
    for field in fields(value):
        item = getattr(value, field.name)
        if omit and _is_default(item, field):
            continue
        members.append((field.encode_name, item))
    return members


def _is_default(item: Any, field: FieldInfo) -> bool:
    if field.default is not NODEFAULT:
        return bool(item == field.default)
    return field.default_factory is not NODEFAULT and bool(item == field.default_factory())


def _push_members(stack: list[Any], items: list[tuple[Any, Any]], close: str) -> None:
    stack.append(_Literal(close))
    for index in range(len(items) - 1, -1, -1):
        key, value = items[index]
        name = str(key)
        stack.append(_REDACTED_JSON if name in SECRET_FIELDS else value)
        stack.append(_Literal(("," if index else "") + _string(name) + ":"))


def _push_elements(stack: list[Any], items: list[Any] | tuple[Any, ...]) -> None:
    stack.append(_Literal("]"))
    for index in range(len(items) - 1, -1, -1):
        stack.append(items[index])
        if index:
            stack.append(_Literal(","))


def json_text(value: Any, limit: int | None = None) -> str:
    """Compact JSON of ``value`` with credentials redacted, written without recursion.

    Structs become objects (by wire name), enums their names, bytes hexadecimal text, anything
    else its ``str``. With ``limit``, writing stops once that many characters are out and the
    text is cut there.
    """
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is _Literal:
            text: str | None = item
        else:
            text = _scalar(item)
        if text is None:
            if isinstance(item, Mapping):
                text = "{"
                _push_members(stack, list(item.items()), "}")
            elif isinstance(item, Struct):
                text = "{"
                _push_members(stack, struct_members(item), "}")
            else:
                text = "["
                _push_elements(stack, item)
        out.append(text)
        size += len(text)
        if limit is not None and size > limit:
            break
    joined = "".join(out)
    return joined if limit is None else joined[:limit]
