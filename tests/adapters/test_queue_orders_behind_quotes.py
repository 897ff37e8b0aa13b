"""An order's answer never waits behind market data the program has not read.

The consumer stops reading for two seconds during a stream of 5,000 quotes a second, then places
an order without reading. Its answer must come (the timeout is ten seconds; a client that stops
reading the socket when its queue is full never reads the answer). The market data the program
then reads was conflated: per instrument, in order, ending with the latest update; the events
that are not market data (the order's entity changes, its fill) all arrive, in order.
"""

from __future__ import annotations

import queue
import time
from collections import defaultdict
from typing import Any

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.adapters.simulators.tradovate import CONTRACTS
from brokerwire.core.ctrader import FollowUp, SpotEvent
from brokerwire.core.tradovate import EntityChanged, MarketData, Quote
from tests.adapters.clients import (
    ctrader_credentials,
    ctrader_sim,
    sequence_number,
    tradovate_sim,
)
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(90)

STREAMED = ("ESZ6", "NQZ6")
ORDERED = "MESZ6"  # a contract outside the stream: a fill does not move the streamed prices
SPOT_SYMBOLS = (1, 2)
ORDER_SYMBOL = 41


def stop_reading_for(seconds: float) -> None:
    """The consumer does something else: the driver's forwarder holds one event and waits."""
    time.sleep(seconds)


def read_until_quiet(driver: Driver, quiet: float = 1.0, limit: float = 30.0) -> list[Any]:
    """Every event until none comes for ``quiet`` seconds."""
    events: list[Any] = []
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            events.append(driver.next_event(quiet))
        except queue.Empty:
            return events
    raise AssertionError("the events never stopped")


def check_conflated(updates: dict[Any, list[int]]) -> None:
    """Per instrument: in order, and fewer than were sent (the queue did conflate)."""
    for instrument, numbers in updates.items():
        assert numbers == sorted(set(numbers)), instrument
        assert len(numbers) < numbers[-1], (instrument, "nothing was conflated")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_order_answered_while_the_consumer_does_not_read(
    adapter: str, clean_process: None
) -> None:
    with tradovate_sim(quote_rate=2500.0) as sim:
        published = record_entity_changes(sim)
        with open_client(
            adapter, "tradovate", sim.url, token=sim.token, max_queued_events=200
        ) as driver:
            driver.call("sync_user", sim.user_id)
            for symbol in STREAMED:
                driver.call("subscribe_quote", symbol)
            seen = [driver.next_event(5) for _ in range(100)]
            stop_reading_for(2.0)
            order = driver.call(
                "place_order",
                account_spec=sim.account_name,
                account_id=sim.account_id,
                symbol=ORDERED,
                action="Buy",
                order_qty=1,
                timeout=10.0,
            )
            for symbol in STREAMED:
                driver.call("unsubscribe_quote", symbol)
            seen += read_until_quiet(driver)
            final = {
                c["id"]: (sim.price(c["name"]), sim.market.volume[c["id"]])
                for c in map(CONTRACTS.__getitem__, STREAMED)
            }
    assert order["orderId"] > 0
    quotes = quotes_by_contract(seen)
    check_conflated({c: [sequence_number(q.id) for q in qs] for c, qs in quotes.items()})
    for contract, (price, volume) in final.items():
        last = quotes[contract][-1].entries
        assert last.offer is not None
        assert last.total_trade_volume is not None
        assert (last.offer.price, last.total_trade_volume.size) == (price, volume)
    changes = [
        (e.entity_type, e.event_type, entity_id(e)) for e in seen if type(e) is EntityChanged
    ]
    assert changes == published
    assert any(kind == "order" for kind, _, _ in changes)


def quotes_by_contract(events: list[Any]) -> dict[int, list[Quote]]:
    """Every quote the events carry, per contract, in order."""
    quotes: dict[int, list[Quote]] = defaultdict(list)
    for event in events:
        if type(event) is MarketData:
            for quote in event.quotes:
                quotes[quote.contract_id].append(quote)
    return quotes


def entity_id(change: EntityChanged) -> Any:
    """The id of the one entity a ``props`` event carries."""
    assert change.entity is not None, change
    assert not isinstance(change.entity, list), change
    return change.entity.id


def record_entity_changes(sim: TradovateSimulator) -> list[tuple[str, str, Any]]:
    """What the simulator publishes as ``props`` events, in order."""
    published: list[tuple[str, str, Any]] = []
    publish = sim.book.publish

    def record(entity_type: str, event_type: str, entity: Any) -> None:
        published.append((entity_type, event_type, entity.id))
        publish(entity_type, event_type, entity)

    sim.book.publish = record
    return published


@pytest.mark.parametrize("transport", ["ws", "tcp"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_order_answered_while_the_consumer_does_not_read(
    adapter: str, transport: str, clean_process: None
) -> None:
    with ctrader_sim(spot_rate=2500.0) as sim:
        url = sim.websocket_url if transport == "ws" else sim.tcp_url
        account = sim.accounts[0]
        with open_client(
            adapter, "ctrader", url, **ctrader_credentials(sim), max_queued_events=200
        ) as driver:
            driver.call("authorize_account", account)
            driver.call("subscribe_spots", account, list(SPOT_SYMBOLS))
            seen = [driver.next_event(5) for _ in range(100)]
            stop_reading_for(2.0)
            order = driver.call("new_order", account, ORDER_SYMBOL, "BUY", 100, timeout=10.0)
            driver.call("unsubscribe_spots", account, list(SPOT_SYMBOLS))
            seen += read_until_quiet(driver)
            final = {symbol: last_bid(sim, symbol) for symbol in SPOT_SYMBOLS}
    assert order.execution_type == 2  # ORDER_ACCEPTED
    spots: dict[int, list[SpotEvent]] = defaultdict(list)
    for event in seen:
        if type(event) is SpotEvent:
            spots[event.symbol_id].append(event)
    check_conflated({s: [sequence_number(p.timestamp) for p in ps] for s, ps in spots.items()})
    for symbol, bid in final.items():
        assert spots[symbol][-1].bid == bid
    follow_ups = [e for e in seen if type(e) is FollowUp]
    assert len(follow_ups) == 1
    assert follow_ups[0].payload["executionType"] == 3  # ORDER_FILLED, after the answer
    assert follow_ups[0].payload["order"]["orderId"] == order.order.order_id


def last_bid(sim: CTraderSimulator, symbol: int) -> int:
    """The simulator's price of ``symbol`` now: the bid of the last spot it sent."""
    return int(sim._prices[symbol])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_events_conflated_always_give_the_latest_quotes_to_a_slow_reader(
    adapter: str, clean_process: None
) -> None:
    """``events(conflate=True)``: far below the queue's bounds, a reader that looks twice a
    second sees each contract's latest quote, and every entity change."""
    with tradovate_sim(quote_rate=1000.0) as sim:
        published = record_entity_changes(sim)
        with open_client(adapter, "tradovate", sim.url, token=sim.token, conflate=True) as driver:
            driver.call("sync_user", sim.user_id)
            for symbol in STREAMED:
                driver.call("subscribe_quote", symbol)
            seen: list[Any] = []
            for _ in range(4):
                stop_reading_for(0.5)
                seen += [driver.next_event(5) for _ in range(10)]
            driver.call(
                "place_order",
                account_spec=sim.account_name,
                account_id=sim.account_id,
                symbol=ORDERED,
                action="Sell",
                order_qty=2,
                timeout=10.0,
            )
            for symbol in STREAMED:
                driver.call("unsubscribe_quote", symbol)
            stop_reading_for(0.5)
            seen += read_until_quiet(driver)
            final = {
                c["id"]: sim.market.volume[c["id"]] for c in map(CONTRACTS.__getitem__, STREAMED)
            }
            assert len(driver.client._buffer) == 0
    quotes = quotes_by_contract(seen)
    check_conflated({c: [sequence_number(q.id) for q in qs] for c, qs in quotes.items()})
    for contract, volume in final.items():
        assert quotes[contract][-1].total_volume == volume
    changes = [
        (e.entity_type, e.event_type, entity_id(e)) for e in seen if type(e) is EntityChanged
    ]
    assert changes == published
