"""Typed Tradovate requests against the simulator, on both adapters: bodies built as Structs go
out by their wire names, answers come back as their Structs, and a body of the wrong type never
leaves the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from brokerwire.adapters.errors import RequestRefused
from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.adapters.simulators.tradovate import _TradovateSession
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import Chart, EntityChanged
from brokerwire.core.tradovate.models import Action, OrderStrategyStatus, OrderType, RejectReason
from brokerwire.core.tradovate.requests import (
    CancelOrder,
    ChangeSpeed,
    ChartDescription,
    ChartSubscriptionResult,
    ChartTimeRange,
    CheckReplaySessionResponse,
    CheckStatus,
    CommandResult,
    ElementSizeUnit,
    GetChart,
    LiquidatePosition,
    ModifyOrder,
    OrderStrategyStatusResponse,
    PlaceOrder,
    PlaceOrderResult,
    SimpleResponse,
    SubscriptionMode,
    UnderlyingType,
)
from brokerwire.core.tradovate.strategy import (
    Bracket,
    EntryVersion,
    OrderStrategyParams,
    params_of,
    start_order_strategy,
)
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(60)

ES = 3570918


@pytest.fixture
def sim() -> Iterator[TradovateSimulator]:
    with TradovateSimulator(price_walk=False, request_limit=100_000) as simulator:
        yield simulator


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoint of every request the simulator receives."""
    endpoints: list[str] = []
    handle = _TradovateSession._request

    def record(session: _TradovateSession, doc: Any) -> None:
        endpoints.append(doc.endpoint)
        handle(session, doc)

    monkeypatch.setattr(_TradovateSession, "_request", record)
    return endpoints


def trading(adapter: str, sim: TradovateSimulator) -> Driver:
    return open_client(adapter, "tradovate", sim.trading_url, token=sim.token)


def order(sim: TradovateSimulator, **fields: Any) -> PlaceOrder:
    values: dict[str, Any] = {
        "account_spec": sim.account_name,
        "account_id": sim.account_id,
        "action": Action.BUY,
        "symbol": "ESZ6",
        "order_qty": 1,
        "order_type": OrderType.MARKET,
        "is_automated": True,
    }
    return PlaceOrder(**(values | fields))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_typed_orders_place_modify_cancel_and_liquidate(
    adapter: str, sim: TradovateSimulator
) -> None:
    sim.set_price("ESZ6", 6000.0)
    with trading(adapter, sim) as driver:
        limit = order(sim, order_type=OrderType.LIMIT, price=5990.0, order_qty=2)
        placed = driver.call("place_order", limit)
        assert type(placed) is PlaceOrderResult
        assert placed.order_id is not None
        assert placed.failure_reason is None
        modified = driver.call(
            "modify_order",
            ModifyOrder(
                order_id=placed.order_id,
                order_qty=3,
                order_type=OrderType.LIMIT,
                price=5980.0,
                is_automated=True,
            ),
        )
        assert type(modified) is CommandResult
        assert modified.command_id is not None
        orders = driver.call("list_orders")  # the untyped helpers still give decoded JSON
        assert next(o for o in orders if o["id"] == placed.order_id)["ordStatus"] == "Working"
        cancelled = driver.call("cancel_order", CancelOrder(order_id=placed.order_id))
        assert type(cancelled) is CommandResult
        with pytest.raises(RequestRefused) as refused:
            driver.call("cancel_order", CancelOrder(order_id=placed.order_id))
        assert refused.value.code == RejectReason.TOO_LATE

        bought = driver.call("request", "order/placeOrder", None, order(sim))
        assert type(bought) is PlaceOrderResult
        assert bought.order_id is not None
        flat = driver.call(
            "liquidate_position",
            LiquidatePosition(account_id=sim.account_id, contract_id=ES, admin=False),
        )
        assert type(flat) is PlaceOrderResult
        assert flat.order_id not in (None, bought.order_id)
        assert driver.call("list_positions")[0]["netPos"] == 0


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_wrong_typed_body_never_reaches_the_server(
    adapter: str, sim: TradovateSimulator, received: list[str]
) -> None:
    with trading(adapter, sim) as driver:
        with pytest.raises(LocalProtocolError, match="PlaceOrder cannot be sent"):
            driver.call("place_order", order(sim, order_qty="1"))
        with pytest.raises(LocalProtocolError, match="takes PlaceOrder, not CancelOrder"):
            driver.call("request", "order/placeorder", None, CancelOrder(order_id=1))
        with pytest.raises(LocalProtocolError, match="without symbol"):
            driver.call("place_order", order(sim), symbol="NQZ6")
        assert received == ["authorize"]
        assert type(driver.call("place_order", order(sim))) is PlaceOrderResult
        assert received == ["authorize", "order/placeorder"]
        assert not sim.book.orders.keys() - {o["id"] for o in driver.call("list_orders")}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_typed_chart_request_streams_bars(adapter: str, sim: TradovateSimulator) -> None:
    request = GetChart(
        symbol="ESZ6",
        chart_description=ChartDescription(
            underlying_type=UnderlyingType.MINUTE_BAR,
            element_size=1,
            element_size_unit=ElementSizeUnit.UNDERLYING_UNITS,
            with_histogram=False,
        ),
        time_range=ChartTimeRange(as_much_as_elements=5),
    )
    with open_client(adapter, "tradovate", sim.md_url, token=sim.md_token) as driver:
        answer = driver.call("get_chart", request)
        assert type(answer) is ChartSubscriptionResult
        assert answer.mode is SubscriptionMode.REAL_TIME
        assert answer.historical_id is not None
        events = driver.collect(lambda evs: sum(type(e) is Chart for e in evs) >= 1)
        history = next(e for e in events if type(e) is Chart).charts[0]
        assert history.id == answer.historical_id
        assert len(history.bars) == 5
        live = driver.client.registry.live
        assert [(s.kind, s.realtime_id) for s in live] == [("chart", answer.realtime_id)]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_replay_helpers_answer_typed(adapter: str, sim: TradovateSimulator) -> None:
    with trading(adapter, sim) as driver:
        checked = driver.call("check_replay_session", "2026-11-02T14:30:00.000Z")
        assert checked == CheckReplaySessionResponse(
            check_status=CheckStatus.OK, start_timestamp="2026-11-02T14:30:00.000Z"
        )
        assert driver.call("check_replay_session", "soon").check_status is CheckStatus.INELIGIBLE
        started = driver.call(
            "initialize_clock", "2026-11-02T14:30:00.000Z", speed=200, initial_balance=50_000.0
        )
        assert started == SimpleResponse(ok=True)
        assert driver.call("change_speed", 400) == SimpleResponse(ok=True)
        later = driver.request_async("replay/changeSpeed", None, ChangeSpeed(speed=50))
        assert later.result(timeout=10) == SimpleResponse(ok=True)
        wrong = ChangeSpeed(speed=1.5)  # type: ignore[arg-type]
        with pytest.raises(LocalProtocolError, match="ChangeSpeed cannot be sent"):
            # both clients raise at once (the asyncio driver calls on its loop: its future holds it)
            driver.request_async("replay/changespeed", None, wrong).result(timeout=10)
        with pytest.raises(RequestRefused, match="speed must be 0 to 400"):
            driver.call("change_speed", 401)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_order_strategy_starts_with_its_params_as_a_string(
    adapter: str, sim: TradovateSimulator
) -> None:
    params = OrderStrategyParams(
        entry_version=EntryVersion(order_qty=1, order_type=OrderType.MARKET),
        brackets=[Bracket(qty=1, profit_target=30, stop_loss=-15, trailing_stop=False)],
    )
    request = start_order_strategy(
        symbol="ESZ6",
        action=Action.BUY,
        params=params,
        account_id=sim.account_id,
        account_spec=sim.account_name,
    )
    with trading(adapter, sim) as driver:
        driver.call("sync_user", sim.user_id)
        answer = driver.call("start_order_strategy", request)
        assert type(answer) is OrderStrategyStatusResponse
        assert answer.order_strategy is not None
        assert answer.order_strategy.status is OrderStrategyStatus.ACTIVE_STRATEGY
        assert params_of(answer.order_strategy) == params
        events = driver.collect(
            lambda evs: any(
                type(e) is EntityChanged and e.entity_type == "orderStrategy" for e in evs
            )
        )
        created = next(e for e in events if type(e) is EntityChanged and e.entity_type == "order")
        assert created.entity.action is Action.BUY
        bad = start_order_strategy(symbol="NOPE", action="Sell", params=params)
        with pytest.raises(RequestRefused, match="Invalid order strategy"):
            driver.call("start_order_strategy", bad)
