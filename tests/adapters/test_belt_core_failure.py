"""The belt: whatever the core raises while a client drives it fails the link as the peer would,
and the client lives on.

A core connection is made to raise (as a 5,000-digit integer or a NaN clock speed once made
it raise) in the middle of a read, or in a timer. Each adapter must deliver every event of
that read decoded before the failure, then one ``Disconnected`` carrying the error, log the
exception once at ERROR with its traceback, reconnect, restore the subscription and keep
answering requests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brokerwire.adapters.errors import ConnectionLost
from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.simulators import Fault, FaultKind
from brokerwire.core.ctrader import CTraderConnection, PayloadType
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.tradovate import TradovateConnection
from tests.adapters.clients import FAST_RECONNECT, assert_resumed, sequence_numbers, streamed
from tests.adapters.drivers import ADAPTERS, Driver
from tests.adapters.test_fault_matrix import client_for, simulator, subscribe

pytestmark = pytest.mark.timeout(60)

LogRecords = Callable[[], list[logging.LogRecord]]

BROKERS = ["tradovate", "ctrader-ws", "ctrader-tcp"]

CORE_CLASSES: dict[str, type[Any]] = {
    "tradovate": TradovateConnection,
    "ctrader-ws": CTraderConnection,
    "ctrader-tcp": CTraderConnection,
}


class Bomb:
    """Armed, it makes the next read that holds at least two stream messages raise after
    handing out those two (the rest of that read is never decoded)."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.last_before: int | None = None

    def wrap(self, events: Iterator[Any]) -> Iterator[Any]:
        handed = 0
        for event in events:
            yield event
            numbers = sequence_numbers(event)
            if not numbers or not self.armed.is_set():
                continue
            handed += 1
            if handed == 2:
                self.armed.clear()
                self.last_before = numbers[-1]
                raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")


@pytest.fixture
def error_records(caplog: pytest.LogCaptureFixture) -> Iterator[LogRecords]:
    """The records logged at ERROR or above, as the test runs."""
    with caplog.at_level(logging.WARNING):
        yield lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


def run_until_reconnected(driver: Driver, broker: str, arm: threading.Event) -> list[Any]:
    before = driver.collect(streamed(30))
    arm.set()
    after = driver.collect(streamed(30, after_reconnect=True))
    return before + after


def request_works(driver: Driver, broker: str) -> None:
    if broker == "tradovate":
        assert driver.call("request", "contract/find", body={"name": "NQZ6"})["name"] == "NQZ6"
    else:
        assert "version" in driver.call("request", PayloadType.PROTO_OA_VERSION_REQ)


def check_one_error_logged(records: list[logging.LogRecord], kind: type[BaseException]) -> None:
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is kind


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_core_that_raises_mid_read_fails_the_link_and_the_client_goes_on(
    adapter: str,
    broker: str,
    monkeypatch: pytest.MonkeyPatch,
    clean_process: None,
    error_records: LogRecords,
) -> None:
    bomb = Bomb()
    core = CORE_CLASSES[broker]
    decode = core._decode
    monkeypatch.setattr(core, "_decode", lambda self, d, now: bomb.wrap(decode(self, d, now)))
    with (
        simulator(broker) as sim,
        client_for(adapter, broker, sim, reconnect=FAST_RECONNECT) as driver,
    ):
        subscribe(driver, sim)
        events = run_until_reconnected(driver, broker, bomb.armed)
        request_works(driver, broker)
    disconnected = next(e for e in events if type(e) is Disconnected)
    before = events[: events.index(disconnected)]
    # Every event the failing read handed out before it raised was delivered.
    assert [n for e in before for n in sequence_numbers(e)][-1] == bomb.last_before
    assert isinstance(disconnected.error, RemoteProtocolError)
    assert "ValueError" in disconnected.reason
    assert isinstance(disconnected.error.__cause__, ValueError)
    assert_resumed(events, "core raised")
    check_one_error_logged(error_records(), ValueError)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_core_whose_timer_raises_fails_the_link_and_requests_waiting_get_an_outcome(
    adapter: str,
    monkeypatch: pytest.MonkeyPatch,
    clean_process: None,
    error_records: LogRecords,
) -> None:
    armed = threading.Event()
    handle_timer = TradovateConnection.handle_timer

    def exploding_timer(self: TradovateConnection, now: float) -> list[Any]:
        if armed.is_set():
            armed.clear()
            raise OverflowError("cannot convert float infinity to integer")
        return handle_timer(self, now)

    monkeypatch.setattr(TradovateConnection, "handle_timer", exploding_timer)
    with (
        simulator("tradovate", faults={1: Fault(FaultKind.DELAY, after=8, seconds=5.0)}) as sim,
        client_for(
            adapter, "tradovate", sim, reconnect=FAST_RECONNECT, heartbeat_interval=0.05
        ) as driver,
    ):
        subscribe(driver, sim)
        driver.collect(streamed(20))  # past the eighth message: answers now come late
        waiting = driver.request_async("contract/find", body={"name": "NQZ6"})
        armed.set()
        events = driver.collect(lambda seen: type(seen[-1]) is Reconnected)
        error = waiting.exception(timeout=15)
        request_works(driver, "tradovate")
    assert isinstance(error, ConnectionLost)
    assert error.outcome_unknown
    disconnected = next(e for e in events if type(e) is Disconnected)
    assert disconnected.reconnecting
    assert isinstance(disconnected.error, RemoteProtocolError)
    check_one_error_logged(error_records(), OverflowError)
