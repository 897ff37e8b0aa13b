"""Typed views of quotes and tick packets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from brokerwire.core.jsonlib import loads
from brokerwire.core.tradovate import (
    Quote,
    QuoteEntries,
    QuoteEntry,
    Tick,
    decode_tick_packet,
    parse_quote,
)
from tests.core.tradovate import fixtures as fx


def test_quote_entries_from_the_documented_quote() -> None:
    quote = parse_quote(loads(fx.MD_QUOTES)["d"]["quotes"][0])
    assert quote.contract_id == 123456
    assert quote.timestamp == "2021-04-13T04:59:06.588Z"
    assert quote.bid == QuoteEntry(18405.123, 7.123)
    assert quote.offer == QuoteEntry(18410.012, 12.35)
    assert quote.trade == QuoteEntry(18405.023, 2.10)
    assert quote.total_volume == 4118.123
    assert quote.entries.low_price == QuoteEntry(18355.23, None)
    assert quote.entries.open_interest == QuoteEntry(None, 40702.024)
    assert quote.entries.empty_book is None
    assert quote.entries == QuoteEntries(
        bid=QuoteEntry(18405.123, 7.123),
        offer=QuoteEntry(18410.012, 12.35),
        trade=QuoteEntry(18405.023, 2.10),
        total_trade_volume=QuoteEntry(None, 4118.123),
        low_price=QuoteEntry(18355.23),
        high_price=QuoteEntry(18520.125),
        opening_price=QuoteEntry(18515.123),
        settlement_price=QuoteEntry(18520.257),
        open_interest=QuoteEntry(None, 40702.024),
    )


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


def test_the_end_of_history_marker_has_no_ticks() -> None:
    assert decode_tick_packet(loads(fx.END_OF_HISTORY)) == []


GOOD_TICK = {"t": 0, "p": 1, "s": 2}
PACKET = {"id": 5, "bp": 100, "bt": 1000, "ts": 0.5}

MALFORMED_PACKETS: dict[str, tuple[Any, str]] = {
    "not an object": ([GOOD_TICK], "Expected `object`, got `array`"),
    "ticks not a list": ({**PACKET, "tks": {"t": 0}}, "got `object` - at `$.tks`"),
    "no base price": ({"id": 5, "bt": 1000, "ts": 0.5, "tks": [GOOD_TICK]}, "field `bp`"),
    "a null base time": ({**PACKET, "bt": None, "tks": [GOOD_TICK]}, "got `null` - at `$.bt`"),
    "tick size a string": ({**PACKET, "ts": "0.5", "tks": [GOOD_TICK]}, "at `$.ts`"),
    "tick not an object": ({**PACKET, "tks": [3]}, "got `int` - at `$.tks[0]`"),
    "tick without a price": ({**PACKET, "tks": [{"t": 0}]}, "field `p`"),
    "price a string": ({**PACKET, "tks": [{"t": 0, "p": "1"}]}, "at `$.tks[0].p`"),
    "bid a bool": ({**PACKET, "tks": [{**GOOD_TICK, "b": True}]}, "at `$.tks[0].b`"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_PACKETS))
def test_a_malformed_tick_packet_is_a_value_error_that_says_why(name: str) -> None:
    packet, words = MALFORMED_PACKETS[name]
    with pytest.raises(ValueError, match=re.escape(words)):
        decode_tick_packet(packet)


def test_null_optional_fields_are_absent() -> None:
    packet = {**PACKET, "tks": [{**GOOD_TICK, "s": None, "b": None, "bs": None, "id": None}]}
    assert decode_tick_packet(packet) == [Tick(1000, 50.5, 0, None, None, None, None, None)]


GOOD_QUOTE: dict[str, Any] = {
    "contractId": 12,
    "timestamp": "t",
    "entries": {"Bid": {"price": 6000.25, "size": 3}, "Offer": {"price": 6000.5, "size": 1}},
}

#: A quote with one field out of shape, and the field the error must name.
MALFORMED_QUOTES: dict[str, tuple[Any, str]] = {
    "not an object": ([1], "object"),
    "no contract id": ({"entries": {}}, "contractId"),
    "timestamp a number": ({**GOOD_QUOTE, "timestamp": 5}, "timestamp"),
    "contract id a fraction": ({**GOOD_QUOTE, "contractId": 1.5}, "contractId"),
    "entries a list": ({**GOOD_QUOTE, "entries": [1, 2]}, "entries"),
    "size a list": ({**GOOD_QUOTE, "entries": {"Bid": {"price": 1, "size": [3]}}}, "size"),
    "size a bool": ({**GOOD_QUOTE, "entries": {"Offer": {"price": 1, "size": True}}}, "size"),
    "price text": ({**GOOD_QUOTE, "entries": {"Bid": {"price": "bid"}}}, "price"),
    "entry a number": ({**GOOD_QUOTE, "entries": {"Trade": 7}}, "Trade"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_QUOTES))
def test_a_quote_out_of_shape_is_a_value_error_naming_the_field(name: str) -> None:
    quote, field = MALFORMED_QUOTES[name]
    with pytest.raises(ValueError, match=re.escape(field)):
        parse_quote(quote)


def test_a_quote_in_shape() -> None:
    assert parse_quote(GOOD_QUOTE) == Quote(
        12, "t", QuoteEntries(bid=QuoteEntry(6000.25, 3.0), offer=QuoteEntry(6000.5, 1.0))
    )


@pytest.mark.parametrize(
    "quote",
    [
        {"contractId": "12", "entries": {}},
        {"contractId": 12, "entries": {"Bid": {"price": "6000.25"}}},
        {"contractId": 12, "entries": {"Bid": {"price": "nan"}}},
    ],
)
def test_numbers_sent_as_text_are_refused(quote: dict[str, Any]) -> None:
    """Tradovate sends numbers as numbers: text where one belongs (even "nan") is no price."""
    with pytest.raises(ValueError, match="Expected `int"):
        parse_quote(quote)
