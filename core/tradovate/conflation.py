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

from .events import Chart, MarketData

__all__ = ["MARKET_DATA", "Merge", "Part"]

Merge = Callable[[Any, Any], Any]
#: One conflatable part of an event: its key (None: never conflated), the part, its merge.
Part = tuple[Hashable, Any, Merge | None]


def _field(item: Any, name: str) -> Hashable:
    """An id from the wire usable in a key (an unexpected shape keys as None)."""
    if type(item) is not dict:
        return None
    value = item.get(name)
    return value if type(value) is int or type(value) is str else None


def _key(kind: str, contract: Hashable) -> Hashable:
    """A conflation key, or None (never conflated) when the id is missing or of an odd shape."""
    return None if contract is None else (kind, contract)


def _newer(older: Any, newer: Any) -> Any:
    return newer


def _market_data(event: MarketData) -> list[Part]:
    quotes, doms, histograms = event
    if len(quotes) == 1 and not doms and not histograms:  # the usual message: no copy
        return [(_key("quote", _field(quotes[0], "contractId")), event, _merge_quotes)]
    parts: list[Part] = []
    for quote in quotes:
        key = _key("quote", _field(quote, "contractId"))
        parts.append((key, MarketData([quote], [], []), _merge_quotes))
    for dom in doms:
        parts.append((_key("dom", _field(dom, "contractId")), MarketData([], [dom], []), _newer))
    for histogram in histograms:
        key = _key("histogram", _field(histogram, "contractId"))
        parts.append((key, MarketData([], [], [histogram]), _merge_histograms))
    return parts


def _merge_quotes(older: MarketData, newer: MarketData) -> MarketData:
    """Quotes are partial: the newer entries over the older ones."""
    newest = newer.quotes[0]
    try:
        old_entries, new_entries = older.quotes[0]["entries"], newest["entries"]
        if old_entries.keys() <= new_entries.keys():  # the newer quote says all the older did
            return newer
        entries = {**old_entries, **new_entries}
    except (TypeError, KeyError, AttributeError):  # not the documented shape: the newer wins
        return newer
    return MarketData([{**newest, "entries": entries}], [], [])


def _merge_histograms(older: MarketData, newer: MarketData) -> MarketData:
    old, new = older.histograms[0], newer.histograms[0]
    if not isinstance(old, dict) or not isinstance(new, dict) or new.get("refresh"):
        return newer
    old_items, new_items = old.get("items"), new.get("items")
    if (
        old.get("base") != new.get("base")
        or not isinstance(old_items, dict)
        or not isinstance(new_items, dict)
    ):
        return newer
    merged = {**new, "items": {**old_items, **new_items}}
    if old.get("refresh"):
        merged["refresh"] = True
    return MarketData([], [], [merged])


def _chart(event: Chart) -> list[Part]:
    parts: list[Part] = []
    for packet in event.charts:
        if isinstance(packet, dict) and isinstance(packet.get("bars"), list):
            parts.append((_key("chart", _field(packet, "id")), Chart([packet]), _merge_bars))
        else:
            parts.append((None, Chart([packet]), None))
    return parts


def _merge_bars(older: Chart, newer: Chart) -> Chart:
    old, new = older.charts[0], newer.charts[0]
    bars: dict[Hashable, Any] = {}
    for bar in chain(old["bars"], new["bars"]):
        bars[_field(bar, "timestamp") or id(bar)] = bar
    return Chart([{**new, "bars": list(bars.values())}])


#: The market-data event types, and how each is cut into conflatable parts.
MARKET_DATA: Mapping[type, Callable[[Any], list[Part]]] = {
    MarketData: _market_data,
    Chart: _chart,
}
