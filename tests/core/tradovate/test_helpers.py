"""Typed views of quotes and tick packets."""

from __future__ import annotations

from brokerwire.core.jsonlib import loads
from brokerwire.core.tradovate import QuoteEntry, Tick, decode_tick_packet, parse_quote
from tests.core.tradovate import fixtures as fx


def test_quote_entries_from_the_documented_quote() -> None:
    quote = parse_quote(loads(fx.MD_QUOTES)["d"]["quotes"][0])
    assert quote.contract_id == 123456
    assert quote.timestamp == "2021-04-13T04:59:06.588Z"
    assert quote.bid == QuoteEntry(18405.123, 7.123)
    assert quote.offer == QuoteEntry(18410.012, 12.35)
    assert quote.trade == QuoteEntry(18405.023, 2.10)
    assert quote.total_volume == 4118.123
    assert quote.entries["LowPrice"] == QuoteEntry(18355.23, None)
    assert quote.entries["OpenInterest"] == QuoteEntry(None, 40702.024)
    assert "EmptyBook" not in quote.entries


def test_a_partial_quote_has_only_what_changed() -> None:
    quote = parse_quote({"contractId": 1, "timestamp": "t", "entries": {"Trade": {"price": 2.0}}})
    assert quote.bid is None
    assert quote.total_volume is None
    assert quote.trade == QuoteEntry(2.0, None)


def test_tick_packet_to_absolute_prices_and_times_sorted() -> None:
    packet = {
        "id": 1,
        "bp": 11917,
        "bt": 1563421179735,
        "ts": 0.25,
        "tks": [
            {"t": 50, "p": 2, "s": 1},
            {"t": 0, "p": 0, "s": 3, "b": -1, "a": 0, "bs": 122, "as": 28, "id": 11768401},
        ],
    }
    assert decode_tick_packet(packet) == [
        Tick(1563421179735, 2979.25, 3, 2979.0, 2979.25, 122, 28, 11768401),
        Tick(1563421179785, 2979.75, 1, None, None, None, None, None),
    ]


def test_the_documented_tick_packet() -> None:
    (tick,) = decode_tick_packet(loads(fx.TICK_PACKET))
    assert tick.price == 2979.25
    assert tick.time == 1563421179735
