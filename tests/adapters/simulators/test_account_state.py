"""The simulators keep real account state, by the brokers' rules, and tell it as the reducers do.

The books are driven directly here (a simulator that is not started runs what it is asked at
once): Tradovate nets positions per contract, cTrader opens a position per order on a hedged
account and one per symbol on a netted one; closing realizes profit into the balance. Then
random orders go over real loopback connections, and the state a core reducer builds from
what the client received equals the simulator's own ``account_state()``.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.adapters.simulators._ctrader_book import OrderError
from brokerwire.adapters.simulators._tradovate_book import netted
from brokerwire.core.ctrader import (
    CTraderAccountState,
    CTraderConnection,
    CTraderSnapshot,
    PayloadType,
)
from brokerwire.core.ctrader.models import (
    AmendOrderReq,
    CancelOrderReq,
    ClosePositionReq,
    ExecutionEvent,
    NewOrderReq,
    OrderType,
    PositionStatus,
    ReconcileRes,
    TraderRes,
    TradeSide,
)
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.tradovate.account import TradovateAccountState
from brokerwire.core.tradovate.models import Action, OrdStatus, SyncSnapshot
from brokerwire.core.tradovate.models import OrderType as TradovateOrderType
from brokerwire.core.tradovate.requests import CancelOrder, ModifyOrder, PlaceOrder
from tests.adapters.simulators.loopback import Loopback

pytestmark = pytest.mark.timeout(120)

ES, VALUE_PER_POINT = 3570918, 50.0
EURUSD = 1
P = PayloadType
#: What a Tradovate reducer holds, each compared whole with the simulator's.
TABLES = (
    "accounts",
    "cash_balances",
    "contracts",
    "positions",
    "orders",
    "order_versions",
    "execution_reports",
    "fills",
)


# -- Tradovate: netting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "entry", "signed", "price", "expected"),
    [
        (0, 0.0, 2, 100.0, (2, 100.0, 0.0)),  # open
        (2, 100.0, 2, 110.0, (4, 105.0, 0.0)),  # add: the average entry
        (4, 105.0, -1, 120.0, (3, 105.0, 15.0)),  # reduce: the entry stays, the part realizes
        (3, 105.0, -5, 90.0, (-2, 90.0, -45.0)),  # flip: all closes, the rest opens here
        (-2, 90.0, 2, 80.0, (0, 0.0, 20.0)),  # close: flat has price 0
        (-2, 90.0, -1, 93.0, (-3, 91.0, 0.0)),  # add short
    ],
)
def test_netting_math(
    net: int, entry: float, signed: int, price: float, expected: tuple[int, float, float]
) -> None:
    assert netted(net, entry, signed, price) == expected


def place(sim: TradovateSimulator, action: Action, quantity: int, **fields: Any) -> int:
    body = PlaceOrder(
        action=action,
        symbol="ESZ6",
        order_qty=quantity,
        order_type=fields.pop("order_type", TradovateOrderType.MARKET),
        **fields,
    )
    answer = sim.book.place(ES, body)
    assert answer.failure_reason is None, answer
    assert answer.order_id is not None
    return answer.order_id


def test_tradovate_positions_net_per_contract_and_realize_into_cash() -> None:
    sim = TradovateSimulator(price_walk=False)
    published: list[tuple[str, str, Any]] = []
    sim.book.publish = lambda kind, event, entity: published.append((kind, event, entity))
    for action, quantity, price in [
        (Action.BUY, 2, 6000.0),
        (Action.BUY, 2, 6010.0),
        (Action.SELL, 1, 6020.0),
        (Action.SELL, 5, 5990.0),
        (Action.BUY, 2, 5980.0),
    ]:
        sim.set_price("ESZ6", price)
        place(sim, action, quantity)
    position = sim.book.positions[ES]
    assert (position.net_pos, position.net_price) == (0, 0.0)
    assert (position.bought, position.sold) == (6, 6)
    assert position.bought_value == 2 * 6000.0 + 2 * 6010.0 + 2 * 5980.0
    assert position.sold_value == 6020.0 + 5 * 5990.0
    realized = (15.0 - 45.0 + 20.0) * VALUE_PER_POINT
    assert sim.book.cash.amount == 50_000.0 + realized
    assert sim.book.cash.realized_pnl == realized
    pairs = sim.book.fill_pairs
    assert sum(p.qty for p in pairs) == 6, "every contract bought was sold"
    assert sum((p.sell_price - p.buy_price) * p.qty for p in pairs) * VALUE_PER_POINT == realized
    assert [kind for kind, _, _ in published].count("position") == 5
    assert [(k, e) for k, e, _ in published if k == "cashBalance"] == [
        ("cashBalance", "Updated")
    ] * 3
    truth = sim.account_state().accounts[sim.account_id]
    assert truth.positions == (), "a flat position is held but not reported open"
    assert truth.balances == {1: Decimal("49500.0")}


def test_tradovate_resting_orders_modify_cancel_and_the_snapshot() -> None:
    sim = TradovateSimulator(price_walk=False)
    sim.set_price("ESZ6", 6000.0)
    limit = place(sim, Action.BUY, 3, order_type=TradovateOrderType.LIMIT, price=5990.0)
    stop = place(sim, Action.SELL, 1, order_type=TradovateOrderType.STOP, stop_price=5950.0)
    truth = sim.account_state().accounts[sim.account_id]
    assert [o.id for o in truth.open_orders] == [limit, stop]
    modified = sim.book.modify(
        ModifyOrder(order_id=limit, order_qty=2, order_type=TradovateOrderType.LIMIT, price=5995.0)
    )
    assert modified.command_id is not None
    assert sim.book.versions[limit].order_qty == 2
    assert sim.book.cancel(CancelOrder(order_id=stop)).command_id is not None
    assert sim.book.orders[stop].ord_status == OrdStatus.CANCELED
    sim.set_price("ESZ6", 5994.0)  # through the modified limit: filled at it
    assert sim.book.orders[limit].ord_status == OrdStatus.FILLED
    truth = sim.account_state().accounts[sim.account_id]
    assert truth.open_orders == ()
    assert [(p.net_pos, p.net_price) for p in truth.positions] == [(2, 5995.0)]


# -- cTrader: hedging and netting ------------------------------------------------------------------


def order(sim: CTraderSimulator, side: TradeSide, volume: int, **fields: Any) -> NewOrderReq:
    return NewOrderReq(
        ctid_trader_account_id=sim.accounts[0],
        symbol_id=EURUSD,
        order_type=fields.pop("order_type", OrderType.MARKET),
        trade_side=side,
        volume=volume,
        **fields,
    )


def execute(sim: CTraderSimulator, request: NewOrderReq) -> list[ExecutionEvent]:
    return sim.books[sim.accounts[0]].new_order(request, {EURUSD})


def test_ctrader_hedged_account_opens_a_position_per_order() -> None:
    sim = CTraderSimulator(price_walk=False)
    sim.set_price(EURUSD, 1.1)
    book = sim.books[sim.accounts[0]]
    execute(sim, order(sim, TradeSide.BUY, 100_000))
    execute(sim, order(sim, TradeSide.BUY, 100_000))
    execute(sim, order(sim, TradeSide.SELL, 100_000))
    positions = book.reconcile().position
    assert [(p.trade_data.trade_side, p.trade_data.volume) for p in positions] == [
        (TradeSide.BUY, 100_000),
        (TradeSide.BUY, 100_000),
        (TradeSide.SELL, 100_000),
    ]
    assert book.balance == 1_000_000, "nothing closed"
    first = positions[0].position_id
    sim.set_price(EURUSD, 1.101)  # the bid up 98 points from the 1.10002 ask bought at
    executions = book.close_position(
        ClosePositionReq(ctid_trader_account_id=sim.accounts[0], position_id=first, volume=40_000)
    )
    deal = executions[-1].deal
    assert deal is not None
    detail = deal.close_position_detail
    assert detail is not None
    assert (detail.closed_volume, detail.gross_profit, detail.money_digits) == (40_000, 39, 2)
    assert detail.balance == book.balance == 1_000_039
    assert detail.balance_version == book.balance_version == 2
    assert book.positions[first].trade_data.volume == 60_000, "a partial close"
    truth = sim.account_state(sim.accounts[0])
    assert truth.balance == Decimal("10000.39")
    assert len(truth.positions) == 3
    # An order naming a position reduces it even on a hedged account.
    execute(sim, order(sim, TradeSide.SELL, 60_000, position_id=first))
    assert book.positions[first].position_status == PositionStatus.POSITION_STATUS_CLOSED
    assert len(sim.account_state(sim.accounts[0]).positions) == 2


def test_ctrader_netted_account_holds_one_position_per_symbol() -> None:
    sim = CTraderSimulator(price_walk=False, netting=True)
    book = sim.books[sim.accounts[0]]
    sim.set_price(EURUSD, 1.1)  # asks 1.10002
    execute(sim, order(sim, TradeSide.BUY, 100_000))
    sim.set_price(EURUSD, 1.2)  # asks 1.20002
    execute(sim, order(sim, TradeSide.BUY, 100_000))
    (position,) = book.reconcile().position
    assert (position.trade_data.volume, position.price) == (200_000, 1.15002)
    execute(sim, order(sim, TradeSide.SELL, 50_000))  # at the 1.2 bid
    (reduced,) = book.reconcile().position
    assert reduced.position_id == position.position_id
    assert (reduced.trade_data.volume, reduced.price) == (150_000, 1.15002)
    assert book.balance == 1_000_000 + round((1.2 - 1.15002) * 50_000)
    execute(sim, order(sim, TradeSide.SELL, 250_000))  # through flat: turned short
    (turned,) = book.reconcile().position
    assert (turned.trade_data.trade_side, turned.trade_data.volume, turned.price) == (
        TradeSide.SELL,
        100_000,
        1.2,
    )
    execute(sim, order(sim, TradeSide.BUY, 100_000))
    assert book.reconcile().position == []
    trader = book.trader(1)
    assert trader.account_type is not None
    assert trader.account_type.name == "NETTED"


def accepted_id(executions: list[ExecutionEvent]) -> int:
    accepted = executions[0].order
    assert accepted is not None
    return accepted.order_id


def test_ctrader_pending_orders_rest_amend_and_cancel() -> None:
    sim = CTraderSimulator(price_walk=False)
    account = sim.accounts[0]
    book = sim.books[account]
    sim.set_price(EURUSD, 1.1)
    limit = execute(
        sim, order(sim, TradeSide.BUY, 100_000, order_type=OrderType.LIMIT, limit_price=1.09)
    )
    stop = execute(
        sim, order(sim, TradeSide.SELL, 100_000, order_type=OrderType.STOP, stop_price=1.08)
    )
    limit_id, stop_id = accepted_id(limit), accepted_id(stop)
    assert [o.order_id for o in sim.account_state(account).open_orders] == [limit_id, stop_id]
    book.amend_order(
        AmendOrderReq(ctid_trader_account_id=account, order_id=limit_id, volume=200_000)
    )
    book.cancel_order(stop_id)
    assert [o.trade_data.volume for o in book.reconcile().order] == [200_000]
    assert book.price_moved(EURUSD) == [], "nothing crossed yet"
    sim.set_price(EURUSD, 1.0899)  # the ask 1.08992 is under the limit
    truth = sim.account_state(account)
    assert truth.open_orders == ()
    assert [p.trade_data.volume for p in truth.positions] == [200_000]
    with pytest.raises(OrderError, match="not pending"):
        book.cancel_order(limit_id)


def test_ctrader_deposit_and_withdrawal_change_the_balance() -> None:
    sim = CTraderSimulator(price_walk=False)
    account = sim.accounts[0]
    book = sim.books[account]
    deposit = book.deposit(12_345)
    withdrawal = book.deposit(-345)
    assert withdrawal.deposit_withdraw is not None
    assert deposit.deposit_withdraw is not None
    assert deposit.deposit_withdraw.operation_type.name == "BALANCE_DEPOSIT"
    assert withdrawal.deposit_withdraw.operation_type.name == "BALANCE_WITHDRAW"
    assert (withdrawal.deposit_withdraw.delta, withdrawal.deposit_withdraw.balance) == (
        345,
        1_012_000,
    )
    assert sim.account_state(account).balance == Decimal("10120.00")


# -- the server's truth equals what a client built from what it received ---------------------------


def tradovate_answer(link: Loopback, endpoint: str, body: Any = None) -> Any:
    conn: TradovateConnection = link.conn  # type: ignore[assignment]
    request_id = conn.request(endpoint, None, body)
    events = link.until(lambda evs: any(getattr(e, "request_id", None) == request_id for e in evs))
    return next(e for e in events if getattr(e, "request_id", None) == request_id)


def random_tradovate_step(rng: random.Random, link: Loopback, sim: TradovateSimulator) -> None:
    choice = rng.random()
    working = [o.id for o in sim.account_state().accounts[sim.account_id].open_orders]
    if choice < 0.15:
        sim.set_price("ESZ6", 6000.0 + rng.randrange(-20, 21) * 0.25)
    elif choice < 0.3 and working:
        body = {"orderId": rng.choice(working)}
        tradovate_answer(link, "order/cancelorder", body)
    elif choice < 0.35 and working:
        body = {"orderId": rng.choice(working), "orderQty": rng.randint(1, 3)}
        body.update(orderType="Limit", price=6000.0 + rng.randrange(-12, 13) * 0.25)
        tradovate_answer(link, "order/modifyorder", body)
    elif choice < 0.4:
        body = {"accountId": sim.account_id, "contractId": ES, "admin": False}
        tradovate_answer(link, "order/liquidateposition", body)
    else:
        kind = rng.choice(["Market", "Limit", "Limit", "Stop"])
        body = {
            "accountId": sim.account_id,
            "action": rng.choice(["Buy", "Sell"]),
            "symbol": "ESZ6",
            "orderQty": rng.randint(1, 3),
            "orderType": kind,
            "clOrdId": f"random-{rng.getrandbits(48)}",
        }
        offset = rng.randrange(1, 20) * 0.25
        if kind == "Limit":
            body["price"] = 6000.0 + (-offset if body["action"] == "Buy" else offset)
        elif kind == "Stop":
            body["stopPrice"] = 6000.0 + (offset if body["action"] == "Buy" else -offset)
        tradovate_answer(link, "order/placeorder", body)


@pytest.mark.parametrize("seed", [20261207, 1, 2])
def test_tradovate_state_from_sync_and_props_equals_the_simulators(seed: int) -> None:
    rng = random.Random(seed)
    with TradovateSimulator(price_walk=False, request_limit=100_000) as sim:
        sim.set_price("ESZ6", 6000.0)
        conn = TradovateConnection("127.0.0.1")
        with Loopback(conn, sim.trading_url) as link:
            link.until(lambda evs: any(type(e).__name__ == "Opened" for e in evs))
            authorized = conn.authorize(sim.token)
            link.until(lambda evs: any(getattr(e, "request_id", None) == authorized for e in evs))
            state = TradovateAccountState()
            sync = tradovate_answer(link, "user/syncrequest", {"users": [sim.user_id]})
            assert type(sync.data) is SyncSnapshot
            start = len(link.events)
            state.apply_snapshot(sync.data)
            for _ in range(100):
                random_tradovate_step(rng, link, sim)
            tradovate_answer(link, "account/list")  # every earlier event came before it
            for event in link.events[start:]:
                state.apply(event)
            assert state.snapshot() == sim.account_state()
            truth = TradovateAccountState()
            truth.apply_snapshot(sim.read_on_loop(sim.sync_snapshot))
            for table in TABLES:
                assert dict(getattr(state, table)) == dict(getattr(truth, table)), table
            received = sim.orders_received()
    assert received
    assert set(received.values()) == {1}, "no order reached the simulator twice"
    assert sum(received.values()) > 40


def ctrader_outcome(link: Loopback, client_msg_id: str) -> Any:
    events = link.until(
        lambda evs: any(getattr(e, "client_msg_id", None) == client_msg_id for e in evs)
    )
    return next(e for e in events if getattr(e, "client_msg_id", None) == client_msg_id)


def random_ctrader_step(
    rng: random.Random, link: Loopback, sim: CTraderSimulator, account: int
) -> None:
    conn: CTraderConnection = link.conn  # type: ignore[assignment]
    truth = sim.account_state(account)
    pending = [o.order_id for o in truth.open_orders]
    positions = list(truth.positions)
    choice = rng.random()
    if choice < 0.15:
        sim.set_price(EURUSD, 1.1 + rng.randrange(-40, 41) / 100_000)
        return
    if choice < 0.18:
        sim.deposit(account, rng.choice([-1, 1]) * rng.randint(1, 50_000))
        return
    if choice < 0.25 and pending:
        message: Any = CancelOrderReq(ctid_trader_account_id=account, order_id=rng.choice(pending))
    elif choice < 0.35 and pending:
        order_id = rng.choice(pending)
        price = 1.1 + rng.randrange(-30, 31) / 100_000
        is_limit = next(o for o in truth.open_orders if o.order_id == order_id).limit_price
        message = AmendOrderReq(
            ctid_trader_account_id=account,
            order_id=order_id,
            volume=rng.choice([100_000, 200_000]),
            limit_price=price if is_limit is not None else None,
        )
    elif choice < 0.45 and positions:
        position = rng.choice(positions)
        volume = rng.randint(1, position.trade_data.volume // 1000) * 1000
        message = ClosePositionReq(
            ctid_trader_account_id=account, position_id=position.position_id, volume=volume
        )
    else:
        side = rng.choice([TradeSide.BUY, TradeSide.SELL])
        kind = rng.choice([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP])
        offset = rng.randrange(1, 30) / 100_000
        prices: dict[str, float] = {}
        if kind == OrderType.LIMIT:
            prices["limit_price"] = 1.1 - offset if side == TradeSide.BUY else 1.1 + offset
        elif kind == OrderType.STOP:
            prices["stop_price"] = 1.1 + offset if side == TradeSide.BUY else 1.1 - offset
        message = NewOrderReq(
            ctid_trader_account_id=account,
            symbol_id=EURUSD,
            order_type=kind,
            trade_side=side,
            volume=rng.choice([100_000, 200_000, 300_000]),
            client_order_id=f"random-{rng.getrandbits(48)}",
            **prices,
        )
    ctrader_outcome(link, conn.request(message))


@pytest.mark.parametrize("seed", [7, 8])
@pytest.mark.parametrize("netting", [False, True], ids=["hedged", "netted"])
def test_ctrader_state_from_reconcile_and_executions_equals_the_simulators(
    netting: bool, seed: int
) -> None:
    rng = random.Random(seed)
    with CTraderSimulator(price_walk=False, requests_per_second=100_000, netting=netting) as sim:
        sim.set_price(EURUSD, 1.1)
        account = sim.accounts[0]
        conn = CTraderConnection.tcp()
        with Loopback(conn, sim.tcp_url) as link:
            ctrader_outcome(link, conn.authorize_application(sim.client_id, sim.client_secret))
            ctrader_outcome(link, conn.authorize_account(account, sim.access_token))
            scope = {"ctidTraderAccountId": account}
            trader = ctrader_outcome(link, conn.request(P.PROTO_OA_TRADER_REQ, scope))
            reconcile = ctrader_outcome(link, conn.request(P.PROTO_OA_RECONCILE_REQ, scope))
            assert type(trader.message) is TraderRes
            assert type(reconcile.message) is ReconcileRes
            state = CTraderAccountState(account)
            state.apply_snapshot(CTraderSnapshot.of(trader.message, reconcile.message))
            start = len(link.events)
            for _ in range(100):
                random_ctrader_step(rng, link, sim, account)
            ctrader_outcome(
                link, conn.request(P.PROTO_OA_VERSION_REQ)
            )  # every earlier event came before it
            for event in link.events[start:]:
                state.apply(event)
            assert state.snapshot() == sim.account_state(account)
            received = sim.orders_received()
    assert received
    assert set(received.values()) == {1}, "no order reached the simulator twice"


def test_orders_received_counts_each_arrival() -> None:
    with TradovateSimulator(price_walk=False) as sim:
        conn = TradovateConnection("127.0.0.1")
        with Loopback(conn, sim.trading_url) as link:
            link.until(lambda evs: any(type(e).__name__ == "Opened" for e in evs))
            authorized = conn.authorize(sim.token)
            link.until(lambda evs: any(getattr(e, "request_id", None) == authorized for e in evs))
            body = {"action": "Buy", "symbol": "ESZ6", "orderQty": 1, "orderType": "Market"}
            for cl_ord_id in ("twice", "twice", "once"):
                tradovate_answer(link, "order/placeorder", dict(body, clOrdId=cl_ord_id))
            tradovate_answer(link, "order/placeorder", {"orderQty": "not a number"})
        assert sim.orders_received() == {"twice": 2, "once": 1, "": 1}
    with CTraderSimulator(price_walk=False) as sim:
        account = sim.accounts[0]
        conn = CTraderConnection.tcp()
        with Loopback(conn, sim.tcp_url) as link:
            ctrader_outcome(link, conn.authorize_application(sim.client_id, sim.client_secret))
            ctrader_outcome(link, conn.authorize_account(account, sim.access_token))
            for fields in ({"client_order_id": "a"}, {"label": "b"}, {"label": "b"}, {}):
                ctrader_outcome(link, conn.request(order(sim, TradeSide.BUY, 100_000, **fields)))
        assert sim.orders_received() == {"a": 1, "b": 2, "": 1}
