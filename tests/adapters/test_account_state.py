"""Account state and order handles through both adapters, against both simulators.

The server's truth comes from ``server_truth``: today the simulators' own answers (Tradovate's
position and order lists and cash snapshot, cTrader's reconcile and trader), each reduced to
the same plain shape as the client's ``account_state()`` (``client_truth``); a simulator that
reports its state directly can take their place there alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from brokerwire.adapters.errors import RequestError
from brokerwire.adapters.events import AccountSynced, Disconnected
from brokerwire.adapters.order_handles import OrderHandle
from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderStatus
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


def client_truth(driver: Driver, broker: str) -> dict[str, Any]:
    state = on_client(driver, lambda client: client.account_state())
    if broker == "tradovate":
        (account,) = state.accounts.values()
        return {
            "positions": {p.contract_id: p.net_pos for p in account.positions},
            "orders": sorted(order.id for order in account.open_orders),
            "balance": account.balances[1],
        }
    (account,) = state.values()
    return {
        "positions": {p.position_id: p.trade_data.volume for p in account.positions},
        "orders": sorted(order.order_id for order in account.open_orders),
        "balance": account.balance,
    }


def server_truth(driver: Driver, broker: str, sim: Any) -> dict[str, Any]:
    if broker == "tradovate":
        positions = driver.call("list_positions", timeout=WAIT)
        orders = driver.call("list_orders", timeout=WAIT)
        cash = driver.call("get_cash_balance_snapshot", sim.account_id, timeout=WAIT)
        return {
            "positions": {p["contractId"]: p["netPos"] for p in positions if p["netPos"]},
            "orders": sorted(o["id"] for o in orders if o["ordStatus"] == "Working"),
            "balance": Decimal(repr(cash["totalCashValue"])),
        }
    account = sim.accounts[0]
    reconcile = driver.call("reconcile", account, timeout=WAIT)
    trader = driver.call("get_trader", account, timeout=WAIT).trader
    return {
        "positions": {p.position_id: p.trade_data.volume for p in reconcile.position},
        "orders": sorted(order.order_id for order in reconcile.order),
        "balance": trader.money(trader.balance),
    }


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


def place(
    driver: Driver, broker: str, sim: Any, buy: bool, quantity: int, *, limit: Any = None
) -> Any:
    """A tracked order: market, or a limit at ``limit`` (a price, or "far" to rest)."""
    if broker == "tradovate":
        kwargs: dict[str, Any] = {
            "account_spec": sim.account_name,
            "account_id": sim.account_id,
            "symbol": ES,
            "action": "Buy" if buy else "Sell",
            "order_qty": quantity,
        }
        if limit is not None:
            price = sim.price(ES) * (0.5 if buy else 1.5) if limit == "far" else limit
            kwargs.update(order_type="Limit", price=round(price, 2))
        return on_client(driver, lambda client: client.place_order_tracked(**kwargs))
    options: dict[str, Any] = {}
    if limit is not None:
        options = {"order_type": "LIMIT", "limit_price": 0.5 if buy else 2.5}
    side = "BUY" if buy else "SELL"
    account = sim.accounts[0]
    return on_client(
        driver,
        lambda client: client.new_order_tracked(
            account, EURUSD, side, quantity * 100_000, **options
        ),
    )


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


def sim_order_ids(broker: str, sim: Any) -> list[int]:
    if broker == "tradovate":
        return sorted(sim.book.orders)
    return sorted(sim.books[sim.accounts[0]].orders)


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_orders_are_followed_to_their_final_state_and_the_state_is_the_servers(
    adapter: str, broker: str, sim: Any
) -> None:
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        filled = place(driver, broker, sim, True, 2)
        view = final(driver, filled)
        assert view.status is OrderStatus.FILLED
        assert view.filled_quantity == (2 if broker == "tradovate" else 200_000)
        assert view.average_price is not None
        assert view.order_id is not None
        resting = place(driver, broker, sim, True, 1, limit="far")
        until(lambda: resting.status is OrderStatus.WORKING)
        until(lambda: client_truth(driver, broker) == server_truth(driver, broker, sim))
        cancel(driver, broker, sim, resting.order_id)
        assert final(driver, resting).status is OrderStatus.CANCELLED
        until(lambda: client_truth(driver, broker) == server_truth(driver, broker, sim))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_in_flight_when_the_link_drops_is_unknown_then_resolved_once(
    adapter: str, broker: str, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator takes the order, then the link closes instead of the answer: the handle
    says unknown, the order is not sent again, and the snapshot of the new link resolves it."""
    seen: list[OrderStatus] = []
    update = OrderHandle._update

    def recorded(handle: OrderHandle, view: Any) -> None:
        seen.append(view.status)
        update(handle, view)

    monkeypatch.setattr(OrderHandle, "_update", recorded)
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        before = sim_order_ids(broker, sim)
        arm(sim, Fault(FaultKind.CLOSE, after=0))  # the next message: the order's answer
        handle = place(driver, broker, sim, True, 1)
        view = final(driver, handle)
        assert seen == [OrderStatus.UNKNOWN, OrderStatus.FILLED]
        assert view.status is OrderStatus.FILLED
        placed = [i for i in sim_order_ids(broker, sim) if i not in before]
        assert placed == [view.order_id]  # taken once, never sent again
        lost = collector.of(Disconnected)
        assert lost
        assert len(lost[0].unknown_orders) == 1
        until(synced(collector, 2))
        until(lambda: client_truth(driver, broker) == server_truth(driver, broker, sim))


def arm(sim: Any, fault: Fault) -> None:
    """Arm ``fault`` on the simulator's newest connection, and return once it is armed."""
    armed = threading.Event()

    def inject() -> None:
        sim.inject(fault)
        armed.set()

    sim.on_loop(inject)
    assert armed.wait(WAIT)


def _strike(broker: str, sim: Any, rng: random.Random) -> None:
    kinds = [FaultKind.CLOSE, FaultKind.DROP_MID_FRAME, FaultKind.GARBAGE]
    if broker == "ctrader":
        kinds.append(None)  # an account disconnect
    kind = rng.choice(kinds)
    if kind is None:
        account = sim.accounts[0]
        sim.on_loop(lambda: sim.disconnect_account(account))
    else:
        fault = Fault(kind, after=rng.randrange(3))
        sim.on_loop(lambda: sim.inject(fault))


def _step(driver: Driver, broker: str, sim: Any, rng: random.Random, handles: list[Any]) -> None:
    working = [h for h in handles if h.status is OrderStatus.WORKING and h.order_id]
    roll = rng.random()
    if working and roll < 0.2:
        cancel(driver, broker, sim, rng.choice(working).order_id)
    elif working and roll < 0.3:
        modify(driver, broker, sim, rng.choice(working).order_id, rng.randint(1, 3))
    else:
        limit = "far" if roll < 0.6 else None
        handles.append(
            place(driver, broker, sim, rng.random() < 0.5, rng.randint(1, 3), limit=limit)
        )


def _settled(handles: list[Any]) -> bool:
    return all(h.status not in (OrderStatus.SENT, OrderStatus.UNKNOWN) for h in handles)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_random_run_with_faults_ends_with_the_servers_state_and_every_handle_final(
    adapter: str, broker: str, sim: Any
) -> None:
    rng = random.Random(f"{adapter}-{broker}-30")
    orders = 100
    with connect(adapter, broker, sim) as driver, Collector(driver) as collector:
        until(synced(collector))
        handles: list[Any] = []
        for number in range(orders * 2):
            if len(handles) >= orders:
                break
            if number % 12 == 11:
                _strike(broker, sim, rng)
            try:
                _step(driver, broker, sim, rng, handles)
            except (RequestError, LocalProtocolError):
                # Not connected, or the account not authorized again yet: nothing was sent.
                until(lambda: driver.client.ready)
        until(lambda: _settled(handles) and driver.client.ready, 30)
        for _ in range(20):  # a cancel may meet the account being authorized again
            for handle in handles:
                if handle.status is OrderStatus.WORKING:
                    cancel(driver, broker, sim, handle.order_id)
            with contextlib.suppress(AssertionError):
                until(lambda: all(h.done for h in handles), 1.0)
                break
        until(lambda: all(h.done for h in handles))
        assert all(h.view.final for h in handles)
        placed = sorted(h.order_id for h in handles if h.order_id is not None)
        on_sim = sim_order_ids(broker, sim)
        extra = set(placed) ^ set(on_sim)
        assert extra == set(), [(h.view.key, h.view.status.value, h.order_id) for h in handles]
        assert placed == on_sim  # each order reached the simulator once
        until(lambda: client_truth(driver, broker) == server_truth(driver, broker, sim))
        assert len(collector.of(AccountSynced)) > 1  # faults struck, and the state recovered


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
                state = client.account_state()
                (account,) = state.accounts.values()
                assert {p.contract_id: p.net_pos for p in account.positions} == {
                    view.fills[0] and 3570918: 1
                }

    asyncio.run(run())


async def _awaited(handle: Any) -> Any:
    return await handle


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_whose_answer_times_out_is_resolved_on_the_same_link(
    adapter: str, broker: str, sim: Any
) -> None:
    """The answer comes too late: the handle is unknown, and a snapshot taken at once on the
    link that stayed up resolves it; nothing is sent again and the link is not dropped."""
    with (
        connect(adapter, broker, sim, request_timeout=0.2) as driver,
        Collector(driver) as collector,
    ):
        until(synced(collector))
        before = sim_order_ids(broker, sim)
        arm(sim, Fault(FaultKind.DELAY, seconds=0.5))
        handle = place(driver, broker, sim, True, 1)
        view = final(driver, handle)
        assert view.status is OrderStatus.FILLED
        assert [i for i in sim_order_ids(broker, sim) if i not in before] == [view.order_id]
        assert collector.of(Disconnected) == []
        until(lambda: client_truth(driver, broker) == server_truth(driver, broker, sim))


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
