"""Events as text: one JSON object per line, or one line a person can read.

The JSON form is ``{"type": "<EventClass>", ...the event's fields}``, each field under its wire
name (a generated cTrader model's ``symbolId``, a quote's ``contractId`` and ``Bid``; the
library's own events use their attribute names); nested Structs become objects, enums their
names, errors their messages, bytes hexadecimal text. A cTrader payload type is followed by its
name (``"payload_type": 2131, "payload_type_name": "PROTO_OA_SPOT_EVENT"``). Credentials inside
payloads are replaced (``brokerwire.core.redaction``) whichever form is chosen.

Numbers are printed exactly as they were decoded: no price goes through a rounding format, and
a value too deep or too large for Python's own JSON encoder is written by ``_text.json_text``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from msgspec import Struct

from brokerwire.core import jsonlib
from brokerwire.core.ctrader import PayloadType, SpotEvent
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.redaction import REDACTED, SECRET_FIELDS
from brokerwire.core.tradovate import MarketData, Quote

from ..events import Disconnected, Reconnected
from ._text import json_text, number_text, scaled_text, struct_members

__all__ = [
    "PAYLOAD_TYPE_FIELDS",
    "event_record",
    "json_line",
    "learn_digits",
    "pretty_line",
    "symbol_digits",
]

_PRETTY_VALUE_LIMIT = 160
#: Characters a pretty line shows escaped: C0 and C1 controls, line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: cTrader prices are integers in 1/100000 of a unit.
_PRICE_DIGITS = 5
#: Fields that hold a cTrader payload type; each is followed by ``<field>_name``.
PAYLOAD_TYPE_FIELDS = frozenset({"payload_type", "request_type"})
#: The fast path hands deeper values (or larger integers) to ``json_text``.
_FAST_DEPTH = 64
_FAST_INT_BITS = 2000


class _Unusual(Exception):
    """A value the fast path does not take: ``json_text`` writes it instead."""


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON can hold it, with credential fields redacted."""
    if depth > _FAST_DEPTH:
        raise _Unusual
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        if value.bit_length() > _FAST_INT_BITS:
            raise _Unusual
        return value
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if k in SECRET_FIELDS else _plain(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, Struct):
        return {
            name: REDACTED if name in SECRET_FIELDS else _plain(item, depth + 1)
            for name, item in struct_members(value)
        }
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _payload_type_name(value: Any) -> str | None:
    if type(value) is not int:
        return None
    try:
        return PayloadType(value).name
    except ValueError:
        return None


def _raw_fields(
    event: Any, received_at: str | None = None, subject: str | None = None
) -> dict[str, Any]:
    """The event's type and fields, not yet converted, with payload type names added."""
    fields: dict[str, Any] = {"type": type(event).__name__}
    if subject is not None:
        fields["subject"] = subject
    if received_at is not None:
        fields["received_at"] = received_at
    for name, value in struct_members(event):
        fields[name] = REDACTED if name in SECRET_FIELDS else value
        if name in PAYLOAD_TYPE_FIELDS:
            fields[f"{name}_name"] = _payload_type_name(value)
    return fields


def _plain_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(value, 1) for name, value in fields.items()}


def event_record(event: Any) -> dict[str, Any]:
    """The event as a JSON-ready dict: its class name under ``type``, then its fields."""
    return _plain_fields(_raw_fields(event))


def json_line(event: Any, received_at: str | None = None, subject: str | None = None) -> str:
    """The event as one line of JSON; ``subject`` (the bus subject it came on) and
    ``received_at`` (text) follow its type when given."""
    fields = _raw_fields(event, received_at, subject)
    try:
        return jsonlib.dumps_str(_plain_fields(fields))
    except (_Unusual, LocalProtocolError, ValueError, TypeError, OverflowError, RecursionError):
        return json_text(fields)


def _value_text(value: Any, limit: int) -> str:
    """Text shown as it is unless it holds a control character (a line break sent by a server
    must not split a pretty line); anything else as JSON."""
    if isinstance(value, str) and not _CONTROL.search(value):
        return value
    try:
        return jsonlib.dumps_str(_plain(value, 1))
    except (_Unusual, LocalProtocolError, ValueError, TypeError, OverflowError, RecursionError):
        return json_text(value, limit + 1)


# -- pretty lines --------------------------------------------------------------------------------


def symbol_digits(payload: Any) -> dict[int, int]:
    """Each symbol's ``digits`` in a ProtoOASymbolByIdRes payload, by symbol id."""
    symbols = payload.get("symbol") if isinstance(payload, Mapping) else None
    digits: dict[int, int] = {}
    for symbol in symbols if isinstance(symbols, list) else ():
        if isinstance(symbol, Mapping):
            symbol_id, shown = symbol.get("symbolId"), symbol.get("digits")
            if type(symbol_id) is int and type(shown) is int and 0 <= shown <= 20:
                digits[symbol_id] = shown
    return digits


def learn_digits(event: Any, digits: MutableMapping[int, int]) -> None:
    """Note each symbol's ``digits`` from a ProtoOASymbolByIdRes among the events."""
    if getattr(event, "payload_type", None) == PayloadType.PROTO_OA_SYMBOL_BY_ID_RES:
        digits.update(symbol_digits(getattr(event, "payload", None)))


def _quote_line(quote: Quote) -> str:
    parts = [f"quote {number_text(quote.contract_id)}"]
    for label, entry in (("bid", quote.bid), ("ask", quote.offer), ("trade", quote.trade)):
        if entry is not None and entry.price is not None:
            size = f" x {number_text(entry.size)}" if entry.size is not None else ""
            parts.append(f"{label} {number_text(entry.price)}{size}")
    return "  ".join(parts)


def _short(value: Any) -> str:
    """``value`` as text for a pretty line, cut to ``_PRETTY_VALUE_LIMIT`` characters."""
    text = _value_text(value, _PRETTY_VALUE_LIMIT)
    if len(text) > _PRETTY_VALUE_LIMIT:
        text = text[: _PRETTY_VALUE_LIMIT - 3] + "..."
    return text


def _market_data_line(event: MarketData) -> str:
    parts = [_quote_line(q) for q in event.quotes]
    parts += [f"dom {number_text(d.contract_id)}" for d in event.doms]
    parts += [f"histogram {number_text(h.contract_id)}" for h in event.histograms]
    return "; ".join(parts) or "market data (empty)"


def _spot_line(event: SpotEvent, digits: Mapping[int, int]) -> str:
    symbol_id = event.symbol_id
    parts = [f"spot {number_text(symbol_id)}"]
    for label, raw in (("bid", event.bid), ("ask", event.ask)):
        if raw is not None:
            price = scaled_text(raw, _PRICE_DIGITS, digits.get(symbol_id))
            parts.append(f"{label} {price if price is not None else _short(raw)}")
    return "  ".join(parts)


def _generic_line(event: Any) -> str:
    parts = [type(event).__name__]
    for name, value in _raw_fields(event).items():
        if name != "type":
            parts.append(f"{name}={_short(value)}")
    return " ".join(parts)


def pretty_line(event: Any, digits: Mapping[int, int] | None = None) -> str:
    """One short line for a person: quotes and spots as prices, the rest as ``Name field=...``.

    ``digits`` maps cTrader symbol ids to the number of decimals their prices are shown with;
    a symbol not in it shows as many as its price needs, up to five.
    """
    if isinstance(event, MarketData):
        return _market_data_line(event)
    if isinstance(event, SpotEvent):
        return _spot_line(event, digits or {})
    if isinstance(event, Disconnected):
        again = ", reconnecting" if event.reconnecting else ""
        return f"disconnected: {_short(event.reason) or f'code {event.code}'}{again}"
    if isinstance(event, Reconnected):
        return (
            f"reconnected after {event.attempts} attempt(s), "
            f"{event.resubscribed} subscription(s) restored"
        )
    return _generic_line(event)
