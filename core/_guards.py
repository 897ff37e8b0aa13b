"""Guards for values that come from the wire, and for durations a caller hands the core.

A decoded JSON value can hold anything JSON can: an integer of 4,300 digits, ``NaN`` and
``Infinity`` (which Python's ``json`` reads), a list nested a thousand levels deep. Turning one
into a float, an int or a text raises ``OverflowError``, ``ValueError`` or ``RecursionError``,
and nothing may raise out of ``receive_data``. These functions convert such a value or say that
they cannot (None, or a bounded placeholder), and never raise.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

from .errors import LocalProtocolError

__all__ = ["check_duration", "finite_seconds", "safe_preview", "text_of"]

_short_repr = reprlib.Repr()
_short_repr.maxlevel = 4
_short_repr.maxstring = 60
_short_repr.maxother = 60


def finite_seconds(value: Any) -> float | None:
    """A JSON number of seconds as a finite float of at least 0; None when it is not one.

    A bool, a string, ``NaN``, an infinity, a negative number and an integer beyond a double's
    range are all None.
    """
    if type(value) is int:
        if value < 0 or value.bit_length() > 1023:
            return None
        return float(value)
    if type(value) is float and 0.0 <= value < math.inf:
        return value
    return None


def safe_preview(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, without failing on a value too deep for
    ``repr`` or an integer too long to print."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        try:
            text = _short_repr.repr(value)
        except (RecursionError, ValueError):
            text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[:limit] + "..."


def text_of(value: Any) -> str:
    """A wire value as text: a string as it is, None as "", a number as ``str`` writes it,
    anything else (a list or an object where text was expected) as a bounded preview."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) in (int, float, bool):
        try:
            return str(value)
        except ValueError:  # an integer beyond the interpreter's digit limit
            return f"<an integer of {value.bit_length()} bits>"
    return safe_preview(value, 200)


def check_duration(name: str, value: Any, *, positive: bool = False) -> None:
    """Refuse a duration in seconds that no timer can use: not a number, NaN, infinite, or
    negative (zero too, when ``positive``). Raises ``LocalProtocolError``.

    A NaN deadline compares false with every time, so it never fires and, held in a heap or a
    ``min``, hides every deadline behind it; an infinite one never fires either.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise LocalProtocolError(f"{name} must be a finite number of seconds, not {value!r}")
    if value < 0 or (positive and value == 0):
        need = "positive" if positive else "zero or more"
        raise LocalProtocolError(f"{name} must be {need}, not {value!r}")


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 text (ASCII, the usual case, is checked at memory speed).

    A typed decoder skips the fields it does not model without reading them, so a message it
    takes is not yet known to be text: this says so before the message is accepted.
    """
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True
