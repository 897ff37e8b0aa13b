"""The event queue on its own: bounds in events and bytes, conflation of market data per
instrument and kind, and the order of everything else."""

from __future__ import annotations

from typing import Any

import pytest

from brokerwire.adapters.engine.event_queue import EventBuffer, market_parts
from brokerwire.core.ctrader import DepthEvent, SpotEvent
from brokerwire.core.jsonlib import convert
from brokerwire.core.tradovate import (
    Chart,
    EntityChanged,
    EntityEventType,
    MarketData,
    Quote,
    Response,
    UnknownEvent,
)
from brokerwire.core.tradovate.market import Bar, BarPacket, EndOfHistory, RawTick, TickPacket
from brokerwire.core.tradovate.models import Action, Order, OrdStatus

ES, NQ = 3570918, 3570920


def quote(contract: int, seq: int, **entries: Any) -> Quote:
    """A quote as the wire sends it, numbered with its ``id``."""
    fields = entries or {"Bid": {"price": 100.0 + seq, "size": 1}}
    return convert({"contractId": contract, "id": seq, "entries": fields}, Quote)


def md(*quotes: Quote) -> MarketData:
    return MarketData(list(quotes), [], [])


def change(n: int) -> EntityChanged:
    order = Order(
        id=n,
        account_id=1,
        timestamp="2026-12-01T10:00:00Z",
        action=Action.BUY,
        ord_status=OrdStatus.WORKING,
        admin=False,
    )
    return EntityChanged("order", EntityEventType.UPDATED, order)


def spot(symbol: int, seq: int, **fields: Any) -> SpotEvent:
    """A spot as the wire sends it, numbered with its ``timestamp``."""
    payload = {"ctidTraderAccountId": 7, "symbolId": symbol, "timestamp": seq, **fields}
    return convert(payload, SpotEvent)


def seq(event: MarketData) -> int | None:
    return event.quotes[0].id


def order_id(event: EntityChanged) -> int | None:
    assert isinstance(event.entity, Order)
    return event.entity.id


def full(buffer: EventBuffer) -> bool:
    """Whether the buffer is full, read through a call: mypy would narrow the property
    after a first ``assert not buffer.full`` and call the next check unreachable."""
    return buffer.full


def drain(buffer: EventBuffer) -> list[Any]:
    return [buffer.pop() for _ in range(len(buffer))]


def test_below_the_bounds_nothing_is_conflated() -> None:
    buffer = EventBuffer(100)
    events = [md(quote(ES, n)) for n in range(50)]
    buffer.push(events, 5000)
    assert drain(buffer) == events
    assert buffer.queued_bytes == 0


def test_when_full_market_data_is_conflated_per_instrument_and_the_rest_kept_in_order() -> None:
    buffer = EventBuffer(4)
    buffer.push([md(quote(ES, n)) for n in range(4)])
    assert len(buffer) == 4
    assert not full(buffer)
    stream: list[Any] = []
    for n in range(4, 1004):
        stream.append(md(quote(ES, n), quote(NQ, n)))
        if n % 100 == 0:
            stream.append(change(n))
    buffer.push(stream)
    # The four earlier quotes, two slots (one per contract), and the ten entity changes.
    assert len(buffer) == 4 + 2 + 10
    assert buffer.kept == 10
    out = drain(buffer)
    assert [seq(e) for e in out[:4]] == [0, 1, 2, 3]
    slots = [e for e in out[4:] if type(e) is MarketData]
    assert [(e.quotes[0].contract_id, seq(e)) for e in slots] == [
        (ES, 1003),
        (NQ, 1003),
    ]
    changes = [e for e in out if type(e) is EntityChanged]
    assert [order_id(e) for e in changes] == list(range(100, 1001, 100))
    # Each slot sits where its oldest unread update was: before every later entity change.
    assert [type(e).__name__ for e in out[4:7]] == ["MarketData", "MarketData", "EntityChanged"]


def test_a_slot_taken_by_the_consumer_starts_a_new_one_at_the_end() -> None:
    buffer = EventBuffer(1)
    buffer.push([Response(1, 200, None, "x")])
    buffer.push([md(quote(ES, 1)), md(quote(ES, 2))])
    assert buffer.pop() == Response(1, 200, None, "x")
    assert seq(buffer.pop()) == 2
    buffer.push([change(1)])
    buffer.push([md(quote(ES, 3)), md(quote(ES, 4))])
    assert drain(buffer) == [change(1), md(quote(ES, 4))]


def test_per_instrument_order_holds_when_the_queue_goes_below_its_bound_and_back() -> None:
    buffer = EventBuffer(3)
    buffer.push([md(quote(ES, 1)), md(quote(NQ, 1)), md(quote(ES, 2))])
    buffer.push([md(quote(ES, 3)), md(quote(ES, 4))])  # full: one slot for ES
    assert [buffer.pop(), buffer.pop()] == [md(quote(ES, 1)), md(quote(NQ, 1))]
    # Below the bound again: queued as they come.
    buffer.push([md(quote(ES, 5))])
    buffer.push([md(quote(ES, 6)), md(quote(ES, 7))])  # full again: a new slot, at the end
    numbers = [seq(e) for e in drain(buffer) if e.quotes[0].contract_id == ES]
    assert numbers == [2, 4, 5, 7]


def test_the_bytes_of_a_read_that_completed_no_event_count_with_the_next() -> None:
    buffer = EventBuffer(10)
    buffer.push([], 30_000)
    buffer.push([change(1)], 2_768)
    assert buffer.queued_bytes == 32_768
    buffer.pop()
    assert buffer.queued_bytes == 0


def test_quotes_merge_their_entries_dom_replaces_histogram_items_merge() -> None:
    buffer = EventBuffer(1)
    buffer.conflate_always = True
    bid = {"price": 1.0, "size": 1}
    offer = {"price": 2.0, "size": 3}
    newer_bid = {"price": 1.5, "size": 2}
    old_dom = {"contractId": ES, "bids": [bid], "offers": []}
    new_dom = {"contractId": ES, "bids": [], "offers": [offer]}
    old_histogram = {"contractId": ES, "base": 10, "items": {"1": 5, "2": 6}, "refresh": True}
    new_histogram = {"contractId": ES, "base": 10, "items": {"2": 9}, "refresh": False}
    older = {"quotes": [{"contractId": ES, "id": 1, "entries": {"Bid": bid, "Offer": offer}}]}
    newer = {"quotes": [{"contractId": ES, "id": 2, "entries": {"Bid": newer_bid}}]}
    buffer.push(
        [
            convert({**older, "doms": [old_dom], "histograms": [old_histogram]}, MarketData),
            convert({**newer, "doms": [new_dom], "histograms": [new_histogram]}, MarketData),
        ]
    )
    quotes, doms, histograms = drain(buffer)
    assert quotes == md(quote(ES, 2, Bid=newer_bid, Offer=offer))
    assert doms == convert({"doms": [new_dom]}, MarketData)
    merged = histograms.histograms[0]
    assert merged.items == {"1": 5, "2": 9}
    assert merged.refresh is True


def test_chart_bars_merge_by_timestamp_and_ticks_or_markers_are_never_conflated() -> None:
    buffer = EventBuffer(10)
    buffer.conflate_always = True
    bar = Bar("t1", 1, 1, 1, 1)
    bar_again = Bar("t1", 1, 2, 1, 2)
    next_bar = Bar("t2", 2, 3, 2, 3)
    ticks = TickPacket(id=5, bp=100, bt=0, ts=0.25, tks=[RawTick(t=0, p=0, s=1)])
    end = EndOfHistory(5)
    buffer.push(
        [
            Chart([BarPacket(5, [bar], td=1), ticks]),
            Chart([end]),
            Chart([BarPacket(5, [bar_again, next_bar], td=1), ticks]),
        ]
    )
    assert drain(buffer) == [
        Chart([BarPacket(5, [bar_again, next_bar], td=1)]),
        Chart([ticks]),
        Chart([end]),
        Chart([ticks]),
    ]


def test_ctrader_spots_merge_field_by_field_and_trendbars_by_period() -> None:
    buffer = EventBuffer(1)
    buffer.conflate_always = True
    m1 = {"period": 1, "volume": 3}
    m1_later = {"period": 1, "volume": 5}
    h1 = {"period": 9, "volume": 8}
    buffer.push(
        [
            spot(1, 1, bid=100, ask=101, trendbar=[m1, h1]),
            spot(2, 1, bid=5),
            spot(1, 2, ask=102, trendbar=[m1_later]),
        ]
    )
    first, second = drain(buffer)
    assert first == spot(1, 2, bid=100, ask=102, trendbar=[m1_later, h1])
    assert second == spot(2, 1, bid=5)


def test_ctrader_depth_deltas_merge_into_one() -> None:
    buffer = EventBuffer(1)
    buffer.conflate_always = True

    def depth(new: list[dict[str, Any]], deleted: list[int]) -> DepthEvent:
        payload = {"ctidTraderAccountId": 7, "symbolId": 1, "newQuotes": new}
        return convert({**payload, "deletedQuotes": deleted}, DepthEvent)

    a, b, c = ({"id": n, "size": n, "bid": 10 * n} for n in (1, 2, 3))
    b_again = {"id": 2, "size": 20, "bid": 20}
    buffer.push([depth([a, b], [9]), depth([b_again, c], [1, 8])])
    (merged,) = drain(buffer)
    assert merged == depth([b_again, c], [9, 1, 8])


def test_market_data_of_an_unexpected_shape_is_never_conflated() -> None:
    """Market data the models cannot hold arrives raw: it is not market data to the queue."""
    quotes: dict[str, Any] = {"quotes": [{"entries": {}}]}  # no contractId
    odd_md = UnknownEvent("md", quotes, {"e": "md", "d": quotes}, "no contractId")
    charts = {"charts": [{"id": [5], "bars": []}]}  # an id that is not a number
    odd_chart = UnknownEvent("chart", charts, {"e": "chart", "d": charts}, "id not an int")
    assert market_parts(odd_md) is None
    assert market_parts(odd_chart) is None
    assert market_parts(change(1)) is None
    buffer = EventBuffer(1)
    buffer.conflate_always = True
    buffer.push([odd_md, odd_chart, odd_md, odd_chart])
    assert drain(buffer) == [odd_md, odd_chart, odd_md, odd_chart]


def test_the_byte_bound_conflates_market_data_and_pauses_for_the_rest() -> None:
    buffer = EventBuffer(10_000, max_bytes=100_000)
    buffer.push([md(quote(ES, n)) for n in range(3)], 3 * 32_000)
    assert buffer.queued_bytes == 96_000
    assert not full(buffer)
    buffer.push([md(quote(ES, 3))], 32_000)
    buffer.push([md(quote(ES, n)) for n in range(4, 1000)], 996 * 32_000)
    assert len(buffer) == 5  # four queued before the bound, then one slot
    assert buffer.queued_bytes == 5 * 32_000
    buffer.push([change(n) for n in range(4)], 4 * 32_000)
    assert full(buffer)  # those can only wait: reading pauses
    drain(buffer)
    assert buffer.queued_bytes == 0
    assert buffer.drained


@pytest.mark.parametrize("count_bound", [True, False])
def test_pause_keeps_everything_and_pauses_at_either_bound(count_bound: bool) -> None:
    limit, max_bytes = (4, 10**9) if count_bound else (10**6, 4_000)
    buffer = EventBuffer(limit, max_bytes, on_full="pause")
    events = [md(quote(ES, n)) for n in range(10)]
    for event in events[:3]:
        buffer.push([event], 1000)
    assert not full(buffer)
    buffer.push([events[3]], 1000)
    assert full(buffer)
    for event in events[4:]:
        buffer.push([event], 1000)
    assert buffer.pop() == events[0]
    assert not buffer.drained
    assert drain(buffer) == events[1:]
    assert buffer.drained


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="on_full"):
        EventBuffer(10, on_full="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="byte"):
        EventBuffer(10, max_bytes=0)
