"""Typed views of Tradovate market data: quote entries and chart tick packets.

These are pure functions over the decoded JSON, used on demand rather than on every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["QUOTE_ENTRY_NAMES", "Quote", "QuoteEntry", "Tick", "decode_tick_packet", "parse_quote"]

QUOTE_ENTRY_NAMES = (
    "Bid",
    "Offer",
    "Trade",
    "TotalTradeVolume",
    "LowPrice",
    "HighPrice",
    "OpeningPrice",
    "SettlementPrice",
    "OpenInterest",
    "EmptyBook",
)


class QuoteEntry(NamedTuple):
    """One entry of a quote; either field may be absent (None)."""

    price: float | None
    size: float | None


class Quote(NamedTuple):
    """A quote update: only the entries that changed are present."""

    contract_id: int
    timestamp: str
    entries: dict[str, QuoteEntry]

    @property
    def bid(self) -> QuoteEntry | None:
        return self.entries.get("Bid")

    @property
    def offer(self) -> QuoteEntry | None:
        return self.entries.get("Offer")

    @property
    def trade(self) -> QuoteEntry | None:
        return self.entries.get("Trade")

    @property
    def total_volume(self) -> float | None:
        entry = self.entries.get("TotalTradeVolume")
        return entry.size if entry is not None else None


def parse_quote(quote: Mapping[str, Any]) -> Quote:
    """A typed view of one element of ``MarketData.quotes``."""
    entries = {
        name: QuoteEntry(value.get("price"), value.get("size"))
        for name, value in (quote.get("entries") or {}).items()
        if isinstance(value, Mapping)
    }
    return Quote(quote.get("contractId", 0), quote.get("timestamp", ""), entries)


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
    relative to its base timestamp: time = bt + t. Ticks may arrive out of order.
    """
    base_price = packet["bp"]
    base_time = packet["bt"]
    tick_size = packet["ts"]
    ticks = []
    for tick in packet.get("tks", ()):
        bid = tick.get("b")
        ask = tick.get("a")
        ticks.append(
            Tick(
                time=base_time + tick["t"],
                price=(base_price + tick["p"]) * tick_size,
                size=tick.get("s", 0),
                bid=(base_price + bid) * tick_size if bid is not None else None,
                ask=(base_price + ask) * tick_size if ask is not None else None,
                bid_size=tick.get("bs"),
                ask_size=tick.get("as"),
                id=tick.get("id"),
            )
        )
    ticks.sort(key=lambda t: t.time)
    return ticks
