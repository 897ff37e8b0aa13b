"""The watchdog judges the link, not the program.

A server that keeps sending is alive, whatever the program does meanwhile: an ``on_event``
callback that blocks for longer than the watchdog's timeout, or a pause of the whole reader (a
process stopped with SIGSTOP, a laptop lid), simulated here by holding the reader (or the event
loop) still while the server goes on sending. The timers are short so that the tests are too.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from brokerwire.adapters import asyncio as asyncio_clients
from brokerwire.adapters.events import Disconnected
from brokerwire.adapters.threaded import TradovateClient
from brokerwire.core.tradovate import MarketData
from tests.adapters.clients import FAST_RECONNECT, streamed, tradovate_sim

pytestmark = pytest.mark.timeout(60)

WATCHDOG = 0.5
BLOCKED = 3 * WATCHDOG
TIMERS: dict[str, Any] = {"heartbeat_interval": 0.1, "watchdog_timeout": WATCHDOG}


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


def quotes_in(events: list[Any]) -> int:
    return sum(len(e.quotes) for e in events if type(e) is MarketData)


def test_a_callback_that_blocks_longer_than_the_watchdog_is_not_a_dead_server(
    clean_process: None,
) -> None:
    events: list[Any] = []
    blocked_once = threading.Event()
    released = threading.Event()

    def on_event(event: Any) -> None:
        events.append(event)
        if type(event) is MarketData and not blocked_once.is_set():
            blocked_once.set()
            time.sleep(BLOCKED)
            released.set()

    with (
        tradovate_sim(quote_rate=200.0, heartbeat_interval=0.1) as sim,
        TradovateClient(
            sim.url, token=sim.token, on_event=on_event, reconnect=FAST_RECONNECT, **TIMERS
        ) as client,
    ):
        client.subscribe_quote("ESZ6")
        assert released.wait(15)
        after = len(events)
        wait_for(lambda: quotes_in(events[after:]) >= 100)
        assert client.ready
    assert not [e for e in events if type(e) is Disconnected]


def test_a_callback_may_wait_for_a_request_of_its_own(clean_process: None) -> None:
    answers: list[Any] = []
    errors: list[BaseException] = []
    client: TradovateClient | None = None

    def on_event(event: Any) -> None:
        if type(event) is MarketData and not answers and not errors and client is not None:
            try:
                answers.append(client.request("contract/find", body={"name": "NQZ6"}, timeout=5))
            except BaseException as exc:
                errors.append(exc)

    with tradovate_sim(quote_rate=50.0) as sim:
        client = TradovateClient(sim.url, token=sim.token, on_event=on_event)
        with client:
            client.subscribe_quote("ESZ6")
            wait_for(lambda: bool(answers or errors))
    assert errors == []
    assert answers[0]["name"] == "NQZ6"


def test_a_reader_held_still_longer_than_the_watchdog_reads_before_it_judges(
    clean_process: None,
) -> None:
    with (
        tradovate_sim(quote_rate=200.0, heartbeat_interval=0.1) as sim,
        TradovateClient(sim.url, token=sim.token, reconnect=FAST_RECONNECT, **TIMERS) as client,
    ):
        client.subscribe_quote("ESZ6")
        stream = client.events(timeout=5)
        seen = [next(stream) for _ in range(20)]
        for _ in range(3):
            with client._lock:  # the reader can neither feed the core nor run its timers
                time.sleep(BLOCKED)
            start = len(seen)
            while quotes_in(seen[start:]) < 100:
                seen.append(next(stream))
            assert client.ready
    assert not [e for e in seen if type(e) is Disconnected]


def test_an_event_loop_held_still_longer_than_the_watchdog_reads_before_it_judges(
    clean_process: None,
) -> None:
    async def scenario() -> None:
        with tradovate_sim(quote_rate=200.0, heartbeat_interval=0.1) as sim:
            client = asyncio_clients.TradovateClient(
                sim.url, token=sim.token, reconnect=FAST_RECONNECT, **TIMERS
            )
            async with client:
                await client.subscribe_quote("ESZ6")
                events = client.events(timeout=5)
                seen = []
                for _ in range(3):
                    await asyncio.sleep(0.2)
                    time.sleep(BLOCKED)  # the whole loop stops, as a stopped process would
                    enough = streamed(100)
                    seen.append(await anext(events))
                    while not enough(seen):
                        seen.append(await anext(events))
                    assert not [e for e in seen if type(e) is Disconnected]
                assert client.ready

    asyncio.run(scenario())


def test_a_hold_that_ends_past_a_timer_of_the_core_reads_before_the_timer_judges(
    clean_process: None,
) -> None:
    """The loop is held by a callback that ran just before the core's timer in the same turn
    of the loop: when the timer runs, what came meanwhile is still unread in the socket."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        with tradovate_sim(quote_rate=200.0, heartbeat_interval=0.1) as sim:
            client = asyncio_clients.TradovateClient(
                sim.url, token=sim.token, reconnect=FAST_RECONNECT, **TIMERS
            )
            async with client:
                await client.subscribe_quote("ESZ6")
                events = client.events(timeout=5)
                seen = [await anext(events)]
                for _ in range(3):
                    held = loop.create_future()

                    def hold(held: asyncio.Future[None] = held) -> None:
                        time.sleep(BLOCKED)
                        held.set_result(None)

                    deadline = client._timer_at
                    assert deadline is not None
                    loop.call_at(deadline - 1e-6, hold)
                    await held
                    start = len(seen)
                    while quotes_in(seen[start:]) < 100:
                        seen.append(await anext(events))
                    assert not [e for e in seen if type(e) is Disconnected]
                assert client.ready

    asyncio.run(scenario())
