"""The Tradovate account-state reducer: a sync snapshot, then props events, reduced."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.jsonlib import loads
from brokerwire.core.tradovate import (
    EntityChanged,
    EntityEventType,
    MarketData,
    Response,
    UnknownEvent,
)
from brokerwire.core.tradovate.account import (
    AccountChanged,
    BalanceChanged,
    ContractChanged,
    ExecutionReportChanged,
    FillChanged,
    OrderChanged,
    OrderVersionChanged,
    PositionChanged,
    RiskStatusChanged,
    TradovateAccountState,
    TradovateChange,
)
from brokerwire.core.tradovate.messages import SYNC_ENDPOINT, server_event, sync_snapshot_of
from brokerwire.core.tradovate.models import (
    Account,
    AccountRiskStatus,
    AccountType,
    Action,
    AdminAction,
    CashBalance,
    Contract,
    ExecType,
    ExecutionReport,
    Fill,
    LegalStatus,
    MarginAccountType,
    Order,
    OrderType,
    OrderVersion,
    OrdStatus,
    Position,
    SyncSnapshot,
    TradeDate,
    User,
    UserStatus,
)

CREATED, UPDATED, DELETED = (
    EntityEventType.CREATED,
    EntityEventType.UPDATED,
    EntityEventType.DELETED,
)
TODAY = TradeDate(year=2026, month=12, day=4)
STAMP = "2026-12-04T14:30:00.125Z"

# A day's recorded sync answer (ids and names made up), as the server sends it: one account
# with a cash balance, its risk status, one working limit order and one contract.
SYNC_ANSWER = """{
 "users": [{"id": 7, "name": "demo", "timestamp": "2026-01-02T03:04:05Z", "email": "d@x.invalid",
            "status": "Active", "professional": false}],
 "accounts": [{"id": 25, "name": "DEMO25", "userId": 7, "accountType": "Customer",
               "active": true, "clearingHouseId": 2, "riskCategoryId": 2,
               "autoLiqProfileId": 2, "marginAccountType": "Speculator",
               "legalStatus": "Individual", "readonly": false}],
 "accountRiskStatuses": [{"id": 25, "adminAction": "Normal", "userTriggeredLiqOnly": false}],
 "cashBalances": [{"id": 9001, "accountId": 25, "timestamp": "2026-12-04T00:00:00Z",
                   "tradeDate": {"year": 2026, "month": 12, "day": 4}, "currencyId": 1,
                   "amount": 50000.1, "realizedPnL": 0}],
 "contracts": [{"id": 560901, "name": "ESZ6", "contractMaturityId": 6727}],
 "orders": [{"id": 210500, "accountId": 25, "contractId": 560901,
             "timestamp": "2026-12-04T13:00:00Z", "action": "Buy", "ordStatus": "Working",
             "admin": false}],
 "orderVersions": [{"id": 310500, "orderId": 210500, "orderQty": 1, "orderType": "Limit",
                    "price": 6000.25, "timeInForce": "Day"}],
 "positions": [], "fills": [], "executionReports": []
}"""

# What the server then sends for a market sell of 2 that fills, as props events in order.
PROPS = [
    '{"entityType":"order","eventType":"Created","entity":{"id":210518,"accountId":25,'
    '"contractId":560901,"timestamp":"2026-12-04T14:30:00.100Z","action":"Sell",'
    '"ordStatus":"PendingNew","admin":false}}',
    '{"entityType":"orderVersion","eventType":"Created","entity":{"id":310518,"orderId":210518,'
    '"orderQty":2,"orderType":"Market"}}',
    '{"entityType":"executionReport","eventType":"Created","entity":{"id":410001,"commandId":1,'
    '"name":"exec","accountId":25,"contractId":560901,"timestamp":"2026-12-04T14:30:00.110Z",'
    '"orderId":210518,"execType":"New","ordStatus":"Working","action":"Sell"}}',
    '{"entityType":"order","eventType":"Updated","entity":{"id":210518,"accountId":25,'
    '"contractId":560901,"timestamp":"2026-12-04T14:30:00.100Z","action":"Sell",'
    '"ordStatus":"Working","admin":false}}',
    '{"entityType":"fill","eventType":"Created","entity":{"id":510001,"orderId":210518,'
    '"contractId":560901,"timestamp":"2026-12-04T14:30:00.120Z",'
    '"tradeDate":{"year":2026,"month":12,"day":4},"action":"Sell","qty":2,"price":6001.5,'
    '"active":true,"finallyPaired":0}}',
    '{"entityType":"position","eventType":"Created","entity":{"id":610001,"accountId":25,'
    '"contractId":560901,"timestamp":"2026-12-04T14:30:00.120Z",'
    '"tradeDate":{"year":2026,"month":12,"day":4},"netPos":-2,"netPrice":6001.5,"bought":0,'
    '"boughtValue":0,"sold":2,"soldValue":12003,"prevPos":0}}',
    '{"entityType":"order","eventType":"Updated","entity":{"id":210518,"accountId":25,'
    '"contractId":560901,"timestamp":"2026-12-04T14:30:00.100Z","action":"Sell",'
    '"ordStatus":"Filled","admin":false}}',
    '{"entityType":"cashBalance","eventType":"Updated","entity":{"id":9001,"accountId":25,'
    '"timestamp":"2026-12-04T14:30:00.130Z","tradeDate":{"year":2026,"month":12,"day":4},'
    '"currencyId":1,"amount":49995.35,"realizedPnL":-4.75}}',
]


def sync_snapshot(text: str = SYNC_ANSWER) -> SyncSnapshot:
    snapshot = sync_snapshot_of(SYNC_ENDPOINT, loads(text))
    assert isinstance(snapshot, SyncSnapshot)
    return snapshot


def props(text: str) -> Any:
    return server_event({"e": "props", "d": loads(text)}, "props")


def test_recorded_snapshot_then_a_market_order_that_fills() -> None:
    state = TradovateAccountState()
    added = state.apply_snapshot(sync_snapshot())
    assert [type(change) for change in added] == [
        AccountChanged,
        RiskStatusChanged,
        BalanceChanged,
        ContractChanged,
        OrderChanged,
        OrderVersionChanged,
    ]
    assert all(change.before is None for change in added)
    view = state.snapshot().accounts[25]
    assert view.balances == {1: Decimal("50000.1")}
    assert [order.id for order in view.open_orders] == [210500]
    assert view.positions == ()

    changes = [change for text in PROPS for change in state.apply(props(text))]
    assert [type(change) for change in changes] == [
        OrderChanged,
        OrderVersionChanged,
        ExecutionReportChanged,
        OrderChanged,
        FillChanged,
        PositionChanged,
        OrderChanged,
        BalanceChanged,
    ]
    check_fill_changes(changes)
    check_after_the_fill(state)


def check_fill_changes(changes: list[Any]) -> None:
    """The changes a market order that fills makes, each with the values the events held."""
    assert changes[0] == OrderChanged(25, 210518, None, props(PROPS[0]).entity)
    assert isinstance(changes[1], OrderVersionChanged)
    assert changes[1].account_id == 25
    assert isinstance(changes[4], FillChanged)
    assert changes[4].account_id == 25
    position = changes[5]
    assert isinstance(position, PositionChanged)
    assert (position.account_id, position.contract_id, position.before) == (25, 560901, None)
    assert position.after is not None
    assert position.after.net_pos == -2
    filled = changes[6]
    assert isinstance(filled, OrderChanged)
    assert filled.before is not None
    assert filled.before.ord_status is OrdStatus.WORKING
    assert filled.after is not None
    assert filled.after.ord_status is OrdStatus.FILLED
    balance = changes[7]
    assert isinstance(balance, BalanceChanged)
    assert (balance.amount_before, balance.amount_after) == (
        Decimal("50000.1"),
        Decimal("49995.35"),
    )


def check_after_the_fill(state: TradovateAccountState) -> None:
    view = state.snapshot().accounts[25]
    assert [order.id for order in view.open_orders] == [210500]
    assert [(p.contract_id, p.net_pos) for p in view.positions] == [(560901, -2)]
    assert view.balances == {1: Decimal("49995.35")}
    assert view.account is not None
    assert view.account.name == "DEMO25"
    assert view.risk_status is not None
    assert view.risk_status.admin_action is AdminAction.NORMAL
    assert state.snapshot().contracts[560901].name == "ESZ6"


def test_a_snapshot_is_a_plain_value_later_events_leave_alone() -> None:
    state = TradovateAccountState()
    state.apply_snapshot(sync_snapshot())
    before = state.snapshot()
    for text in PROPS:
        state.apply(props(text))
    assert before.accounts[25].balances == {1: Decimal("50000.1")}
    assert before != state.snapshot()
    with pytest.raises(TypeError):
        before.accounts[25].balances[1] = Decimal(0)  # type: ignore[index]


def test_an_unchanged_resync_reports_nothing_and_a_changed_one_only_the_differences() -> None:
    state = TradovateAccountState()
    state.apply_snapshot(sync_snapshot())
    state.begin_resync()
    assert state.resync(sync_snapshot()) == []
    answer = loads(SYNC_ANSWER)
    answer["orders"][0]["ordStatus"] = "Canceled"
    answer["cashBalances"] = []
    state.begin_resync()
    changes = state.resync(sync_snapshot_of(SYNC_ENDPOINT, answer))
    assert [type(change) for change in changes] == [BalanceChanged, OrderChanged]
    assert isinstance(changes[0], BalanceChanged)
    assert changes[0].after is None
    assert state.snapshot().accounts[25].open_orders == ()
    assert state.snapshot().accounts[25].balances == {}


def test_events_before_the_first_snapshot_are_held_and_replayed_on_it() -> None:
    state = TradovateAccountState()
    assert [state.synced] == [False]
    assert [state.apply(props(text)) for text in PROPS] == [[]] * len(PROPS)
    assert state.orders == {}
    changes = state.apply_snapshot(sync_snapshot())
    assert [state.synced] == [True]
    assert state.orders[210518].ord_status is OrdStatus.FILLED
    assert state.positions[25, 560901].net_pos == -2
    # One list from nothing to the new state: each entity once, as added.
    assert all(change.before is None for change in changes)
    places = [_where(change) for change in changes]
    assert len(places) == len(set(places))
    assert sum(isinstance(change, OrderChanged) for change in changes) == 2


def test_after_begin_resync_the_old_epoch_takes_no_new_events() -> None:
    state = TradovateAccountState()
    state.apply_snapshot(sync_snapshot())
    state.begin_resync()
    assert [state.synced] == [False]
    assert state.apply(props(PROPS[0])) == []
    assert 210518 not in state.orders  # held, not applied to the old epoch's state
    changes = state.resync(sync_snapshot())
    assert [type(change) for change in changes] == [OrderChanged]
    assert 210518 in state.orders


def test_a_second_begin_resync_drops_the_events_held_for_the_abandoned_epoch() -> None:
    state = TradovateAccountState()
    state.apply(props(PROPS[0]))
    state.begin_resync()
    state.apply_snapshot(sync_snapshot())
    assert 210518 not in state.orders


@pytest.mark.parametrize(
    "event",
    [
        MarketData(),
        Response(1, 200, None, "order/placeorder"),
        Response(2, 200, sync_snapshot(), SYNC_ENDPOINT),
        UnknownEvent("props", None, None, "no model"),
        EntityChanged(
            "user",
            CREATED,
            User(
                id=7,
                name="demo",
                timestamp=STAMP,
                email="d@x.invalid",
                status=UserStatus.ACTIVE,
                professional=False,
            ),
        ),
        EntityChanged("order", CREATED, None),
        EntityChanged("order", UPDATED, []),
        "not an event",
    ],
)
@pytest.mark.parametrize("synced", [False, True])
def test_events_about_nothing_held_change_nothing(event: object, synced: bool) -> None:
    state = TradovateAccountState()
    if synced:
        state.apply_snapshot(sync_snapshot())
    tables = _tables(state)
    assert state.apply(event) == []
    state.apply_snapshot(sync_snapshot())
    assert _tables(state) == _tables(_state_of(sync_snapshot()))
    if synced:
        assert tables == _tables(state)


def test_positions_net_per_account_and_contract() -> None:
    state = _state_of(sync_snapshot())
    first = _position(610001, 25, 560901, 1)
    second = _position(610002, 25, 560901, 3)  # a new id for the same pair: the new net
    assert state.apply(EntityChanged("position", CREATED, first)) == [
        PositionChanged(25, 560901, None, first)
    ]
    assert state.apply(EntityChanged("position", CREATED, second)) == [
        PositionChanged(25, 560901, first, second)
    ]
    assert state.apply(EntityChanged("position", DELETED, first)) == []  # stale: replaced
    assert dict(state.positions) == {(25, 560901): second}
    assert state.apply(EntityChanged("position", DELETED, second)) == [
        PositionChanged(25, 560901, second, None)
    ]
    flat = _position(610003, 25, 560901, 0)
    state.apply(EntityChanged("position", UPDATED, flat))
    assert state.positions[25, 560901] == flat
    assert state.snapshot().accounts[25].positions == ()  # flat positions are not shown


def test_a_batch_applies_in_order_and_a_repeat_changes_nothing() -> None:
    state = _state_of(sync_snapshot())
    fills = [_fill(510000 + i, 210500, i + 1) for i in range(3)]
    changes = state.apply(EntityChanged("fill", CREATED, list(fills)))
    assert changes == [FillChanged(25, 210500, None, fill) for fill in fills]
    assert state.apply(EntityChanged("fill", UPDATED, list(fills))) == []


# Every entity type held, every event type, on an entity held or not.
KIND_CASES: list[tuple[str, Any, Any]] = [
    ("account", lambda v: _account(25, v), lambda e: ("accounts", e.id)),
    ("accountRiskStatus", lambda v: _risk(25, v), lambda e: ("risk_statuses", e.id)),
    ("cashBalance", lambda v: _balance(9001, 25, 1, v), lambda e: ("cash_balances", (25, 1))),
    ("contract", lambda v: _contract(560901, v), lambda e: ("contracts", e.id)),
    ("position", lambda v: _position(610001, 25, 560901, v), lambda e: ("positions", (25, 560901))),
    ("order", lambda v: _order(210500, 25, v), lambda e: ("orders", e.id)),
    ("orderVersion", lambda v: _version(310500, 210500, v), lambda e: ("order_versions", e.id)),
    (
        "executionReport",
        lambda v: _report(410001, 25, 210500, v),
        lambda e: ("execution_reports", e.id),
    ),
    ("fill", lambda v: _fill(510001, 210500, v), lambda e: ("fills", e.id)),
]


@pytest.mark.parametrize(("entity_type", "make", "where"), KIND_CASES)
@pytest.mark.parametrize("event_type", list(EntityEventType))
@pytest.mark.parametrize("held", [False, True])
def test_every_event_type_on_every_entity_type(
    entity_type: str, make: Any, where: Any, event_type: EntityEventType, held: bool
) -> None:
    state = TradovateAccountState()
    state.apply_snapshot(SyncSnapshot())
    old, new = make(1), make(2)
    if held:
        assert len(state.apply(EntityChanged(entity_type, CREATED, old))) == 1
    table, key = where(new)
    changes = state.apply(EntityChanged(entity_type, event_type, new))
    now = getattr(state, table).get(key)
    before = old if held else None
    if event_type is DELETED:
        assert now is None
        assert len(changes) == (1 if held else 0)
    else:
        assert now == new
        assert len(changes) == 1
    if changes:
        (change,) = changes
        assert (change.before, change.after) == (before, now)


# ---- property-based: the same world as a snapshot and as events gives the same state ----

KINDS = [case[0] for case in KIND_CASES]
TABLES = [
    "accounts",
    "risk_statuses",
    "cash_balances",
    "contracts",
    "positions",
    "orders",
    "order_versions",
    "execution_reports",
    "fills",
]
FIELDS = {
    "account": "accounts",
    "accountRiskStatus": "account_risk_statuses",
    "cashBalance": "cash_balances",
    "contract": "contracts",
    "position": "positions",
    "order": "orders",
    "orderVersion": "order_versions",
    "executionReport": "execution_reports",
    "fill": "fills",
}


class World:
    """The server's side in small: entities by the reducer's key, and the events it sends."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, Any]] = {kind: {} for kind in KINDS}
        self.next_id = 700_000

    def snapshot(self) -> SyncSnapshot:
        arrays = {FIELDS[kind]: list(table.values()) for kind, table in self.tables.items()}
        return SyncSnapshot(**arrays)

    def entity(self, kind: str, slot: int, value: int, entity_id: int) -> tuple[Any, Any]:
        """An entity of ``kind`` for ``slot`` (its key) carrying ``value``; (key, entity)."""
        account, order_id = 1 + slot % 2, 1000 + slot % 4
        if kind == "account":
            return slot % 3 + 1, _account(slot % 3 + 1, value)
        if kind == "accountRiskStatus":
            return account, _risk(account, value)
        if kind == "cashBalance":
            currency = 1 + (slot // 2) % 2
            return (account, currency), _balance(entity_id, account, currency, value)
        if kind == "contract":
            return 100 + slot % 3, _contract(100 + slot % 3, value)
        if kind == "position":
            contract = 100 + slot % 3
            return (account, contract), _position(entity_id, account, contract, value)
        if kind == "order":
            return 1000 + slot, _order(1000 + slot, account, value)
        if kind == "orderVersion":
            return 2000 + slot, _version(2000 + slot, order_id, value)
        if kind == "executionReport":
            return 3000 + slot, _report(3000 + slot, account, order_id, value)
        return 4000 + slot, _fill(4000 + slot, order_id, value)

    def step(self, kind: str, action: str, slot: int, value: int) -> EntityChanged:
        table = self.tables[kind]
        self.next_id += 1
        key, fresh = self.entity(kind, slot, value, self.next_id)
        held = table.get(key)
        if action == "delete":
            if held is not None:
                del table[key]
                return EntityChanged(kind, DELETED, held)
            return EntityChanged(kind, DELETED, fresh)  # unknown: nothing to remove
        if action == "stale-delete" and held is not None and fresh.id != held.id:
            return EntityChanged(kind, DELETED, fresh)  # an id no longer held at the key
        if action == "update" and held is not None:
            fresh = msgspec.structs.replace(fresh, id=held.id)
        table[key] = fresh
        return EntityChanged(kind, CREATED if action == "create" else UPDATED, fresh)


OPS = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(["create", "update", "delete", "stale-delete"]),
        st.integers(0, 5),
        st.integers(-3, 3),
    ),
    max_size=40,
)


def _run(world: World, ops: list[tuple[str, str, int, int]]) -> list[EntityChanged]:
    return [world.step(*op) for op in ops]


def _tables(state: TradovateAccountState) -> dict[str, dict[Any, Any]]:
    return {name: dict(getattr(state, name)) for name in TABLES}


def _state_of(snapshot: SyncSnapshot) -> TradovateAccountState:
    state = TradovateAccountState()
    state.apply_snapshot(snapshot)
    return state


def _where(change: TradovateChange) -> tuple[str, Any]:
    entity = change.after if change.after is not None else change.before
    assert entity is not None
    match change:
        case AccountChanged():
            return "accounts", change.account_id
        case RiskStatusChanged():
            return "risk_statuses", change.account_id
        case BalanceChanged():
            return "cash_balances", (change.account_id, change.currency_id)
        case ContractChanged():
            return "contracts", change.contract_id
        case PositionChanged():
            return "positions", (change.account_id, change.contract_id)
        case OrderChanged():
            return "orders", change.order_id
        case OrderVersionChanged():
            return "order_versions", entity.id
        case ExecutionReportChanged():
            return "execution_reports", entity.id
        case FillChanged():
            return "fills", entity.id
    raise AssertionError(change)


def _replay(tables: dict[str, dict[Any, Any]], changes: list[TradovateChange]) -> None:
    """Apply changes to plain tables, checking each one's ``before`` is what they held."""
    for change in changes:
        table, key = _where(change)
        assert tables[table].get(key) == change.before, change
        if change.after is None:
            del tables[table][key]
        else:
            tables[table][key] = change.after


@settings(max_examples=150, deadline=None)
@given(setup=OPS, ops=OPS)
def test_snapshot_then_events_equals_the_snapshot_taken_after(setup: Any, ops: Any) -> None:
    world = World()
    _run(world, setup)
    s0 = world.snapshot()
    state = _state_of(s0)
    tables = _tables(state)
    for event in _run(world, ops):
        _replay(tables, state.apply(event))
    expected = _tables(_state_of(world.snapshot()))
    assert _tables(state) == expected
    assert tables == expected  # the changes alone tell the whole story
    assert state.snapshot() == _state_of(world.snapshot()).snapshot()


@settings(max_examples=150, deadline=None)
@given(setup=OPS, ops=OPS, cut=st.integers(0, 40))
def test_resync_from_any_intermediate_state_reaches_the_new_snapshot(
    setup: Any, ops: Any, cut: int
) -> None:
    world = World()
    _run(world, setup)
    state = _state_of(world.snapshot())
    events = _run(world, ops)
    for event in events[:cut]:
        state.apply(event)
    tables = _tables(state)
    state.begin_resync()
    for event in events[cut:]:  # the new epoch's events before its snapshot: held
        assert state.apply(event) == []
    assert _tables(state) == tables
    changes = state.resync(world.snapshot())
    _replay(tables, changes)
    expected = _tables(_state_of(world.snapshot()))
    assert tables == expected
    assert _tables(state) == expected
    state.begin_resync()
    assert state.resync(world.snapshot()) == []


@settings(max_examples=100, deadline=None)
@given(setup=OPS, ops=OPS)
def test_events_held_before_the_snapshot_end_where_events_after_it_do(setup: Any, ops: Any) -> None:
    world = World()
    _run(world, setup)
    s0 = world.snapshot()
    events = _run(world, ops)
    state = TradovateAccountState()
    for event in events:
        assert state.apply(event) == []
    changes = state.apply_snapshot(s0)
    assert _tables(state) == _tables(_state_of(world.snapshot()))
    tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
    _replay(tables, changes)
    assert tables == _tables(state)


# ---- entity builders ----


def _account(account_id: int, value: int) -> Account:
    return Account(
        id=account_id,
        name=f"DEMO{account_id}",
        user_id=7,
        account_type=AccountType.CUSTOMER,
        active=value >= 0,
        clearing_house_id=2,
        risk_category_id=value,
        auto_liq_profile_id=2,
        margin_account_type=MarginAccountType.SPECULATOR,
        legal_status=LegalStatus.INDIVIDUAL,
    )


def _risk(account_id: int, value: int) -> AccountRiskStatus:
    actions = list(AdminAction)
    return AccountRiskStatus(id=account_id, admin_action=actions[value % len(actions)])


def _balance(balance_id: int, account_id: int, currency_id: int, value: int) -> CashBalance:
    return CashBalance(
        id=balance_id,
        account_id=account_id,
        timestamp=STAMP,
        trade_date=TODAY,
        currency_id=currency_id,
        amount=50_000 + value / 4,
    )


def _contract(contract_id: int, value: int) -> Contract:
    return Contract(id=contract_id, name=f"ES{value}", contract_maturity_id=6727)


def _position(position_id: int, account_id: int, contract_id: int, net: int) -> Position:
    return Position(
        id=position_id,
        account_id=account_id,
        contract_id=contract_id,
        timestamp=STAMP,
        trade_date=TODAY,
        net_pos=net,
        net_price=6000.25 if net else None,
        bought=max(net, 0),
        bought_value=max(net, 0) * 6000.25,
        sold=max(-net, 0),
        sold_value=max(-net, 0) * 6000.25,
        prev_pos=0,
    )


def _order(order_id: int, account_id: int, value: int) -> Order:
    statuses = list(OrdStatus)
    return Order(
        id=order_id,
        account_id=account_id,
        contract_id=560901,
        timestamp=STAMP,
        action=Action.BUY if value >= 0 else Action.SELL,
        ord_status=statuses[value % len(statuses)],
        admin=False,
    )


def _version(version_id: int, order_id: int, value: int) -> OrderVersion:
    return OrderVersion(
        id=version_id, order_id=order_id, order_qty=abs(value) + 1, order_type=OrderType.LIMIT
    )


def _report(report_id: int, account_id: int, order_id: int, value: int) -> ExecutionReport:
    return ExecutionReport(
        id=report_id,
        command_id=1,
        name="exec",
        account_id=account_id,
        contract_id=560901,
        timestamp=STAMP,
        order_id=order_id,
        exec_type=ExecType.NEW,
        action=Action.BUY,
        cum_qty=abs(value),
    )


def _fill(fill_id: int, order_id: int, qty: int) -> Fill:
    return Fill(
        id=fill_id,
        order_id=order_id,
        contract_id=560901,
        timestamp=STAMP,
        trade_date=TODAY,
        action=Action.BUY,
        qty=abs(qty) + 1,
        price=6000.25,
        active=True,
        finally_paired=0,
    )
