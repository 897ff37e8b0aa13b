"""Typed views of Tradovate data on demand: a quote from plain JSON, chart tick packets.

Pure functions over decoded JSON, used when asked rather than on every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..jsonlib import convert
from .market import Quote

__all__ = ["Tick", "decode_tick_packet", "parse_quote"]


def parse_quote(quote: Any) -> Quote:
    """One quote of decoded JSON (``{"contractId": ..., "entries": {...}}``) as a ``Quote``.

    ``MarketData`` events already hold ``Quote`` Structs; this is for quotes from elsewhere
    (a capture, a REST answer). Raises ``ValueError`` (msgspec's ``ValidationError``) saying
    what does not fit.
    """
    return convert(quote, Quote)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number: an int or a float, and not a bool."""
    return type(value) in (int, float)


def _number_or_none(value: Any) -> float | None:
    """``value`` when it is a JSON number, else None."""
    return value if _is_number(value) else None


class Tick(NamedTuple):
    """One tick of a tick chart, in absolute units.

    ``time`` is milliseconds since the epoch; prices are in the contract's price units; the
    bid/ask fields are None when the packet did not carry them.
    """

    time: int
    price: float
    size: float
    bid: float | None
    ask: float | None
    bid_size: float | None
    ask_size: float | None
    id: int | None


def decode_tick_packet(packet: Mapping[str, Any]) -> list[Tick]:
    """The ticks of a tick-chart packet (``{"bp", "bt", "ts", "tks": [...]}``), sorted by time.

    Prices are relative to the packet's base price in ticks: price = (bp + p) * ts; times are
    relative to its base timestamp: time = bt + t. Ticks may arrive out of order. A packet with
    no ticks (the end-of-history marker ``{"id": ..., "eoh": true}``) gives none.

    Raises ``ValueError`` when the packet is not in this shape (a field missing, or not a
    number): the packet came from the server, and the error says what was wrong with it.
    """
    if not isinstance(packet, Mapping):
        raise ValueError(f"a tick packet must be a JSON object, not {type(packet).__name__}")
    raw_ticks = packet.get("tks") or ()
    if not raw_ticks:
        return []
    if not isinstance(raw_ticks, list):
        raise ValueError(f"a tick packet's tks must be a list, not {type(raw_ticks).__name__}")
    try:
        ticks = _ticks(packet, raw_ticks)
    except OverflowError:  # an integer field beyond a float's range
        raise ValueError("a tick packet holds a number beyond a float's range") from None
    ticks.sort(key=lambda t: t.time)
    return ticks


def _ticks(packet: Mapping[str, Any], raw_ticks: list[Any]) -> list[Tick]:
    base_price = _number(packet, "bp")
    base_time = _number(packet, "bt")
    tick_size = _number(packet, "ts")
    ticks = []
    for tick in raw_ticks:
        if not isinstance(tick, Mapping):
            raise ValueError(f"a tick must be a JSON object, not {type(tick).__name__}")
        bid = _number(tick, "b", None)
        ask = _number(tick, "a", None)
        ticks.append(
            Tick(
                time=base_time + _number(tick, "t"),
                price=(base_price + _number(tick, "p")) * tick_size,
                size=_number(tick, "s", 0),
                bid=(base_price + bid) * tick_size if bid is not None else None,
                ask=(base_price + ask) * tick_size if ask is not None else None,
                bid_size=_number(tick, "bs", None),
                ask_size=_number(tick, "as", None),
                id=_number(tick, "id", None),
            )
        )
    return ticks


_REQUIRED: Any = object()


def _number(fields: Mapping[str, Any], name: str, default: Any = _REQUIRED) -> Any:
    """``fields[name]``, which must be a JSON number; ``default`` when absent or null."""
    value = fields.get(name)
    if value is None:
        if default is _REQUIRED:
            raise ValueError(f"tick packet without {name!r}")
        return default
    if not _is_number(value):
        raise ValueError(f"tick packet field {name!r} must be a number, not {type(value).__name__}")
    return value
