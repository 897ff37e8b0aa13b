"""Every event the core can deliver renders, in JSON and pretty, as exactly one line, with no
credential in it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.adapters.cli.render import json_line, pretty_line
from brokerwire.adapters.events import Disconnected
from brokerwire.core.ctrader import DepthEvent, ServerEvent, SpotEvent
from brokerwire.core.tradovate import Chart, EntityChanged, MarketData, UnknownEvent

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


EVENTS = st.one_of(
    st.builds(
        MarketData,
        st.lists(OBJECTS, max_size=3),
        st.lists(OBJECTS, max_size=2),
        st.lists(VALUES, max_size=2),
    ),
    st.builds(SpotEvent, OBJECTS),
    st.builds(DepthEvent, OBJECTS),
    st.builds(Chart, st.lists(OBJECTS | VALUES, max_size=3)),
    st.builds(EntityChanged, st.text(max_size=5), st.text(max_size=5), VALUES),
    st.builds(ServerEvent, st.integers(), OBJECTS, st.none() | st.text(max_size=5)),
    st.builds(UnknownEvent, st.text(max_size=5), VALUES, OBJECTS),
    st.builds(EntityChanged, st.just("deep"), st.just("Updated"), st.integers(1, 3000).map(_deep)),
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
