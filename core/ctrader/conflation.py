"""Which cTrader events are market data, and how a queue may conflate them.

A client that falls behind may keep only the newest unread update per account and symbol.
Spots merge field by field (a spot without a bid keeps the last bid) with their live trendbars
by period; depth updates merge their new and deleted quotes. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from itertools import chain
from typing import Any

from msgspec.structs import replace

from .models import DepthEvent, SpotEvent
from .tables import PayloadType

__all__ = ["MARKET_DATA", "Merge", "Part"]

Merge = Callable[[Any, Any], Any]
#: One conflatable part of an event: its key (None: never conflated), the part, its merge.
Part = tuple[Hashable, Any, Merge | None]

_SPOT = int(PayloadType.PROTO_OA_SPOT_EVENT)
_DEPTH = int(PayloadType.PROTO_OA_DEPTH_EVENT)
#: The fields of a spot that a later spot without them leaves as they were.
_SPOT_VALUES = ("bid", "ask", "session_close", "timestamp")


def _key(kind: int, event: SpotEvent | DepthEvent) -> Hashable:
    return (kind, event.ctid_trader_account_id, event.symbol_id)


def _spot(event: SpotEvent) -> list[Part]:
    return [(_key(_SPOT, event), event, _merge_spots)]


def _merge_spots(older: SpotEvent, newer: SpotEvent) -> SpotEvent:
    """The newer spot's fields over the older's; live trendbars merged by period."""
    changes: dict[str, Any] = {
        name: getattr(older, name)
        for name in _SPOT_VALUES
        if getattr(newer, name) is None and getattr(older, name) is not None
    }
    if older.trendbar:
        bars = {bar.period: bar for bar in chain(older.trendbar, newer.trendbar)}
        changes["trendbar"] = list(bars.values())
    return replace(newer, **changes) if changes else newer


def _depth(event: DepthEvent) -> list[Part]:
    return [(_key(_DEPTH, event), event, _merge_depth)]


def _merge_depth(older: DepthEvent, newer: DepthEvent) -> DepthEvent:
    """Two book deltas as one: quotes added by either and not deleted by the newer one, and
    every deletion that is not of a quote the merged update adds."""
    newly_deleted = set(newer.deleted_quotes)
    added = {quote.id: quote for quote in older.new_quotes if quote.id not in newly_deleted}
    added.update((quote.id, quote) for quote in newer.new_quotes)
    deleted = chain(older.deleted_quotes, newer.deleted_quotes)
    return replace(
        newer,
        new_quotes=list(added.values()),
        deleted_quotes=list(dict.fromkeys(q for q in deleted if q not in added)),
    )


#: The market-data event types, and how each is cut into conflatable parts.
MARKET_DATA: Mapping[type, Callable[[Any], list[Part]]] = {
    SpotEvent: _spot,
    DepthEvent: _depth,
}
