"""Every event the core can deliver renders, in JSON and pretty, as exactly one line, with no
credential in it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.adapters.cli.render import json_line, pretty_line
from brokerwire.adapters.events import Disconnected
from brokerwire.core.ctrader import DepthEvent, ServerEvent, SpotEvent
from brokerwire.core.ctrader.models import DepthQuote
from brokerwire.core.tradovate import (
    Chart,
    Dom,
    EntityChanged,
    EntityEventType,
    Histogram,
    MarketData,
    Quote,
    QuoteEntries,
    QuoteEntry,
    UnknownEvent,
)
from brokerwire.core.tradovate.market import Bar, BarPacket, EndOfHistory, RawTick, TickPacket
from brokerwire.core.tradovate.models import Action, Order, OrdStatus

SECRET = "S3CR3T-that-is-never-printed"

# What JSON decodes to, with the values that break naive printing: integers past str()'s
# limit and a float's range, NaN and infinities, lone surrogates, line breaks.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(4990, 5010).map(lambda digits: -(10**digits) - 7),  # past str(int)'s limit
    st.integers(300, 400).map(lambda digits: 10**digits),  # past a float's range
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["\ud83d", "a\nb", "\r", "\x00", "\u2028"]),
)
KEYS = st.sampled_from(["contractId", "symbolId", "bid", "ask", "entries", "id", "eoh", "price"])


def _objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(KEYS, values, max_size=5).map(lambda d: {**d, "accessToken": SECRET})


VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | _objects(inner), max_leaves=30
)
OBJECTS = _objects(VALUES)


def _deep(depth: int) -> Any:
    value: Any = {"password": SECRET}
    for _ in range(depth):
        value = [value]
    return value


# The typed events hold numbers (of any size) and text where the wire has them.
NUMBERS = st.integers() | st.integers(300, 400).map(lambda digits: 10**digits) | st.floats()
TEXT = st.text(max_size=20) | st.sampled_from(["\ud83d", "a\nb", "\r", "\x00", "\u2028"])
ENTRY = st.builds(QuoteEntry, st.none() | NUMBERS, st.none() | NUMBERS)
ENTRIES = st.builds(
    QuoteEntries,
    bid=st.none() | ENTRY,
    offer=st.none() | ENTRY,
    trade=st.none() | ENTRY,
    total_trade_volume=st.none() | ENTRY,
)
QUOTES = st.builds(Quote, st.integers(), st.none() | TEXT, ENTRIES, st.none() | st.integers())
DOMS = st.builds(
    Dom, st.integers(), st.none() | TEXT, st.lists(ENTRY, max_size=3), st.lists(ENTRY, max_size=3)
)
HISTOGRAMS = st.builds(
    Histogram,
    st.integers(),
    st.none() | TEXT,
    st.none(),
    st.none() | NUMBERS,
    st.dictionaries(TEXT, NUMBERS, max_size=3),
    st.booleans(),
)
PRICES = st.none() | st.integers() | st.integers(4990, 5010).map(lambda digits: 10**digits)
DEPTH_QUOTES = st.builds(DepthQuote, id=st.integers(), size=st.integers(), bid=PRICES, ask=PRICES)
BARS = st.builds(Bar, TEXT, NUMBERS, NUMBERS, NUMBERS, NUMBERS, up_volume=st.none() | NUMBERS)
CHART_PACKETS = st.one_of(
    st.builds(BarPacket, st.integers(), st.lists(BARS, max_size=3), st.none() | st.integers()),
    st.builds(
        TickPacket,
        id=st.integers(),
        bp=st.integers(),
        bt=st.integers(),
        ts=st.floats(),
        tks=st.lists(st.builds(RawTick, t=st.integers(), p=st.integers(), s=NUMBERS), max_size=3),
        s=st.none() | TEXT,
    ),
    st.builds(EndOfHistory, st.integers(), st.booleans()),
)
ORDERS = st.builds(
    Order,
    id=st.none() | st.integers(),
    account_id=st.integers(),
    timestamp=TEXT,
    action=st.sampled_from(Action),
    ord_status=st.sampled_from(OrdStatus),
    admin=st.booleans(),
)

EVENTS = st.one_of(
    st.builds(
        MarketData,
        st.lists(QUOTES, max_size=3),
        st.lists(DOMS, max_size=2),
        st.lists(HISTOGRAMS, max_size=2),
    ),
    st.builds(
        SpotEvent,
        ctid_trader_account_id=st.integers(),
        symbol_id=st.integers(),
        bid=PRICES,
        ask=PRICES,
        session_close=PRICES,
        timestamp=st.none() | st.integers(),
    ),
    st.builds(
        DepthEvent,
        ctid_trader_account_id=st.integers(),
        symbol_id=st.integers(),
        new_quotes=st.lists(DEPTH_QUOTES, max_size=3),
        deleted_quotes=st.lists(st.integers(), max_size=3),
    ),
    st.builds(Chart, st.lists(CHART_PACKETS, max_size=3)),
    st.builds(
        EntityChanged,
        st.text(max_size=5),
        st.sampled_from(EntityEventType),
        st.none() | ORDERS | st.lists(ORDERS, max_size=2),
    ),
    st.builds(
        ServerEvent,
        st.integers(),
        OBJECTS,
        st.none() | st.text(max_size=5),
        st.none() | st.text(max_size=20),
    ),
    st.builds(UnknownEvent, st.text(max_size=5), VALUES, OBJECTS, st.none() | TEXT),
    st.builds(UnknownEvent, st.just("props"), st.integers(1, 3000).map(_deep), OBJECTS),
)


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_any_event_is_one_line_without_secrets(event: Any) -> None:
    line = json_line(event)
    assert line.startswith(f'{{"type":"{type(event).__name__}"')
    for shown in (line, pretty_line(event), pretty_line(event, {1: 2})):
        assert "\n" not in shown  # a line as a file or pipe reader splits them
        assert "\r" not in shown
        assert SECRET not in shown


def test_a_close_reason_with_a_line_break_stays_on_one_line() -> None:
    assert pretty_line(Disconnected(4000, "bye\nnow", None, (), True)) == (
        'disconnected: "bye\\nnow", reconnecting'
    )
