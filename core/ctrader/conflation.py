"""Which cTrader events are market data, and how a queue may conflate them.

A client that falls behind may keep only the newest unread update per account and symbol.
Spots merge field by field (a spot without a bid keeps the last bid) with their live trendbars
by period; depth updates merge their new and deleted quotes. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from itertools import chain
from typing import Any

from .events import DepthEvent, SpotEvent
from .tables import PayloadType

__all__ = ["MARKET_DATA", "Merge", "Part"]

Merge = Callable[[Any, Any], Any]
#: One conflatable part of an event: its key (None: never conflated), the part, its merge.
Part = tuple[Hashable, Any, Merge | None]

_SPOT = int(PayloadType.PROTO_OA_SPOT_EVENT)
_DEPTH = int(PayloadType.PROTO_OA_DEPTH_EVENT)


def _ident(value: Any) -> Hashable:
    """An id from the wire usable in a key (an unexpected shape keys as None)."""
    return value if type(value) is int or type(value) is str else None


def _field(item: Any, name: str) -> Hashable:
    return _ident(item.get(name)) if type(item) is dict else None


def _key(kind: int, payload: dict[str, Any]) -> Hashable:
    """The key of an account's symbol, or None (never conflated) when an id is missing."""
    account, symbol = _field(payload, "ctidTraderAccountId"), _field(payload, "symbolId")
    return None if account is None or symbol is None else (kind, account, symbol)


def _spot(event: SpotEvent) -> list[Part]:
    return [(_key(_SPOT, event.payload), event, _merge_spots)]


def _merge_spots(older: SpotEvent, newer: SpotEvent) -> SpotEvent:
    old, new = older.payload, newer.payload
    if old.keys() <= new.keys() and "trendbar" not in old:  # the newer spot says it all
        return newer
    merged = {**old, **new}
    old_bars, new_bars = old.get("trendbar"), new.get("trendbar")
    if isinstance(old_bars, list) and isinstance(new_bars, list):
        bars: dict[Hashable, Any] = {}
        for bar in chain(old_bars, new_bars):
            bars[_field(bar, "period") or id(bar)] = bar
        merged["trendbar"] = list(bars.values())
    return SpotEvent(merged)


def _depth(event: DepthEvent) -> list[Part]:
    return [(_key(_DEPTH, event.payload), event, _merge_depth)]


def _merge_depth(older: DepthEvent, newer: DepthEvent) -> DepthEvent:
    """Two book deltas as one: quotes added by either and not deleted by the newer one, and
    every deletion that is not of a quote the merged update adds."""
    old, new = older.payload, newer.payload
    lists = (old.get("newQuotes", []), new.get("newQuotes", []))
    deleted_lists = (old.get("deletedQuotes", []), new.get("deletedQuotes", []))
    if not all(isinstance(items, list) for items in (*lists, *deleted_lists)):
        return newer
    if not all(isinstance(item, dict) for item in chain(*lists)):
        return newer
    if any(_ident(quote_id) is None for quote_id in chain(*deleted_lists)):
        return newer
    newly_deleted = {_ident(quote_id) for quote_id in deleted_lists[1]}
    added: dict[Hashable, Any] = {_ident(q.get("id")): q for q in lists[0]}
    for quote_id in newly_deleted:
        added.pop(quote_id, None)
    added.update((_ident(q.get("id")), q) for q in lists[1])
    deleted = [quote_id for quote_id in chain(*deleted_lists) if _ident(quote_id) not in added]
    merged = {
        **new,
        "newQuotes": list(added.values()),
        "deletedQuotes": list(dict.fromkeys(deleted)),
    }
    return DepthEvent(merged)


#: The market-data event types, and how each is cut into conflatable parts.
MARKET_DATA: Mapping[type, Callable[[Any], list[Part]]] = {
    SpotEvent: _spot,
    DepthEvent: _depth,
}
