"""Account state and order handles through both adapters, against both simulators.

The server's truth is the simulator's own: ``account_state()`` (its books fed to the core
reducer, as a client's sync or reconcile answer would be), the orders its books hold, and
``orders_received()``, which counts every order request by its client order id, so that a test
proves no order reached the server twice. Every order here carries its own client order id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brokerwire.adapters.errors import RequestError
from brokerwire.adapters.events import AccountSynced, Disconnected
from brokerwire.adapters.order_handles import OrderHandle
from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from brokerwire.core.ctrader import PayloadType
from brokerwire.core.ctrader.models import OrderStatus as CTraderStatus
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderStatus
from brokerwire.core.tradovate.models import Action, OrdStatus
from brokerwire.core.tradovate.models import OrderType as TradovateOrderType
from brokerwire.core.tradovate.requests import PlaceOrder
from tests.adapters.clients import FAST_RECONNECT, ctrader_credentials
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(90)

ES = "ESZ6"
EURUSD = 1
WAIT = 15.0


class Collector:
    """Takes every event of a driver on a thread of its own, so the client never waits."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.events: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop reading before the driver closes: it then takes the last events itself."""
        self._stop.set()
        self._thread.join(20)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.driver.next_event(0.1)
            except queue.Empty:
                continue
            except StopIteration:
                return
            with self._lock:
                self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [event for event in self.events if type(event) is kind]

    def mark(self) -> int:
        """Where the events stand now, for ``since``."""
        with self._lock:
            return len(self.events)

    def since(self, mark: int) -> list[Any]:
        with self._lock:
            return self.events[mark:]


def on_client(driver: Driver, function: Callable[[Any], Any]) -> Any:
    """``function(client)`` where the client lives: its thread, or its loop."""
    if not hasattr(driver, "_loop"):
        return function(driver.client)

    async def run() -> Any:
        return function(driver.client)

    return driver._run(run())  # type: ignore[attr-defined]


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition not met in time")


def final(driver: Driver, handle: Any) -> Any:
    if hasattr(driver, "_loop"):
        return driver._run(handle.wait(WAIT))  # type: ignore[attr-defined]
    return handle.wait(WAIT)


# -- the truths --------------------------------------------------------------------------------

#: The simulators' order statuses in the handles' words.
TRADOVATE_STATUS = {
    OrdStatus.WORKING: OrderStatus.WORKING,
    OrdStatus.FILLED: OrderStatus.FILLED,
    OrdStatus.CANCELED: OrderStatus.CANCELLED,
    OrdStatus.REJECTED: OrderStatus.REJECTED,
    OrdStatus.EXPIRED: OrderStatus.EXPIRED,
}
CTRADER_STATUS = {
    CTraderStatus.ORDER_STATUS_ACCEPTED: OrderStatus.WORKING,
    CTraderStatus.ORDER_STATUS_FILLED: OrderStatus.FILLED,
    CTraderStatus.ORDER_STATUS_CANCELLED: OrderStatus.CANCELLED,
    CTraderStatus.ORDER_STATUS_REJECTED: OrderStatus.REJECTED,
    CTraderStatus.ORDER_STATUS_EXPIRED: OrderStatus.EXPIRED,
}


def client_truth(driver: Driver, broker: str) -> Any:
    """The client's state, as one plain value."""
    state = on_client(driver, lambda client: client.account_state())
    return state if broker == "tradovate" else dict(state)


def server_truth(broker: str, sim: Any) -> Any:
    """The simulator's state, in the client's shape (cTrader: the one account it authorizes)."""
    if broker == "tradovate":
        return sim.account_state()
    account = sim.accounts[0]
    return {account: sim.account_state(account)}


def server_orders(broker: str, sim: Any) -> dict[int, tuple[OrderStatus, int]]:
    """Every order the simulator's book holds, final ones too: its status and filled quantity."""

    def tradovate() -> dict[int, tuple[OrderStatus, int]]:
        filled: Counter[int] = Counter()
        for fill in sim.book.fills:
            filled[fill.order_id] += fill.qty
        return {
            order_id: (TRADOVATE_STATUS[order.ord_status], filled[order_id])
            for order_id, order in sim.book.orders.items()
        }

    def ctrader() -> dict[int, tuple[OrderStatus, int]]:
        return {
            order_id: (CTRADER_STATUS[order.order_status], order.executed_volume or 0)
            for order_id, order in sim.books[sim.accounts[0]].orders.items()
        }

    return dict(sim.read_on_loop(tradovate if broker == "tradovate" else ctrader))


def sim_order_ids(broker: str, sim: Any) -> list[int]:
    return sorted(server_orders(broker, sim))


def state_is_the_servers(driver: Driver, broker: str, sim: Any) -> bool:
    return bool(client_truth(driver, broker) == server_truth(broker, sim))


def handles_are_the_servers(broker: str, sim: Any, handles: dict[str, Any]) -> bool:
    """Each handle shows what the simulator holds: the status and filled quantity of its order,
    and no order at all for one never placed or refused in its answer."""
    held = server_orders(broker, sim)
    received = sim.orders_received()
    for client_id, handle in handles.items():
        if handle.order_id is None:
            if handle.status is OrderStatus.NOT_PLACED and client_id in received:
                return False
            if handle.status not in (OrderStatus.NOT_PLACED, OrderStatus.REJECTED):
                return False
        elif held.get(handle.order_id) != (handle.status, handle.filled_quantity):
            return False
    return True


def assert_each_order_received_once(sim: Any, handles: dict[str, Any]) -> None:
    """No order reached the simulator twice, and every order it holds came from a handle."""
    received = sim.orders_received()
    assert set(received.values()) <= {1}, {k: n for k, n in received.items() if n != 1}
    assert set(received) <= set(handles), "an order the test did not place"
    for client_id, handle in handles.items():
        if handle.order_id is not None:
            assert received.get(client_id) == 1, (client_id, handle)


# -- the clients -------------------------------------------------------------------------------


@pytest.fixture(params=["tradovate", "ctrader"])
def broker(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim(broker: str) -> Iterator[Any]:
    kind = TradovateSimulator if broker == "tradovate" else CTraderSimulator
    with kind(seed=3, price_walk=False) as simulator:
        yield simulator


def connect(adapter: str, broker: str, sim: Any, **options: Any) -> Driver:
    if broker == "tradovate":
        return open_client(
            adapter,
            broker,
            sim.url,
            token=sim.token,
            track_state=True,
            user_id=sim.user_id,
            reconnect=FAST_RECONNECT,
            **options,
        )
    driver = open_client(
        adapter,
        broker,
        sim.tcp_url,
        **ctrader_credentials(sim),
        track_state=True,
        reconnect=FAST_RECONNECT,
        **options,
    )
    driver.call("authorize_account", sim.accounts[0])
    return driver


def synced(collector: Collector, count: int = 1) -> Callable[[], bool]:
    return lambda: len(collector.of(AccountSynced)) >= count


_client_ids = itertools.count(1)


def place(
    driver: Driver,
    broker: str,
    sim: Any,
    buy: bool,
    quantity: int,
    *,
    limit: Any = None,
    handles: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> Any:
    """A tracked order with a client order id of its own (filed in ``handles`` under it):
    market, or a limit at ``limit`` (a price, or "far" to rest)."""
    client_id = f"t{next(_client_ids)}"
    if broker == "tradovate":
        price = None
        if limit is not None:
            price = sim.price(ES) * (0.5 if buy else 1.5) if limit == "far" else limit
        request = PlaceOrder(
            account_spec=sim.account_name,
            account_id=sim.account_id,
            cl_ord_id=client_id,
            action=Action.BUY if buy else Action.SELL,
            symbol=ES,
            order_qty=quantity,
            order_type=TradovateOrderType.MARKET if price is None else TradovateOrderType.LIMIT,
            price=None if price is None else round(price, 2),
            is_automated=True,
        )
        handle = on_client(
            driver, lambda client: client.place_order_tracked(request, timeout=timeout)
        )
    else:
        options: dict[str, Any] = {"client_order_id": client_id, "timeout": timeout}
        if limit is not None:
            options.update(order_type="LIMIT", limit_price=0.5 if buy else 2.5)
        side = "BUY" if buy else "SELL"
        account = sim.accounts[0]
        handle = on_client(
            driver,
            lambda client: client.new_order_tracked(
                account, EURUSD, side, quantity * 100_000, **options
            ),
        )
    if handles is not None:
        handles[client_id] = handle
    return handle


def cancel(driver: Driver, broker: str, sim: Any, order_id: int) -> None:
    try:
        if broker == "tradovate":
            driver.call("cancel_order", order_id)
        else:
            driver.call("cancel_order", sim.accounts[0], order_id)
    except (RequestError, LocalProtocolError):
        pass  # too late, or lost with the link: the handle and the state tell


def modify(driver: Driver, broker: str, sim: Any, order_id: int, quantity: int) -> None:
    try:
        if broker == "tradovate":
            price = round(sim.price(ES) * 0.5, 2)
            driver.call(
                "modify_order", order_id, order_qty=quantity, order_type="Limit", price=price
            )
        else:
            driver.call("amend_order", sim.accounts[0], order_id, volume=quantity * 100_000)
    except (RequestError, LocalProtocolError):
        pass


def arm(sim: Any, fault: Fault) -> None:
    """Arm ``fault`` on the simulator's newest connection, and return once it is armed."""
    armed = threading.Event()

    def inject() -> None:
        sim.inject(fault)
        armed.set()

    sim.on_loop(inject)
    assert armed.wait(WAIT)


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_orders_are_followed_to_their_final_state_and_the_state_is_the_servers(
    adapter: str, broker: str, sim: Any
) -> None:
    handles: dict[str, Any] = {}
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        until(lambda: state_is_the_servers(driver, broker, sim))
        filled = place(driver, broker, sim, True, 2, handles=handles)
        view = final(driver, filled)
        assert view.status is OrderStatus.FILLED
        assert view.filled_quantity == (2 if broker == "tradovate" else 200_000)
        assert view.average_price is not None
        assert view.order_id is not None
        resting = place(driver, broker, sim, True, 1, limit="far", handles=handles)
        until(lambda: resting.status is OrderStatus.WORKING)
        until(lambda: state_is_the_servers(driver, broker, sim))
        assert handles_are_the_servers(broker, sim, handles)
        cancel(driver, broker, sim, resting.order_id)
        assert final(driver, resting).status is OrderStatus.CANCELLED
        until(lambda: state_is_the_servers(driver, broker, sim))
        assert handles_are_the_servers(broker, sim, handles)
        assert_each_order_received_once(sim, handles)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_in_flight_when_the_link_drops_is_unknown_then_resolved_once(
    adapter: str, broker: str, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator takes the order, then the link closes instead of the answer: the handle
    says unknown, the order is not sent again, and the snapshot of the new link resolves it to
    what the simulator holds."""
    seen: list[OrderStatus] = []
    update = OrderHandle._update

    def recorded(handle: OrderHandle, view: Any) -> None:
        seen.append(view.status)
        update(handle, view)

    monkeypatch.setattr(OrderHandle, "_update", recorded)
    handles: dict[str, Any] = {}
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        before = sim_order_ids(broker, sim)
        arm(sim, Fault(FaultKind.CLOSE, after=0))  # the next message: the order's answer
        handle = place(driver, broker, sim, True, 1, handles=handles)
        view = final(driver, handle)
        assert seen == [OrderStatus.UNKNOWN, OrderStatus.FILLED]
        assert view.status is OrderStatus.FILLED
        placed = [i for i in sim_order_ids(broker, sim) if i not in before]
        assert placed == [view.order_id]
        assert server_orders(broker, sim)[view.order_id] == (
            OrderStatus.FILLED,
            view.filled_quantity,
        )
        assert_each_order_received_once(sim, handles)  # taken once, never sent again
        lost = collector.of(Disconnected)
        assert lost
        assert len(lost[0].unknown_orders) == 1
        until(synced(collector, 2))
        until(lambda: state_is_the_servers(driver, broker, sim))


#: Orders each adapter places in the random run (so 1,000 per simulator), and how often a
#: fault strikes (every so many steps, once the last one is recovered from).
RANDOM_ORDERS = 500
STRIKE_EVERY = 12


class RandomRun:
    """Random orders through one client, faults struck at random, and after each recovery the
    client's state, every handle and the orders received checked against the simulator."""

    def __init__(
        self,
        driver: Driver,
        collector: Collector,
        broker: str,
        sim: Any,
        rng: random.Random,
        *,
        handles: dict[str, Any],
    ) -> None:
        """``handles`` holds the handles of earlier clients on the same simulator (all final)
        and takes this run's."""
        self.driver, self.collector, self.broker, self.sim, self.rng = (
            driver,
            collector,
            broker,
            sim,
            rng,
        )
        self.handles = handles
        self._earlier = len(handles)
        self.struck: Counter[str] = Counter()
        self.checked = 0
        #: The fault struck and not yet recovered from: where the events stood, and its kind.
        self._pending: tuple[int, str] | None = None

    def run(self, orders: int) -> None:
        steps = 0
        while self.placed < orders or self._pending is not None:
            assert steps < orders * 4, "the run makes no progress"
            if self._pending is not None and self.placed >= orders:
                # Every order is placed: only the recovery is left to wait for, however long
                # the resync takes (a snapshot refused for now is asked again a second later).
                until(self._recovered)
            if self._pending is not None and self._recovered():
                self.check()
                self._pending = None
            elif self._pending is None and steps % STRIKE_EVERY == STRIKE_EVERY - 1:
                self._strike()
            try:
                self._step()
            except (RequestError, LocalProtocolError):
                # Not connected, or the account not authorized again yet: nothing was sent.
                # Nothing goes until the fault is recovered from.
                if self._pending is None:
                    raise
                until(self._recovered)
            steps += 1
        self.finish()

    @property
    def placed(self) -> int:
        return len(self.handles) - self._earlier

    def _strike(self) -> None:
        kinds = ["close", "drop-mid-frame", "garbage", "restart"]
        if self.broker == "ctrader":
            kinds.append("account")
        kind = self.rng.choice(kinds)
        self._pending = (self.collector.mark(), kind)
        self.struck[kind] += 1
        sim = self.sim
        if kind == "restart":
            sim.restart_in_background()
        elif kind == "account":
            account = sim.accounts[0]
            sim.on_loop(lambda: sim.disconnect_account(account))
        else:
            fault = Fault(FaultKind(kind), after=self.rng.randrange(3))
            sim.on_loop(lambda: sim.inject(fault))

    def _recovered(self) -> bool:
        """A snapshot was taken after the fault struck: after the link dropped, or after the
        account was authorized again."""
        assert self._pending is not None
        mark, kind = self._pending
        events = self.collector.since(mark)
        if kind != "account":
            dropped = [i for i, event in enumerate(events) if type(event) is Disconnected]
            if not dropped:
                return False  # not struck yet: it waits for its message
            events = events[dropped[-1] :]
        return any(type(event) is AccountSynced for event in events) and self.driver.client.ready

    def _step(self) -> None:
        driver, broker, sim, rng = self.driver, self.broker, self.sim, self.rng
        working = [h for h in self.handles.values() if h.status is OrderStatus.WORKING]
        roll = rng.random()
        if working and roll < 0.2:
            cancel(driver, broker, sim, rng.choice(working).order_id)
        elif working and roll < 0.3:
            modify(driver, broker, sim, rng.choice(working).order_id, rng.randint(1, 3))
        else:
            buy, quantity = rng.random() < 0.5, rng.randint(1, 3)
            limit = "far" if roll < 0.6 else None
            place(driver, broker, sim, buy, quantity, limit=limit, handles=self.handles)

    def check(self) -> None:
        """Once every answer is in: the client's state, every handle and the orders received
        are the simulator's."""
        handles = self.handles.values()
        until(lambda: _settled(handles) and self.driver.client.ready)
        until(lambda: state_is_the_servers(self.driver, self.broker, self.sim))
        until(lambda: handles_are_the_servers(self.broker, self.sim, self.handles))
        assert_each_order_received_once(self.sim, self.handles)
        self.checked += 1

    def finish(self) -> None:
        """Every order still working is cancelled; every handle ends final."""
        handles = list(self.handles.values())
        until(lambda: _settled(handles) and self.driver.client.ready)
        for _ in range(20):  # a cancel may meet the account being authorized again
            for handle in handles:
                if handle.status is OrderStatus.WORKING:
                    cancel(self.driver, self.broker, self.sim, handle.order_id)
            with contextlib.suppress(AssertionError):
                until(lambda: all(h.done for h in handles), 1.0)
                break
        until(lambda: all(h.done for h in handles))
        assert all(h.view.final for h in handles)
        self.check()


def _settled(handles: Any) -> bool:
    return all(h.status not in (OrderStatus.SENT, OrderStatus.UNKNOWN) for h in handles)


@pytest.mark.timeout(300)
def test_a_thousand_random_orders_with_faults_end_with_the_servers_state(
    broker: str, sim: Any
) -> None:
    """Half the orders through a threaded client, then half through an asyncio one, on the same
    simulator: faults strike at random (close, drop mid-frame, garbage, a server restart, and
    for cTrader the account disconnected); after each recovery and at the end the client's
    state is the simulator's, every handle shows what the simulator holds for its order, and no
    order reached the simulator twice."""
    handles: dict[str, Any] = {}
    struck: Counter[str] = Counter()
    for adapter in ADAPTERS:
        rng = random.Random(f"{adapter}-{broker}-30")
        with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
            until(synced(collector))
            run = RandomRun(driver, collector, broker, sim, rng, handles=handles)
            run.run(RANDOM_ORDERS)
            struck.update(run.struck)
            assert run.checked == sum(run.struck.values()) + 1
            assert len(collector.of(AccountSynced)) > 1  # faults struck, and the state recovered
    placed = [h.order_id for h in handles.values() if h.order_id is not None]
    assert len(placed) == len(set(placed)), "two handles follow one order"
    assert sorted(placed) == sim_order_ids(broker, sim), "every order the simulator holds"
    assert_each_order_received_once(sim, handles)
    assert len(handles) >= 2 * RANDOM_ORDERS
    expected = {"close", "drop-mid-frame", "garbage", "restart"}
    assert set(struck) >= (expected | {"account"} if broker == "ctrader" else expected)


def test_the_asyncio_handle_is_awaitable() -> None:
    """``await handle`` gives the final view, on the client's loop."""

    async def run() -> None:
        from brokerwire.adapters.asyncio import TradovateClient

        async with TradovateSimulator(seed=3, price_walk=False) as sim:
            client = TradovateClient(
                sim.url, token=sim.token, track_state=True, user_id=sim.user_id
            )
            async with client:
                handle = client.place_order_tracked(
                    account_spec=sim.account_name,
                    account_id=sim.account_id,
                    symbol=ES,
                    action="Buy",
                    order_qty=1,
                )
                view = await asyncio.wait_for(asyncio.ensure_future(_awaited(handle)), WAIT)
                assert view.status is OrderStatus.FILLED
                for _ in range(int(WAIT / 0.01)):  # the balance may follow the fill
                    if client.account_state() == sim.account_state():
                        break
                    await asyncio.sleep(0.01)
                assert client.account_state() == sim.account_state()

    asyncio.run(run())


async def _awaited(handle: Any) -> Any:
    return await handle


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_whose_answer_times_out_is_resolved_on_the_same_link(
    adapter: str, broker: str, sim: Any
) -> None:
    """The answer comes too late: the handle is unknown, and a snapshot taken at once on the
    link that stayed up resolves it; nothing is sent again and the link is not dropped."""
    handles: dict[str, Any] = {}
    with (
        connect(adapter, broker, sim) as driver,
        Collector(driver) as collector,
    ):
        until(synced(collector))
        before = sim_order_ids(broker, sim)
        arm(sim, Fault(FaultKind.DELAY, seconds=0.5))
        handle = place(driver, broker, sim, True, 1, handles=handles, timeout=0.2)
        view = final(driver, handle)
        assert view.status is OrderStatus.FILLED
        assert [i for i in sim_order_ids(broker, sim) if i not in before] == [view.order_id]
        assert collector.of(Disconnected) == []
        until(lambda: state_is_the_servers(driver, broker, sim))
        assert handles_are_the_servers(broker, sim, handles)
        assert_each_order_received_once(sim, handles)


def refuse_next_snapshot(broker: str, sim: Any) -> None:
    """The next snapshot fails with an error that does not ask the client to wait: Tradovate's
    sync answered with HTTP 500, cTrader's reconcile part with INTERNAL_ERROR."""
    if broker == "tradovate":
        sim.refuse_syncs()
    else:
        sim.refuse(PayloadType.PROTO_OA_RECONCILE_REQ)


def cross_resting_buys(broker: str, sim: Any) -> None:
    """Move the price below every resting buy that ``place`` made with ``limit="far"``."""
    if broker == "tradovate":
        sim.set_price(ES, round(sim.price(ES) * 0.25, 2))
    else:
        sim.set_price(EURUSD, 0.25)


def snapshot_refusal_taken(broker: str, sim: Any) -> bool:
    if broker == "tradovate":
        return not sim.read_on_loop(lambda: sim.sync_refused()[0])
    return not sim.read_on_loop(lambda: sim.refused(PayloadType.PROTO_OA_RECONCILE_REQ)[0])


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_failed_resync_is_asked_again_on_the_link_that_stays_up(
    adapter: str, broker: str, sim: Any
) -> None:
    """The snapshot taken after an order's answer timed out is refused: it is asked again on
    the same link, and once it is in the state is the server's again, the unknown handle
    resolves, and so does a working one whose fill came while no snapshot was held."""
    handles: dict[str, Any] = {}
    with (
        connect(adapter, broker, sim, request_timeout=0.2) as driver,
        Collector(driver) as collector,
    ):
        until(synced(collector))
        resting = place(driver, broker, sim, True, 1, limit="far", handles=handles)
        until(lambda: resting.status is OrderStatus.WORKING)
        refuse_next_snapshot(broker, sim)
        arm(sim, Fault(FaultKind.DELAY, seconds=0.5))
        timed_out = place(driver, broker, sim, True, 1, handles=handles)
        cross_resting_buys(broker, sim)
        assert final(driver, timed_out).status is OrderStatus.FILLED
        assert final(driver, resting).status is OrderStatus.FILLED
        assert snapshot_refusal_taken(broker, sim)
        until(lambda: state_is_the_servers(driver, broker, sim))
        assert handles_are_the_servers(broker, sim, handles)
        assert_each_order_received_once(sim, handles)
        assert collector.of(Disconnected) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_a_handle_could_not_follow_is_refused_before_it_is_sent(
    adapter: str, broker: str, sim: Any
) -> None:
    """cTrader: a clientOrderId a handle has used; Tradovate: a quantity that is no whole
    number. Either raises at once and nothing reaches the simulator."""
    handles: dict[str, Any] = {}
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        first = place(driver, broker, sim, True, 1, handles=handles)
        assert final(driver, first).status is OrderStatus.FILLED
        if broker == "ctrader":
            (client_id,) = handles
            account = sim.accounts[0]

            def again(client: Any) -> Any:
                return client.new_order_tracked(
                    account, EURUSD, "BUY", 100_000, client_order_id=client_id
                )
        else:
            fields = {"account_spec": sim.account_name, "account_id": sim.account_id}

            def again(client: Any) -> Any:
                return client.place_order_tracked(**fields, action="Buy", symbol=ES, order_qty=1.5)

        with pytest.raises(LocalProtocolError):
            on_client(driver, again)
        place(driver, broker, sim, True, 1, handles=handles)  # flushes anything queued
        until(lambda: sum(sim.orders_received().values()) >= 2)
    assert sim.orders_received() == dict.fromkeys(handles, 1)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_closing_the_client_completes_its_handles_as_they_are(
    adapter: str, broker: str, sim: Any
) -> None:
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        resting = place(driver, broker, sim, True, 1, limit="far")
        until(lambda: resting.status is OrderStatus.WORKING)
        assert not resting.done
    assert resting.done
    assert resting.status is OrderStatus.WORKING  # still resting at the server: not final
