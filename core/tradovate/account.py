"""Tradovate account state: the ``user/syncrequest`` snapshot, then ``props`` events, reduced.

``TradovateAccountState`` holds accounts, positions, orders, order versions, execution reports,
fills, cash balances, account risk statuses and contracts. ``apply_snapshot`` (or ``resync``,
the same call) replaces them with a sync answer and returns the differences; ``apply`` takes
events as a ``TradovateConnection`` returns them and returns the changes a ``props`` event makes.
Created and Updated both set the entity (an Updated for an unknown id adds it); Deleted removes
it. Positions net per (account, contract) and cash balances per (account, currency): a new
entity for the same pair replaces the old one, and a Deleted for an id no longer held there is
stale and ignored. Entity types it does not hold (users, products, commands ...) are ignored.

Epochs: until its first snapshot, and again after ``begin_resync`` (call it when the link
drops), the state holds the ``props`` events it is given and reports nothing; the snapshot then
comes with them replayed on top, and the one list of changes goes from the old epoch's state
straight to the new one's. Props carry whole entities, so a replayed event the snapshot
already reflects changes nothing. Held events are kept until the snapshot comes, so a client
that never takes one should not feed the state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import msgspec

from ..account import Change, decimal_of, differences
from .events import EntityChanged, EntityEventType
from .models import (
    Account,
    AccountRiskStatus,
    CashBalance,
    Contract,
    ExecutionReport,
    Fill,
    Order,
    OrderVersion,
    OrdStatus,
    Position,
    SyncSnapshot,
)

__all__ = [
    "OPEN_ORDER_STATUSES",
    "AccountChanged",
    "BalanceChanged",
    "ContractChanged",
    "ExecutionReportChanged",
    "FillChanged",
    "OrderChanged",
    "OrderVersionChanged",
    "PositionChanged",
    "RiskStatusChanged",
    "TradovateAccountSnapshot",
    "TradovateAccountState",
    "TradovateChange",
    "TradovateStateSnapshot",
]

#: Order statuses of an order still live at the exchange (or not yet known to be final).
OPEN_ORDER_STATUSES: Final = frozenset(
    {
        OrdStatus.PENDING_CANCEL,
        OrdStatus.PENDING_NEW,
        OrdStatus.PENDING_REPLACE,
        OrdStatus.SUSPENDED,
        OrdStatus.UNKNOWN,
        OrdStatus.WORKING,
    }
)


class AccountChanged(Change, frozen=True, gc=False):
    """An account was added, changed or removed."""

    account_id: int
    before: Account | None
    after: Account | None


class RiskStatusChanged(Change, frozen=True, gc=False):
    """An account's risk status (``adminAction``: whether it is locked) changed."""

    account_id: int
    before: AccountRiskStatus | None
    after: AccountRiskStatus | None


class BalanceChanged(Change, frozen=True, gc=False):
    """An account's cash balance in one currency changed."""

    account_id: int
    currency_id: int
    before: CashBalance | None
    after: CashBalance | None

    @property
    def amount_before(self) -> Decimal | None:
        """The balance before, exactly as sent (None when there was none)."""
        return None if self.before is None else decimal_of(self.before.amount)

    @property
    def amount_after(self) -> Decimal | None:
        """The balance after, exactly as sent (None when it was removed)."""
        return None if self.after is None else decimal_of(self.after.amount)


class ContractChanged(Change, frozen=True, gc=False):
    """A contract the account's entities refer to was added, changed or removed."""

    contract_id: int
    before: Contract | None
    after: Contract | None


class PositionChanged(Change, frozen=True, gc=False):
    """The net position of an account in a contract changed."""

    account_id: int
    contract_id: int
    before: Position | None
    after: Position | None


class OrderChanged(Change, frozen=True, gc=False):
    """An order was added, changed (its ``ordStatus`` above all) or removed."""

    account_id: int
    order_id: int
    before: Order | None
    after: Order | None


class OrderVersionChanged(Change, frozen=True, gc=False):
    """A version of an order (quantity, type, prices); ``account_id`` is None when its order is
    not held."""

    account_id: int | None
    order_id: int
    before: OrderVersion | None
    after: OrderVersion | None


class ExecutionReportChanged(Change, frozen=True, gc=False):
    """An execution report of an order was added, changed or removed."""

    account_id: int
    order_id: int
    before: ExecutionReport | None
    after: ExecutionReport | None


class FillChanged(Change, frozen=True, gc=False):
    """A fill of an order; ``account_id`` is None when its order is not held."""

    account_id: int | None
    order_id: int
    before: Fill | None
    after: Fill | None


TradovateChange = (
    AccountChanged
    | RiskStatusChanged
    | BalanceChanged
    | ContractChanged
    | PositionChanged
    | OrderChanged
    | OrderVersionChanged
    | ExecutionReportChanged
    | FillChanged
)

_Tables = dict[str, dict[Any, Any]]


def _by_id(entity: Any) -> Hashable | None:
    key: int | None = entity.id
    return key


def _account_and(field: str) -> Callable[[Any], Hashable | None]:
    def key(entity: Any) -> Hashable | None:
        return (entity.account_id, getattr(entity, field))

    return key


def _account_of(tables: _Tables, order_id: int) -> int | None:
    order = tables["order"].get(order_id)
    if order is None:
        return None
    account_id: int = order.account_id
    return account_id


def _either(before: Any, after: Any) -> Any:
    return after if after is not None else before


def _account_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return AccountChanged(k, b, a)


def _risk_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return RiskStatusChanged(k, b, a)


def _balance_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return BalanceChanged(k[0], k[1], b, a)


def _contract_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return ContractChanged(k, b, a)


def _position_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return PositionChanged(k[0], k[1], b, a)


def _order_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    return OrderChanged(_either(b, a).account_id, k, b, a)


def _version_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    order_id = _either(b, a).order_id
    return OrderVersionChanged(_account_of(t, order_id), order_id, b, a)


def _report_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    entity = _either(b, a)
    return ExecutionReportChanged(entity.account_id, entity.order_id, b, a)


def _fill_change(t: _Tables, k: Any, b: Any, a: Any) -> TradovateChange:
    order_id = _either(b, a).order_id
    return FillChanged(_account_of(t, order_id), order_id, b, a)


class _Kind(NamedTuple):
    """How one entity type is held: where the snapshot has it, its key, its change."""

    snapshot_field: str
    key: Callable[[Any], Hashable | None]
    change: Callable[[_Tables, Any, Any, Any], TradovateChange]


# In the order a resync reports them: an order before its versions, reports and fills.
_KINDS: Final[Mapping[str, _Kind]] = MappingProxyType(
    {
        "account": _Kind("accounts", _by_id, _account_change),
        "accountRiskStatus": _Kind("account_risk_statuses", _by_id, _risk_change),
        "cashBalance": _Kind("cash_balances", _account_and("currency_id"), _balance_change),
        "contract": _Kind("contracts", _by_id, _contract_change),
        "position": _Kind("positions", _account_and("contract_id"), _position_change),
        "order": _Kind("orders", _by_id, _order_change),
        "orderVersion": _Kind("order_versions", _by_id, _version_change),
        "executionReport": _Kind("execution_reports", _by_id, _report_change),
        "fill": _Kind("fills", _by_id, _fill_change),
    }
)


def _tables_of(snapshot: SyncSnapshot) -> _Tables:
    tables: _Tables = {}
    for name, kind in _KINDS.items():
        table: dict[Any, Any] = {}
        for entity in getattr(snapshot, kind.snapshot_field):
            key = kind.key(entity)
            if key is not None:
                table[key] = entity
        tables[name] = table
    return tables


def _reduce(tables: _Tables, event: EntityChanged) -> list[TradovateChange]:
    """Apply one props event to ``tables`` in place; the changes it made."""
    kind = _KINDS[event.entity_type]
    table = tables[event.entity_type]
    entities = event.entity if isinstance(event.entity, list) else [event.entity]
    changes: list[TradovateChange] = []
    for entity in entities:
        if entity is None:
            continue
        key = kind.key(entity)
        if key is None:
            continue
        before = table.get(key)
        if event.event_type is EntityEventType.DELETED:
            if before is None or (entity.id is not None and before.id != entity.id):
                continue  # not held, or a stale delete of an entity already replaced
            del table[key]
            after = None
        else:
            table[key] = after = entity
        if before != after:
            changes.append(kind.change(tables, key, before, after))
    return changes


class TradovateAccountSnapshot(msgspec.Struct, frozen=True, gc=False):
    """What one account holds, at one moment: a plain value that later events do not change."""

    account: Account | None
    risk_status: AccountRiskStatus | None
    balances: Mapping[int, Decimal]
    """Cash balance by currency id, exactly as sent."""
    positions: tuple[Position, ...]
    """Positions that are not flat (``netPos`` other than 0)."""
    open_orders: tuple[Order, ...]
    """Orders whose status is in ``OPEN_ORDER_STATUSES``."""


class TradovateStateSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Every account's snapshot by account id, and the contracts they refer to."""

    accounts: Mapping[int, TradovateAccountSnapshot]
    contracts: Mapping[int, Contract]


class TradovateAccountState:
    """The reducer: a sync snapshot, then ``props`` events, into state and changes."""

    def __init__(self) -> None:
        self._tables: _Tables = {name: {} for name in _KINDS}
        self._synced = False
        self._held: list[EntityChanged] = []

    @property
    def synced(self) -> bool:
        """True once the current epoch's snapshot has been applied."""
        return self._synced

    def begin_resync(self) -> None:
        """A new epoch starts (the link dropped): hold events until its snapshot arrives."""
        self._synced = False
        self._held.clear()

    def apply_snapshot(self, snapshot: SyncSnapshot) -> list[TradovateChange]:
        """Take ``snapshot`` (and the events held for it) as the truth; the differences from
        what was held before, everything as added the first time."""
        tables = _tables_of(snapshot)
        for event in self._held:
            _reduce(tables, event)
        self._held.clear()
        changes: list[TradovateChange] = []
        for name, kind in _KINDS.items():
            for key, before, after in differences(self._tables[name], tables[name]):
                context = tables if after is not None else self._tables
                changes.append(kind.change(context, key, before, after))
        self._tables = tables
        self._synced = True
        return changes

    def resync(self, snapshot: SyncSnapshot) -> list[TradovateChange]:
        """The fresh snapshot after a reconnect: ``apply_snapshot`` under the name that says so."""
        return self.apply_snapshot(snapshot)

    def apply(self, event: object) -> list[TradovateChange]:
        """The changes one connection event makes; events about nothing held change nothing."""
        if not isinstance(event, EntityChanged) or event.entity_type not in _KINDS:
            return []
        if not self._synced:
            self._held.append(event)
            return []
        return _reduce(self._tables, event)

    @property
    def accounts(self) -> Mapping[int, Account]:
        """Accounts by id (a live, read-only view)."""
        return MappingProxyType(self._tables["account"])

    @property
    def risk_statuses(self) -> Mapping[int, AccountRiskStatus]:
        """Account risk statuses by account id (a live, read-only view)."""
        return MappingProxyType(self._tables["accountRiskStatus"])

    @property
    def cash_balances(self) -> Mapping[tuple[int, int], CashBalance]:
        """Cash balances by (account id, currency id) (a live, read-only view)."""
        return MappingProxyType(self._tables["cashBalance"])

    @property
    def contracts(self) -> Mapping[int, Contract]:
        """Contracts by id (a live, read-only view)."""
        return MappingProxyType(self._tables["contract"])

    @property
    def positions(self) -> Mapping[tuple[int, int], Position]:
        """Positions by (account id, contract id), flat ones too (a live, read-only view)."""
        return MappingProxyType(self._tables["position"])

    @property
    def orders(self) -> Mapping[int, Order]:
        """Orders by id, final ones too (a live, read-only view)."""
        return MappingProxyType(self._tables["order"])

    @property
    def order_versions(self) -> Mapping[int, OrderVersion]:
        """Order versions by id (a live, read-only view)."""
        return MappingProxyType(self._tables["orderVersion"])

    @property
    def execution_reports(self) -> Mapping[int, ExecutionReport]:
        """Execution reports by id (a live, read-only view)."""
        return MappingProxyType(self._tables["executionReport"])

    @property
    def fills(self) -> Mapping[int, Fill]:
        """Fills by id (a live, read-only view)."""
        return MappingProxyType(self._tables["fill"])

    def snapshot(self) -> TradovateStateSnapshot:
        """Accounts, positions, open orders and balances now, as a plain frozen value."""
        ids = set(self._tables["account"])
        for name in ("cashBalance", "position", "order"):
            ids.update(entity.account_id for entity in self._tables[name].values())
        accounts = {account_id: self._account_snapshot(account_id) for account_id in sorted(ids)}
        return TradovateStateSnapshot(
            MappingProxyType(accounts), MappingProxyType(dict(self._tables["contract"]))
        )

    def _account_snapshot(self, account_id: int) -> TradovateAccountSnapshot:
        balances = {
            currency: decimal_of(balance.amount)
            for (account, currency), balance in sorted(self._tables["cashBalance"].items())
            if account == account_id
        }
        positions = tuple(
            position
            for (account, _), position in sorted(self._tables["position"].items())
            if account == account_id and position.net_pos != 0
        )
        orders = tuple(
            order
            for _, order in sorted(self._tables["order"].items())
            if order.account_id == account_id and order.ord_status in OPEN_ORDER_STATUSES
        )
        return TradovateAccountSnapshot(
            self._tables["account"].get(account_id),
            self._tables["accountRiskStatus"].get(account_id),
            MappingProxyType(balances),
            positions,
            orders,
        )
