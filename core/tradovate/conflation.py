"""Which Tradovate events are market data, and how a queue may conflate them.

A client that falls behind may keep only the newest unread update per instrument and kind. What
counts as one instrument and kind, and how two updates of it become one, are Tradovate's rules:
quotes are partial (entries of the newer update replace those of the older, the others are
kept), DOM snapshots replace, histogram items merge unless the newer one is a refresh or has
another base, chart bars merge by timestamp. Tick chart packets and end-of-history markers are
trades and markers, not prices: they are never conflated. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from itertools import chain
from typing import Any

from msgspec.structs import astuple, replace

from .events import Chart, MarketData
from .market import BarPacket, QuoteEntries

__all__ = ["MARKET_DATA", "Merge", "Part"]

Merge = Callable[[Any, Any], Any]
#: One conflatable part of an event: its key (None: never conflated), the part, its merge.
Part = tuple[Hashable, Any, Merge | None]


def _newer(older: Any, newer: Any) -> Any:
    return newer


def _market_data(event: MarketData) -> list[Part]:
    quotes, doms, histograms = event.quotes, event.doms, event.histograms
    if len(quotes) == 1 and not doms and not histograms:  # the usual message: no copy
        return [(("quote", quotes[0].contract_id), event, _merge_quotes)]
    parts: list[Part] = []
    for quote in quotes:
        parts.append((("quote", quote.contract_id), MarketData([quote]), _merge_quotes))
    for dom in doms:
        parts.append((("dom", dom.contract_id), MarketData(doms=[dom]), _newer))
    for histogram in histograms:
        key = ("histogram", histogram.contract_id)
        parts.append((key, MarketData(histograms=[histogram]), _merge_histograms))
    return parts


def _merge_quotes(older: MarketData, newer: MarketData) -> MarketData:
    """Quotes are partial: the newer entries over the older ones."""
    newest = newer.quotes[0]
    old_entries, new_entries = astuple(older.quotes[0].entries), astuple(newest.entries)
    merged = [
        new if new is not None else old for old, new in zip(old_entries, new_entries, strict=True)
    ]
    if merged == list(new_entries):  # the newer quote says all the older did
        return newer
    return MarketData([replace(newest, entries=QuoteEntries(*merged))])


def _merge_histograms(older: MarketData, newer: MarketData) -> MarketData:
    old, new = older.histograms[0], newer.histograms[0]
    if new.refresh or old.base != new.base:
        return newer
    merged = replace(new, items={**old.items, **new.items}, refresh=old.refresh)
    return MarketData(histograms=[merged])


def _chart(event: Chart) -> list[Part]:
    parts: list[Part] = []
    for packet in event.charts:
        if type(packet) is BarPacket:
            parts.append((("chart", packet.id), Chart([packet]), _merge_bars))
        else:
            parts.append((None, Chart([packet]), None))
    return parts


def _merge_bars(older: Chart, newer: Chart) -> Chart:
    """Bar updates as one: a bar of the same time in the newer packet replaces the older's."""
    old, new = older.charts[0], newer.charts[0]
    assert type(old) is BarPacket
    assert type(new) is BarPacket
    bars = {bar.timestamp: bar for bar in chain(old.bars, new.bars)}
    return Chart([replace(new, bars=list(bars.values()))])


#: The market-data event types, and how each is cut into conflatable parts.
MARKET_DATA: Mapping[type, Callable[[Any], list[Part]]] = {
    MarketData: _market_data,
    Chart: _chart,
}
