"""The fault matrix: each broker, each adapter, each way a link can fail, against the simulators.

In every case a stream runs and requests keep going out while the fault strikes. The test checks
the event the user sees, that every request got exactly one outcome (its answer, or
``ConnectionLost`` when the link went down under it), and that after the reconnect the stream
resumes with the subscription restored and no message lost or repeated on either side of it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from brokerwire.adapters.errors import AuthenticationError, ConnectionLost
from brokerwire.adapters.events import Disconnected, Reconnected, ReconnectFailed
from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from brokerwire.core.ctrader import (
    AccountDisconnected,
    ClientDisconnected,
    PayloadType,
    TokenInvalidated,
)
from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from brokerwire.core.tradovate import Shutdown
from tests.adapters.clients import (
    FAST_RECONNECT,
    assert_no_gap,
    assert_resumed,
    ctrader_credentials,
    ctrader_sim,
    sequence_numbers,
    stream_segments,
    streamed,
    tradovate_sim,
)
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(60)

BROKERS = ["tradovate", "ctrader-ws", "ctrader-tcp"]
IN_FLIGHT = 4  # requests the pump keeps waiting for an answer
ANSWER_DELAY = 0.2  # how late the simulator answers while a fault is tried
CLOSE_CODES = [1000, 1001, 1008, 1011, 3000, 4000]


def _faults(broker: str) -> list[Any]:
    faults = [
        pytest.param(Fault(FaultKind.DROP_MID_FRAME, after=30), id="drop-mid-frame"),
        pytest.param(Fault(FaultKind.GARBAGE, after=30), id="garbage"),
        pytest.param(Fault(FaultKind.SILENCE, after=30), id="silence"),
        pytest.param(Fault(FaultKind.SHUTDOWN, after=30, code=1001, reason="maint"), id="shutdown"),
    ]
    codes = CLOSE_CODES if broker != "ctrader-tcp" else [1000]  # TCP has no close codes
    for code in codes:
        fault = Fault(FaultKind.CLOSE, after=30, code=code, reason=f"closed with {code}")
        faults.append(pytest.param(fault, id=f"close-{code}"))
    return faults


MATRIX = [
    pytest.param(adapter, broker, *case.values, id=f"{adapter}-{broker}-{case.id}")
    for adapter in ADAPTERS
    for broker in BROKERS
    for case in _faults(broker)
]


# -- scenario parts -------------------------------------------------------------------------------


def simulator(broker: str, **options: Any) -> TradovateSimulator | CTraderSimulator:
    return tradovate_sim(**options) if broker == "tradovate" else ctrader_sim(**options)


def client_for(
    adapter: str, broker: str, sim: TradovateSimulator | CTraderSimulator, **options: Any
) -> Driver:
    if isinstance(sim, TradovateSimulator):
        return open_client(adapter, "tradovate", sim.url, token=sim.token, **options)
    url = sim.websocket_url if broker == "ctrader-ws" else sim.tcp_url
    return open_client(adapter, "ctrader", url, **ctrader_credentials(sim), **options)


def subscribe(driver: Driver, sim: TradovateSimulator | CTraderSimulator) -> None:
    if isinstance(sim, TradovateSimulator):
        driver.call("subscribe_quote", "ESZ6")
    else:
        driver.call("authorize_account", sim.accounts[0])
        driver.call("subscribe_spots", sim.accounts[0], 1)


@dataclass(frozen=True)
class Outcomes:
    answered: int
    lost_in_flight: int  # sent, then the link went down before the answer
    refused_unsent: int  # asked for while the link was down: never sent


class RequestPump:
    """Keeps a few requests in flight at all times, from a thread, until stopped; each future
    is kept so that its outcome can be checked."""

    def __init__(self, driver: Driver, broker: str, in_flight: int = IN_FLIGHT) -> None:
        self.futures: list[concurrent.futures.Future[Any]] = []
        self._driver = driver
        self._tradovate = broker == "tradovate"
        self._slots = threading.Semaphore(in_flight)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="request-pump")

    def _request(self) -> concurrent.futures.Future[Any]:
        if self._tradovate:
            return self._driver.request_async("contract/find", body={"name": "NQZ6"})
        return self._driver.request_async(PayloadType.PROTO_OA_VERSION_REQ)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.1):
                continue
            future = self._request()
            future.add_done_callback(lambda _: self._slots.release())
            self.futures.append(future)
            time.sleep(0.002)

    def __enter__(self) -> RequestPump:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def wait_for_an_answer(self, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while not any(f.done() for f in list(self.futures)):
            assert time.monotonic() < end, "no request was answered"
            time.sleep(0.005)

    def check_outcomes(self) -> Outcomes:
        """Every request finished with its answer or ConnectionLost, which says whether the
        request had been sent (its outcome unknown) or not."""
        _, not_done = concurrent.futures.wait(self.futures, timeout=15)
        assert not not_done, f"{len(not_done)} requests never got an outcome"
        answered = lost_in_flight = refused_unsent = 0
        for future in self.futures:
            error = future.exception()
            if error is None:
                result = future.result()
                assert result["name"] == "NQZ6" if self._tradovate else "version" in result
                answered += 1
            else:
                assert isinstance(error, ConnectionLost), repr(error)
                if error.outcome_unknown:
                    assert error.request_id is not None
                    lost_in_flight += 1
                else:
                    assert error.request_id is None
                    refused_unsent += 1
        return Outcomes(answered, lost_in_flight, refused_unsent)


def check_disconnect(fault: Fault, event: Disconnected, before: list[Any], *, ws: bool) -> None:
    """The report each fault must give."""
    kind = fault.kind
    assert event.reconnecting
    if kind is FaultKind.DROP_MID_FRAME:
        assert event.code in (1006, None)
        assert "ended" in event.reason
    elif kind is FaultKind.GARBAGE:
        assert isinstance(event.error, RemoteProtocolError)
    elif kind is FaultKind.SILENCE:
        assert event.code == (1011 if ws else None)
        assert "nothing arrived" in event.reason
    elif kind is FaultKind.CLOSE and ws:
        assert (event.code, event.reason) == (fault.code, fault.reason)
        assert event.error is None
    elif kind is FaultKind.SHUTDOWN:
        assert any(type(e) in (Shutdown, ClientDisconnected) for e in before)
        if ws:
            assert event.code == 1001


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing inside the clients failed unexpectedly (a callback raising, a future set twice)."""
    with caplog.at_level(logging.WARNING):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# -- the matrix -----------------------------------------------------------------------------------


def strike_while_answers_wait(
    sim: TradovateSimulator | CTraderSimulator, fault: Fault, timeout: float = 15.0
) -> None:
    """Arm ``fault`` at a moment the simulator holds back an answer, so that requests are in
    flight when it strikes however late the pump's thread runs on a busy machine."""
    struck = threading.Event()

    def attempt() -> None:
        if not struck.is_set() and sim.answers_waiting() > 0:
            sim.inject(fault)
            struck.set()

    end = time.monotonic() + timeout
    while not struck.is_set():
        assert time.monotonic() < end, "no answer was ever held back"
        sim.call_soon(attempt)
        struck.wait(0.01)


@pytest.mark.parametrize(("adapter", "broker", "fault"), MATRIX)
def test_fault_with_requests_in_flight(
    adapter: str, broker: str, fault: Fault, clean_process: None, no_errors_logged: None
) -> None:
    """Once subscribed, each answer comes ANSWER_DELAY late (a delay fault), so the pump always
    has requests in flight; the fault is armed once they flow, and whatever it does, the ones
    in flight are lost (after a silence, every one of them: nothing was answered since)."""
    with (
        simulator(broker) as sim,
        client_for(adapter, broker, sim, reconnect=FAST_RECONNECT, watchdog_timeout=2.0) as driver,
    ):
        subscribe(driver, sim)
        sim.call_soon(lambda: sim.inject(Fault(FaultKind.DELAY, seconds=ANSWER_DELAY)))
        with RequestPump(driver, broker) as pump:
            pump.wait_for_an_answer()
            strike_while_answers_wait(sim, fault)
            events = driver.collect(streamed(200, after_reconnect=True))
        outcomes = pump.check_outcomes()
    disconnected = next(e for e in events if type(e) is Disconnected)
    before = events[: events.index(disconnected)]
    check_disconnect(fault, disconnected, before, ws=broker != "ctrader-tcp")
    assert_resumed(events, str(fault))
    assert outcomes.answered > 0
    if fault.kind is FaultKind.SILENCE:
        assert outcomes.lost_in_flight == IN_FLIGHT
    else:
        assert 1 <= outcomes.lost_in_flight <= IN_FLIGHT


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_server_restart_on_the_same_port(
    adapter: str, broker: str, clean_process: None, no_errors_logged: None
) -> None:
    first = simulator(broker).start_in_background()
    try:
        driver = client_for(adapter, broker, first, reconnect=FAST_RECONNECT)
    except BaseException:
        first.stop_background()
        raise
    with driver:
        subscribe(driver, first)
        before = driver.collect(streamed(50))
        port = first.port
        first.stop_background()
        with simulator(broker, port=port):
            after = driver.collect(streamed(50, after_reconnect=True))
    events = before + after
    assert_resumed(events, "restart")
    reconnected = next(e for e in events if type(e) is Reconnected)
    assert reconnected.attempts >= 1


@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_slow_consumer_loses_nothing_when_asked_to_pause(
    adapter: str, broker: str, clean_process: None
) -> None:
    rate = {"quote_rate": 20_000} if broker == "tradovate" else {"spot_rate": 20_000}
    with (
        simulator(broker, **rate) as sim,
        client_for(adapter, broker, sim, max_queued_events=50, on_full="pause") as driver,
    ):
        subscribe(driver, sim)
        numbers: list[int] = []
        largest_queue = 0
        paused_seen = False
        while len(numbers) < 3000:
            numbers.extend(sequence_numbers(driver.next_event(5)))
            largest_queue = max(largest_queue, len(driver.client._buffer))
            paused_seen = paused_seen or driver.client._paused
            if len(numbers) % 100 == 0:
                time.sleep(0.02)  # a reader far slower than the stream
    assert_no_gap(numbers)
    assert paused_seen
    # The limit, plus at most what one read decodes: 256 KiB of messages of 90 bytes or more.
    assert largest_queue <= 50 + 256 * 1024 // 90


# -- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("broker", ["ctrader-ws", "ctrader-tcp"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_token_invalidated_then_authorized_again(
    adapter: str, broker: str, clean_process: None, no_errors_logged: None
) -> None:
    with ctrader_sim() as sim, client_for(adapter, broker, sim) as driver:
        account = sim.accounts[0]
        subscribe(driver, sim)
        driver.collect(streamed(20))
        sim.call_soon(sim.invalidate_token)
        events = driver.collect(lambda evs: type(evs[-1]) is TokenInvalidated)
        assert events[-1].account_ids == (account,)
        assert driver.client.accounts == []
        # The account's spots stop with it; the user authorizes again and subscribes anew.
        driver.call("authorize_account", account)
        driver.call("subscribe_spots", account, 1)
        resumed = driver.collect(streamed(50))
    numbers = stream_segments(resumed)[0]
    assert numbers[0] == 1
    assert_no_gap(numbers)


@pytest.mark.parametrize("broker", ["ctrader-ws", "ctrader-tcp"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ctrader_account_disconnected_is_authorized_again_and_resubscribed(
    adapter: str, broker: str, clean_process: None, no_errors_logged: None
) -> None:
    with ctrader_sim() as sim, client_for(adapter, broker, sim) as driver:
        account = sim.accounts[0]
        subscribe(driver, sim)
        driver.collect(streamed(20))
        sim.call_soon(lambda: sim.disconnect_account(account))
        events = driver.collect(lambda evs: type(evs[-1]) is AccountDisconnected)
        assert events[-1].account_id == account
        # The client authorizes the account again on its own and restores its spots, which
        # start again at 1 on the new subscription.
        after = driver.collect(streamed(50))
        assert driver.client.accounts == [account]
    numbers = stream_segments(after)[0]
    assert numbers[0] == 1
    assert_no_gap(numbers)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_token_expired_a_reconnect_is_refused_and_said_once(
    adapter: str, clean_process: None
) -> None:
    drop = Fault(FaultKind.DROP_MID_FRAME, after=30)
    with (
        tradovate_sim(faults={1: drop}) as sim,
        client_for(adapter, "tradovate", sim, reconnect=FAST_RECONNECT) as driver,
    ):
        subscribe(driver, sim)
        sim.token = "a-token-the-client-does-not-have"
        with RequestPump(driver, "tradovate") as pump:
            events = driver.collect(lambda evs: type(evs[-1]) is Disconnected)
        answered = pump.check_outcomes().answered
        events += driver.drain()
    kinds = [type(e) for e in events]
    assert kinds.count(Disconnected) == 1
    assert kinds.count(ReconnectFailed) == 1
    assert kinds[-1] is ReconnectFailed
    assert "refused the token" in events[-1].reason
    assert Reconnected not in kinds
    assert answered > 0


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_tradovate_token_renewed_on_the_live_socket_is_used_after_a_reconnect(
    adapter: str, clean_process: None, no_errors_logged: None
) -> None:
    drop = Fault(FaultKind.DROP_MID_FRAME, after=60)
    with (
        tradovate_sim(faults={1: drop}) as sim,
        client_for(adapter, "tradovate", sim, reconnect=FAST_RECONNECT) as driver,
    ):
        subscribe(driver, sim)
        sim.token = "renewed-token"
        with pytest.raises(LocalProtocolError):
            driver.client.use_token("")
        driver.client.use_token("renewed-token")
        events = driver.collect(streamed(200, after_reconnect=True))
    assert_resumed(events, "renewed token")


def test_the_matrix_covers_every_fault_kind_but_delay() -> None:
    kinds = set()
    for case in MATRIX:
        fault = case.values[2]
        assert isinstance(fault, Fault)
        kinds.add(fault.kind)
    assert kinds == set(FaultKind) - {FaultKind.DELAY}


def test_authentication_error_is_what_a_refused_first_connect_raises(clean_process: None) -> None:
    with tradovate_sim() as sim:
        for adapter in ADAPTERS:
            with pytest.raises(AuthenticationError):
                open_client(adapter, "tradovate", sim.url, token="wrong")
