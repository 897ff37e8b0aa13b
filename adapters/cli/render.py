"""Events as text: one JSON object per line, or one line a person can read.

The JSON form is ``{"type": "<EventClass>", ...the event's fields}``; nested records become
objects, enums their names, errors their messages, bytes hexadecimal text. Credentials inside
payloads are replaced (``brokerwire.core.redaction``) whichever form is chosen.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from brokerwire.core import jsonlib
from brokerwire.core.ctrader import SpotEvent, units
from brokerwire.core.redaction import REDACTED, SECRET_FIELDS
from brokerwire.core.tradovate import MarketData
from brokerwire.core.tradovate.helpers import parse_quote

from ..events import Disconnected, Reconnected

__all__ = ["event_record", "json_line", "pretty_line"]

_PRETTY_VALUE_LIMIT = 160


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it, with credential fields redacted."""
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        return value
    if isinstance(value, Mapping):
        return {str(k): REDACTED if k in SECRET_FIELDS else _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return _fields(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, BaseException):
        return str(value)
    return str(value)


def _fields(record: Any) -> dict[str, Any]:
    return {
        name: REDACTED if name in SECRET_FIELDS else _plain(value)
        for name, value in zip(record._fields, record, strict=True)
    }


def event_record(event: Any) -> dict[str, Any]:
    """The event as a JSON-ready dict: its class name under ``type``, then its fields."""
    return {"type": type(event).__name__, **_fields(event)}


def json_line(event: Any) -> str:
    return jsonlib.dumps_str(event_record(event))


def _quote_line(quote: Mapping[str, Any]) -> str:
    view = parse_quote(quote)
    parts = [f"quote {view.contract_id}"]
    for label, entry in (("bid", view.bid), ("ask", view.offer), ("trade", view.trade)):
        if entry is not None and entry.price is not None:
            size = f" x {entry.size:g}" if entry.size is not None else ""
            parts.append(f"{label} {entry.price:g}{size}")
    return "  ".join(parts)


def _market_data_line(event: MarketData) -> str:
    parts = [_quote_line(q) for q in event.quotes if isinstance(q, Mapping)]
    parts += [f"dom {d.get('contractId')}" for d in event.doms if isinstance(d, Mapping)]
    parts += [
        f"histogram {h.get('contractId')}" for h in event.histograms if isinstance(h, Mapping)
    ]
    return "; ".join(parts) or "market data (empty)"


def _spot_line(event: SpotEvent) -> str:
    parts = [f"spot {event.symbol_id}"]
    for label, raw in (("bid", event.bid), ("ask", event.ask)):
        if raw is not None:
            # Prices come in 1/100000 of a unit: five decimals say all there is.
            parts.append(f"{label} " + f"{units.price(raw):.5f}".rstrip("0").rstrip("."))
    return "  ".join(parts)


def _generic_line(event: Any) -> str:
    parts = [type(event).__name__]
    for name, value in _fields(event).items():
        text = value if isinstance(value, str) else jsonlib.dumps_str(value)
        if len(text) > _PRETTY_VALUE_LIMIT:
            text = text[: _PRETTY_VALUE_LIMIT - 3] + "..."
        parts.append(f"{name}={text}")
    return " ".join(parts)


def pretty_line(event: Any) -> str:
    """One short line for a person: quotes and spots as prices, the rest as ``Name field=...``."""
    if isinstance(event, MarketData):
        return _market_data_line(event)
    if isinstance(event, SpotEvent):
        return _spot_line(event)
    if isinstance(event, Disconnected):
        again = ", reconnecting" if event.reconnecting else ""
        return f"disconnected: {event.reason or f'code {event.code}'}{again}"
    if isinstance(event, Reconnected):
        return (
            f"reconnected after {event.attempts} attempt(s), "
            f"{event.resubscribed} subscription(s) restored"
        )
    return _generic_line(event)
