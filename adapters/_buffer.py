"""The bounded queue between a client's reader and the code that consumes its events.

The queue is bounded in events (``limit``) and in bytes (``max_bytes``, counted from each
event's size on the wire). What happens when it is full depends on ``on_full``:

``"conflate"`` (the default)
    Reading never pauses for market data. Past either bound, market data is conflated: each
    update goes to a slot per instrument and kind (``market_parts`` below says which events are
    market data and how each kind merges), the newest merged into an unread older one, so the
    queue holds at most one pending update per instrument and kind besides what it already
    held. Everything else (answers' follow-ups, entity changes, executions, connection events)
    is never dropped nor reordered; reading pauses only when those events alone fill the
    queue, and resumes once they are down to half of each bound.
``"pause"``
    Nothing is conflated: reading pauses when the queue is full and resumes at half of each
    bound (the server then slows down through TCP flow control).

``conflate_always`` (``events(conflate=True)``) conflates market data whether the queue is
full or not: the consumer sees the latest update per instrument and kind, as a dashboard wants.

Order. Events that are not market data keep their order. A slot sits in the queue where its
oldest unread update was: the merged update is delivered there, so it may come before events
that arrived after its oldest part (delivering it at the place of the newest instead would let
a steady stream push every slot back for ever).

Merging. Each kind merges as its protocol means it: Tradovate quotes are partial (entries of the
newer update replace those of the older, the others are kept), DOM snapshots replace, histogram
items merge unless the newer one is a refresh or has another base, chart bars merge by
timestamp; cTrader spots merge field by field (a spot without a bid keeps the last bid) with
live trendbars by period, and depth updates merge their new and deleted quotes. Tradovate tick
chart packets and end-of-history markers are trades and markers, not prices: they are never
conflated.

Sizes. The adapter knows the bytes of each read, not of each event: an event's size is its share
of the read it came from (the read's bytes divided by the events it gave), and a slot weighs its
newest update. One read's worth of events can go past either bound.

Cost per event: a dict lookup by type; while conflating, one dict lookup by key and a merge.

The rule for what is market data is a broker rule and belongs in each broker's core package; it
lives here, in ``market_parts``, until it moves there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Literal

from brokerwire.core.ctrader import DepthEvent, SpotEvent
from brokerwire.core.tradovate import Chart, MarketData

__all__ = ["EventBuffer", "market_parts"]

Merge = Callable[[Any, Any], Any]
Part = tuple[Hashable, Any, Merge | None]

_SPOT = 2131
_DEPTH = 2155


class _Slot:
    """Market data in the queue: one update, or the merge of several of one key."""

    __slots__ = ("event", "key", "merge", "size")

    def __init__(self, key: Hashable, event: Any, merge: Merge | None, size: int) -> None:
        self.key = key
        self.event = event
        self.merge = merge
        self.size = size


class EventBuffer:
    """Events waiting for the consumer, conflation of market data, and the decision to pause or
    resume reading."""

    def __init__(
        self,
        limit: int,
        max_bytes: int = 64 * 1024 * 1024,
        on_full: Literal["conflate", "pause"] = "conflate",
    ) -> None:
        if limit < 1:
            raise ValueError("the event queue needs room for at least one event")
        if max_bytes < 1:
            raise ValueError("the event queue needs room for at least one byte")
        if on_full not in ("conflate", "pause"):
            raise ValueError(f"on_full must be 'conflate' or 'pause', not {on_full!r}")
        self.limit = limit
        self.max_bytes = max_bytes
        self.strict = on_full == "pause"
        self.conflate_always = False
        self.ended = False
        self._entries: deque[Any] = deque()
        self._kept_sizes: deque[int] = deque()
        self._slots: dict[Hashable, _Slot] = {}
        self._bytes = 0
        self._kept_bytes = 0
        self._carried = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def queued_bytes(self) -> int:
        """The wire bytes of the events in the queue (as estimated)."""
        return self._bytes

    @property
    def kept(self) -> int:
        """Events in the queue that are not market data."""
        return len(self._kept_sizes)

    def snapshot(self) -> list[Any]:
        """The queued events in the order they will be taken, without taking them."""
        return [entry.event if type(entry) is _Slot else entry for entry in self._entries]

    def push(self, events: list[Any], nbytes: int = 0) -> None:
        """Queue the events of one read of ``nbytes`` bytes (0 for events of no read). The
        bytes of a read that completed no event count with the next one that does."""
        if not events:
            self._carried += nbytes
            return
        share = (nbytes + self._carried) // len(events)
        self._carried = 0
        for event in events:
            if type(event) not in _MARKET:
                self._keep(event, share)
            elif self._conflating():
                self._conflate(_MARKET[type(event)](event), share)
            else:
                if self._slots:
                    # Updates queued from now on go after the slots: none may merge into one.
                    self._slots.clear()
                self._entries.append(_Slot(None, event, None, share))
                self._bytes += share

    def pop(self) -> Any:
        entry = self._entries.popleft()
        if type(entry) is _Slot:
            self._bytes -= entry.size
            if entry.key is not None and self._slots.get(entry.key) is entry:
                del self._slots[entry.key]
            return entry.event
        size = self._kept_sizes.popleft()
        self._bytes -= size
        self._kept_bytes -= size
        return entry

    @property
    def full(self) -> bool:
        """Reading should pause."""
        if self.strict:
            return len(self._entries) >= self.limit or self._bytes >= self.max_bytes
        return len(self._kept_sizes) >= self.limit or self._kept_bytes >= self.max_bytes

    @property
    def drained(self) -> bool:
        """Reading may resume."""
        if self.strict:
            count, size = len(self._entries), self._bytes
        else:
            count, size = len(self._kept_sizes), self._kept_bytes
        return count <= self.limit // 2 and size <= self.max_bytes // 2

    # -- internals ---------------------------------------------------------------------------------

    def _conflating(self) -> bool:
        if self.conflate_always:
            return True
        if self.strict:
            return False
        return len(self._entries) >= self.limit or self._bytes >= self.max_bytes

    def _keep(self, event: Any, size: int) -> None:
        self._entries.append(event)
        self._kept_sizes.append(size)
        self._bytes += size
        self._kept_bytes += size

    def _conflate(self, parts: list[Part], share: int) -> None:
        size = share // len(parts) if parts else 0
        for key, part, merge in parts:
            if key is None:
                self._keep(part, size)
                continue
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot(key, part, merge, size)
                self._entries.append(slot)
                self._bytes += size
                continue
            slot.event = merge(slot.event, part) if merge is not None else part
            self._bytes += size - slot.size
            slot.size = size


# -- which events are market data, and how each kind merges ---------------------------------------


def market_parts(event: Any) -> list[Part] | None:
    """``event`` cut into its market-data parts, each with its conflation key and merge (a
    None key: a part that is never conflated); None when ``event`` is not market data."""
    split = _MARKET.get(type(event))
    return split(event) if split is not None else None


def _ident(value: Any) -> Hashable:
    """An id from the wire usable in a key (an unexpected shape keys as None)."""
    return value if isinstance(value, int | str) else None


def _field(item: Any, name: str) -> Hashable:
    return _ident(item.get(name)) if isinstance(item, dict) else None


def _key(kind: Hashable, *ids: Hashable) -> Hashable:
    """A conflation key, or None (never conflated) when an id is missing or of an odd shape."""
    return None if None in ids else (kind, *ids)


def _newer(older: Any, newer: Any) -> Any:
    return newer


def _tradovate_market_data(event: MarketData) -> list[Part]:
    parts: list[Part] = []
    for quote in event.quotes:
        key = _key("quote", _field(quote, "contractId"))
        parts.append((key, MarketData([quote], [], []), _merge_quotes))
    for dom in event.doms:
        parts.append((_key("dom", _field(dom, "contractId")), MarketData([], [dom], []), _newer))
    for histogram in event.histograms:
        key = _key("histogram", _field(histogram, "contractId"))
        parts.append((key, MarketData([], [], [histogram]), _merge_histograms))
    return parts


def _merge_quotes(older: MarketData, newer: MarketData) -> MarketData:
    old, new = older.quotes[0], newer.quotes[0]
    old_entries = old.get("entries") if isinstance(old, dict) else None
    new_entries = new.get("entries") if isinstance(new, dict) else None
    if not isinstance(old_entries, dict) or not isinstance(new_entries, dict):
        return newer
    return MarketData([{**new, "entries": {**old_entries, **new_entries}}], [], [])


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


def _tradovate_chart(event: Chart) -> list[Part]:
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
    for bar in _iterate(old["bars"], new["bars"]):
        bars[_field(bar, "timestamp") or id(bar)] = bar
    return Chart([{**new, "bars": list(bars.values())}])


def _iterate(*lists: list[Any]) -> Iterator[Any]:
    for items in lists:
        yield from items


def _ctrader_spot(event: SpotEvent) -> list[Part]:
    payload = event.payload
    key = _key(_SPOT, _field(payload, "ctidTraderAccountId"), _field(payload, "symbolId"))
    return [(key, event, _merge_spots)]


def _merge_spots(older: SpotEvent, newer: SpotEvent) -> SpotEvent:
    old, new = older.payload, newer.payload
    merged = {**old, **new}
    old_bars, new_bars = old.get("trendbar"), new.get("trendbar")
    if isinstance(old_bars, list) and isinstance(new_bars, list):
        bars: dict[Hashable, Any] = {}
        for bar in _iterate(old_bars, new_bars):
            bars[_field(bar, "period") or id(bar)] = bar
        merged["trendbar"] = list(bars.values())
    return SpotEvent(merged)


def _ctrader_depth(event: DepthEvent) -> list[Part]:
    payload = event.payload
    key = _key(_DEPTH, _field(payload, "ctidTraderAccountId"), _field(payload, "symbolId"))
    return [(key, event, _merge_depth)]


def _merge_depth(older: DepthEvent, newer: DepthEvent) -> DepthEvent:
    """Two book deltas as one: quotes added by either and not deleted by the newer one, and
    every deletion that is not of a quote the merged update adds."""
    old, new = older.payload, newer.payload
    lists = (old.get("newQuotes", []), new.get("newQuotes", []))
    deleted_lists = (old.get("deletedQuotes", []), new.get("deletedQuotes", []))
    if not all(isinstance(items, list) for items in (*lists, *deleted_lists)):
        return newer
    if not all(isinstance(item, dict) for item in _iterate(*lists)):
        return newer
    if any(_ident(quote_id) is None for quote_id in _iterate(*deleted_lists)):
        return newer
    newly_deleted = {_ident(quote_id) for quote_id in deleted_lists[1]}
    added: dict[Hashable, Any] = {_ident(q.get("id")): q for q in lists[0]}
    for quote_id in newly_deleted:
        added.pop(quote_id, None)
    added.update((_ident(q.get("id")), q) for q in lists[1])
    deleted = [quote_id for quote_id in _iterate(*deleted_lists) if _ident(quote_id) not in added]
    merged = {
        **new,
        "newQuotes": list(added.values()),
        "deletedQuotes": list(dict.fromkeys(deleted)),
    }
    return DepthEvent(merged)


#: The market-data event types of both brokers, and how each is cut into conflatable parts.
_MARKET: dict[type, Callable[[Any], list[Part]]] = {
    MarketData: _tradovate_market_data,
    Chart: _tradovate_chart,
    SpotEvent: _ctrader_spot,
    DepthEvent: _ctrader_depth,
}
