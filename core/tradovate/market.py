"""Tradovate market data as typed Structs: quotes, DOMs and histograms of ``md`` events, and
the bar packets, tick packets and end-of-history markers of ``chart`` events.

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
    "Bar",
    "BarPacket",
    "ChartPacket",
    "Dom",
    "EndOfHistory",
    "Histogram",
    "MarketModel",
    "Quote",
    "QuoteEntries",
    "QuoteEntry",
    "RawTick",
    "Tick",
    "TickPacket",
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


class Bar(MarketModel, frozen=True, rename="camel"):
    """One bar of a bar chart; the volumes and tick counts come with minute and daily bars."""

    timestamp: str
    open: Number
    high: Number
    low: Number
    close: Number
    up_volume: Number | None = None
    down_volume: Number | None = None
    up_ticks: Number | None = None
    down_ticks: Number | None = None
    bid_volume: Number | None = None
    offer_volume: Number | None = None


class BarPacket(MarketModel, frozen=True):
    """Bars of the chart subscription ``id`` (its ``historicalId`` or ``realtimeId``); ``td``
    is the trade date as the integer YYYYMMDD."""

    id: int
    bars: list[Bar]
    td: int | None = None


class RawTick(MarketModel, frozen=True):
    """One tick as sent: relative to its packet's base price (in tick sizes) and time (ms)."""

    t: int
    p: int
    s: Number | None = None
    b: int | None = None
    a: int | None = None
    bs: Number | None = None
    as_: Number | None = msgspec.field(default=None, name="as")
    id: int | None = None


class Tick(msgspec.Struct, frozen=True, gc=False):
    """One tick in absolute units: ``time`` in epoch milliseconds, prices in the contract's
    price units (None where the packet did not carry a bid or an ask)."""

    time: int
    price: float
    size: Number
    bid: float | None
    ask: float | None
    bid_size: Number | None
    ask_size: Number | None
    id: int | None


class TickPacket(MarketModel, frozen=True):
    """Ticks of the tick-chart subscription ``id``, relative to the base price ``bp`` (in tick
    sizes ``ts``) and base time ``bt``; ``ticks()`` resolves them."""

    id: int
    bp: int
    bt: int
    ts: float
    tks: list[RawTick] = []
    td: int | None = None
    s: str | None = None

    def ticks(self) -> list[Tick]:
        """The ticks in absolute units, in time order (the server may send them out of order):
        price = (bp + p) * ts, time = bt + t. Raises ``ValueError`` when a price is beyond a
        float's range."""
        try:
            ticks = self._resolved()
        except OverflowError:
            raise ValueError("a tick packet holds a price beyond a float's range") from None
        ticks.sort(key=lambda tick: tick.time)
        return ticks

    def _resolved(self) -> list[Tick]:
        base, size = self.bp, self.ts
        return [
            Tick(
                time=self.bt + tick.t,
                price=(base + tick.p) * size,
                size=tick.s if tick.s is not None else 0,
                bid=None if tick.b is None else (base + tick.b) * size,
                ask=None if tick.a is None else (base + tick.a) * size,
                bid_size=tick.bs,
                ask_size=tick.as_,
                id=tick.id,
            )
            for tick in self.tks
        ]


class EndOfHistory(MarketModel, frozen=True, omit_defaults=False):
    """``{"id": .., "eoh": true}``: the history of subscription ``id`` is complete; what
    follows is live."""

    id: int
    eoh: bool = True


#: What a chart event's ``charts`` list holds.
ChartPacket = BarPacket | TickPacket | EndOfHistory
