"""Tradovate market data as typed Structs: quotes, DOMs and histograms of ``md`` events.

A ``md`` event's ``d`` decodes straight into ``MarketData`` (``events.py``). Field names are
snake_case in Python and the wire's own names in JSON (``contract_id`` is ``contractId``, a
quote entry ``total_trade_volume`` is ``TotalTradeVolume``). A quote is partial: only the
entries that changed are present, the others are None. Numbers keep the type they were sent
in: a size of 12 is the ``int`` 12, a price of 6012.25 the ``float``. Fields the server adds
that are not modelled here are ignored; a field of the wrong type, or a missing required one,
makes the whole event arrive raw (``UnknownEvent`` with the validation message).
"""

from __future__ import annotations

import msgspec

#: A number as the server sent it: an integer stays an ``int`` (a size of 12 is not 12.0).
Number = int | float

__all__ = [
    "QUOTE_ENTRY_NAMES",
    "Dom",
    "Histogram",
    "MarketModel",
    "Quote",
    "QuoteEntries",
    "QuoteEntry",
    "TradeDate",
]


class MarketModel(
    msgspec.Struct, frozen=True, gc=False, omit_defaults=True, repr_omit_defaults=True
):
    """Base of the market-data Structs: immutable, untracked by the cyclic collector (they hold
    only numbers, text and one another), absent fields left out of JSON and reprs."""


class QuoteEntry(MarketModel, frozen=True):
    """One entry of a quote, or one level of a DOM; either field may be absent (None)."""

    price: Number | None = None
    size: Number | None = None


class QuoteEntries(MarketModel, frozen=True, rename="pascal"):
    """The entries of a quote by name (``Bid``, ``Offer`` ...); absent entries are None."""

    bid: QuoteEntry | None = None
    offer: QuoteEntry | None = None
    trade: QuoteEntry | None = None
    total_trade_volume: QuoteEntry | None = None
    low_price: QuoteEntry | None = None
    high_price: QuoteEntry | None = None
    opening_price: QuoteEntry | None = None
    settlement_price: QuoteEntry | None = None
    open_interest: QuoteEntry | None = None
    empty_book: QuoteEntry | None = None


#: The wire names of the quote entries, in ``QuoteEntries`` order.
QUOTE_ENTRY_NAMES: tuple[str, ...] = QuoteEntries.__struct_encode_fields__


class Quote(MarketModel, frozen=True, rename="camel"):
    """A quote update of one contract: only the entries that changed are present."""

    contract_id: int
    timestamp: str | None = None
    entries: QuoteEntries = QuoteEntries()
    id: int | None = None

    @property
    def bid(self) -> QuoteEntry | None:
        return self.entries.bid

    @property
    def offer(self) -> QuoteEntry | None:
        return self.entries.offer

    @property
    def trade(self) -> QuoteEntry | None:
        return self.entries.trade

    @property
    def total_volume(self) -> float | None:
        """The size of the ``TotalTradeVolume`` entry: contracts traded in the session."""
        entry = self.entries.total_trade_volume
        return entry.size if entry is not None else None


class Dom(MarketModel, frozen=True, rename="camel"):
    """A depth-of-market snapshot of one contract: every level, best first."""

    contract_id: int
    timestamp: str | None = None
    bids: list[QuoteEntry] = []
    offers: list[QuoteEntry] = []


class TradeDate(MarketModel, frozen=True):
    """The trading day a histogram belongs to."""

    year: int
    month: int
    day: int


class Histogram(MarketModel, frozen=True, rename="camel"):
    """Volume at price of one contract: ``items`` maps a price offset from ``base`` (in ticks,
    as text) to the volume traded there; ``refresh`` says it replaces the items held before."""

    contract_id: int
    timestamp: str | None = None
    trade_date: TradeDate | None = None
    base: Number | None = None
    items: dict[str, Number] = {}
    refresh: bool = False
