"""Typed views of Tradovate data on demand: a quote or a tick packet from plain JSON.

Pure functions over decoded JSON, used when asked rather than on every message.
"""

from __future__ import annotations

from typing import Any

from ..jsonlib import convert
from .market import Quote, Tick, TickPacket

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


def decode_tick_packet(packet: Any) -> list[Tick]:
    """The ticks of a tick-chart packet (``{"bp", "bt", "ts", "tks": [...]}``) of decoded JSON,
    in absolute units and time order (``TickPacket.ticks``; ``Chart`` events already hold
    typed packets). Raises ``ValueError`` (msgspec's ``ValidationError``) saying what does not
    fit. A packet with no ticks (the end-of-history marker) gives none.
    """
    if isinstance(packet, dict) and not packet.get("tks"):
        return []
    return convert(packet, TickPacket).ticks()
