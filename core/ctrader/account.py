"""cTrader account state: the reconcile answer and the trader, then execution events, reduced.

``CTraderAccountState`` follows one trading account (``ctidTraderAccountId``): its open
positions, its pending orders and its trader entity, which holds the balance. The snapshot is
the answer to ``ProtoOAReconcileReq`` with the trader of ``ProtoOATraderReq``; then ``apply``
takes events as a ``CTraderConnection`` returns them (``Response``, ``FollowUp``,
``ServerEvent``, ``ErrorResponse``) and returns the changes:

- every execution event's ``position`` is the server's truth for that position: held while it
  is open with a volume, removed when closed or empty;
- its ``order`` is held while ``ORDER_STATUS_ACCEPTED`` (pending, or partly filled) and removed
  otherwise; ``ORDER_CANCELLED``, ``ORDER_EXPIRED`` and ``ORDER_REJECTED`` always remove it;
- a deal is reported (``DealAdded``), and a closing deal's balance sets the balance, as does a
  deposit or withdrawal; a balance older (by ``balanceVersion``) than the one held is ignored;
- ``ProtoOAOrderErrorEvent`` and an execution's ``errorCode`` are reported (``OrderErrorReported``);
- ``ProtoOAMarginChangedEvent`` sets a held position's used margin;
- ``ProtoOATraderUpdatedEvent`` replaces the trader.

Deals and errors are reported, not held: the reconcile answer has none, so a resync cannot
recover those of a gap. Ask the reconcile with ``returnProtectionOrders`` when stop-loss and
take-profit orders should be held as the execution events hold them.

Epochs work as in the Tradovate reducer: until the first snapshot, and after ``begin_resync``,
events are held; the snapshot comes with them replayed on top, and the changes go straight
from the old epoch's state to the new one's, followed by the deals and errors of the held
events. Events of other accounts, and every other event, are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import msgspec

from ..account import Change, differences
from .events import ErrorResponse, FollowUp, Response, ServerEvent
from .models import (
    Deal,
    ExecutionEvent,
    ExecutionType,
    MarginChangedEvent,
    Order,
    OrderErrorEvent,
    OrderStatus,
    Position,
    PositionStatus,
    ReconcileRes,
    Trader,
    TraderRes,
    TraderUpdatedEvent,
)

__all__ = [
    "BalanceChanged",
    "CTraderAccountSnapshot",
    "CTraderAccountState",
    "CTraderChange",
    "CTraderSnapshot",
    "DealAdded",
    "OrderChanged",
    "OrderErrorReported",
    "PositionChanged",
]

_EXECUTION, _ORDER_ERROR = ExecutionEvent.PAYLOAD_TYPE, OrderErrorEvent.PAYLOAD_TYPE
_MARGIN, _TRADER = MarginChangedEvent.PAYLOAD_TYPE, TraderUpdatedEvent.PAYLOAD_TYPE
_ACCOUNT_EVENTS: Final = frozenset({_EXECUTION, _ORDER_ERROR, _MARGIN, _TRADER})
_REMOVES_ORDER: Final = frozenset(
    {ExecutionType.ORDER_CANCELLED, ExecutionType.ORDER_EXPIRED, ExecutionType.ORDER_REJECTED}
)
_DEFAULT_MONEY_DIGITS = 2  # as the models' money helper takes an absent moneyDigits
_TRADER_MONEY = ("balance", "manager_bonus", "ib_bonus", "non_withdrawable_bonus")

_AccountMessage = ExecutionEvent | OrderErrorEvent | MarginChangedEvent | TraderUpdatedEvent


class PositionChanged(Change, frozen=True, gc=False):
    """An open position was added, changed (volume, price, swap, used margin ...) or closed."""

    account_id: int
    position_id: int
    before: Position | None
    after: Position | None


class OrderChanged(Change, frozen=True, gc=False):
    """A pending order was added, changed (replaced, partly filled) or removed (filled,
    cancelled, expired, rejected)."""

    account_id: int
    order_id: int
    before: Order | None
    after: Order | None


class BalanceChanged(Change, frozen=True, gc=False):
    """The trader entity changed: its balance above all (``balance_after``), or its bonuses,
    leverage or money digits."""

    account_id: int
    before: Trader | None
    after: Trader | None

    @property
    def balance_before(self) -> Decimal | None:
        """The balance before, exactly (None before the first snapshot)."""
        return None if self.before is None else self.before.money(self.before.balance)

    @property
    def balance_after(self) -> Decimal | None:
        """The balance after, exactly."""
        return None if self.after is None else self.after.money(self.after.balance)


class DealAdded(Change, frozen=True, gc=False):
    """A deal (an execution) reported by an execution event; reported, not held."""

    account_id: int
    execution_type: ExecutionType
    deal: Deal


class OrderErrorReported(Change, frozen=True, gc=False):
    """An order request failed (``ProtoOAOrderErrorEvent``, or an execution event's error
    code: a rejected order, a refused cancel); reported, it changes nothing held."""

    account_id: int
    error_code: str
    order_id: int | None
    position_id: int | None
    description: str | None


CTraderChange = PositionChanged | OrderChanged | BalanceChanged | DealAdded | OrderErrorReported


class CTraderSnapshot(msgspec.Struct, frozen=True, gc=False):
    """One account's truth at one moment: its trader, open positions and pending orders."""

    trader: Trader
    positions: tuple[Position, ...] = ()
    orders: tuple[Order, ...] = ()

    @classmethod
    def of(cls, trader: Trader | TraderRes, reconcile: ReconcileRes) -> CTraderSnapshot:
        """From the answers to ``ProtoOATraderReq`` and ``ProtoOAReconcileReq``; ``ValueError``
        when they are about different accounts."""
        held = trader.trader if isinstance(trader, TraderRes) else trader
        if held.ctid_trader_account_id != reconcile.ctid_trader_account_id:
            raise ValueError(
                f"the trader is account {held.ctid_trader_account_id}, the reconcile answer"
                f" account {reconcile.ctid_trader_account_id}"
            )
        return cls(held, tuple(reconcile.position), tuple(reconcile.order))

    @property
    def account_id(self) -> int:
        return self.trader.ctid_trader_account_id


class CTraderAccountSnapshot(msgspec.Struct, frozen=True, gc=False):
    """What the account holds now: a plain value that later events do not change."""

    account_id: int
    trader: Trader
    balance: Decimal
    positions: tuple[Position, ...]
    open_orders: tuple[Order, ...]


def _holds_position(position: Position) -> bool:
    return (
        position.position_status is PositionStatus.POSITION_STATUS_OPEN
        and position.trade_data.volume > 0
    )


def _holds_order(order: Order) -> bool:
    return order.order_status is OrderStatus.ORDER_STATUS_ACCEPTED


def _older(version: int | None, held: int | None) -> bool:
    """Whether a balance of ``version`` is older than the one held (unknown is not older)."""
    return version is not None and held is not None and version < held


def _digits(value: int | None) -> int:
    return _DEFAULT_MONEY_DIGITS if value is None else value


def _with_money(trader: Trader, digits: int | None, version: int | None, **raw: int) -> Trader:
    """The trader with money fields ``raw`` (scaled by ``10**digits``) set, both scales made
    one without losing a digit; unchanged when ``version`` is older than the balance held."""
    if _older(version, trader.balance_version):
        return trader
    held, new = _digits(trader.money_digits), _digits(digits)
    if new > held:
        scale = 10 ** (new - held)
        rescaled = {
            name: value * scale
            for name in _TRADER_MONEY
            if (value := getattr(trader, name)) is not None
        }
        trader = msgspec.structs.replace(trader, money_digits=new, **rescaled)
    elif new < held:
        raw = {name: value * 10 ** (held - new) for name, value in raw.items()}
    if version is not None:
        trader = msgspec.structs.replace(trader, balance_version=version)
    return msgspec.structs.replace(trader, **raw)


class _Tables:
    """What one account holds; mutated in place by the events of its epoch."""

    def __init__(self, account_id: int, snapshot: CTraderSnapshot | None = None) -> None:
        self.account_id = account_id
        self.trader: Trader | None = None if snapshot is None else snapshot.trader
        self.positions: dict[int, Position] = {}
        self.orders: dict[int, Order] = {}
        if snapshot is not None:
            for position in snapshot.positions:
                if _holds_position(position):
                    self.positions[position.position_id] = position
            for order in snapshot.orders:
                if _holds_order(order):
                    self.orders[order.order_id] = order

    def set_position(self, position: Position | None, position_id: int) -> list[CTraderChange]:
        before = self.positions.get(position_id)
        if position is not None and _holds_position(position):
            self.positions[position_id] = position
        else:
            self.positions.pop(position_id, None)
        after = self.positions.get(position_id)
        return (
            []
            if before == after
            else [PositionChanged(self.account_id, position_id, before, after)]
        )

    def set_order(self, order: Order, remove: bool) -> list[CTraderChange]:
        before = self.orders.get(order.order_id)
        if remove or not _holds_order(order):
            self.orders.pop(order.order_id, None)
        else:
            self.orders[order.order_id] = order
        after = self.orders.get(order.order_id)
        return (
            []
            if before == after
            else [OrderChanged(self.account_id, order.order_id, before, after)]
        )

    def set_trader(self, trader: Trader) -> list[CTraderChange]:
        before, self.trader = self.trader, trader
        return [] if before == trader else [BalanceChanged(self.account_id, before, trader)]

    def reduce(self, message: _AccountMessage) -> list[CTraderChange]:
        """Apply one account message; the changes it made."""
        if isinstance(message, ExecutionEvent):
            return self._execution(message)
        if isinstance(message, OrderErrorEvent):
            return [
                OrderErrorReported(
                    self.account_id,
                    message.error_code,
                    message.order_id,
                    message.position_id,
                    message.description,
                )
            ]
        if isinstance(message, MarginChangedEvent):
            held = self.positions.get(message.position_id)
            if held is None:
                return []
            digits = message.money_digits if message.money_digits is not None else held.money_digits
            margin = msgspec.structs.replace(
                held, used_margin=message.used_margin, money_digits=digits
            )
            return self.set_position(margin, message.position_id)
        return self._trader_updated(message)

    def _trader_updated(self, message: TraderUpdatedEvent) -> list[CTraderChange]:
        held, new = self.trader, message.trader
        if held is not None and _older(new.balance_version, held.balance_version):
            return []
        return self.set_trader(new)

    def _execution(self, event: ExecutionEvent) -> list[CTraderChange]:
        changes: list[CTraderChange] = []
        if event.position is not None:
            changes += self.set_position(event.position, event.position.position_id)
        if event.order is not None:
            changes += self.set_order(event.order, event.execution_type in _REMOVES_ORDER)
        if event.deal is not None:
            changes.append(DealAdded(self.account_id, event.execution_type, event.deal))
        changes += self._money(event)
        if event.error_code is not None:
            order_id = None if event.order is None else event.order.order_id
            position_id = None if event.position is None else event.position.position_id
            changes.append(
                OrderErrorReported(self.account_id, event.error_code, order_id, position_id, None)
            )
        return changes

    def _money(self, event: ExecutionEvent) -> list[CTraderChange]:
        trader = self.trader
        if trader is None:
            return []
        detail = None if event.deal is None else event.deal.close_position_detail
        if detail is not None:
            trader = _with_money(
                trader, detail.money_digits, detail.balance_version, balance=detail.balance
            )
        cash = event.deposit_withdraw
        if cash is not None:
            trader = _with_money(
                trader, cash.money_digits, cash.balance_version, balance=cash.balance
            )
        bonus = event.bonus_deposit_withdraw
        if bonus is not None:
            trader = _with_money(
                trader,
                bonus.money_digits,
                None,
                manager_bonus=bonus.manager_bonus,
                ib_bonus=bonus.ib_bonus,
            )
        return self.set_trader(trader)


def _reported(changes: list[CTraderChange]) -> list[CTraderChange]:
    return [change for change in changes if isinstance(change, DealAdded | OrderErrorReported)]


class CTraderAccountState:
    """The reducer for one account: its snapshot, then its events, into state and changes."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self._tables = _Tables(account_id)
        self._synced = False
        self._held: list[_AccountMessage] = []

    @property
    def synced(self) -> bool:
        """True once the current epoch's snapshot has been applied."""
        return self._synced

    def begin_resync(self) -> None:
        """A new epoch starts (the link dropped, the account was authorized again): hold events
        until its snapshot arrives."""
        self._synced = False
        self._held.clear()

    def apply_snapshot(self, snapshot: CTraderSnapshot) -> list[CTraderChange]:
        """Take ``snapshot`` (and the events held for it) as the truth; the differences from
        what was held before, everything as added the first time. ``ValueError`` for a
        snapshot of another account."""
        if snapshot.account_id != self.account_id:
            raise ValueError(
                f"a snapshot of account {snapshot.account_id} given to the state of"
                f" account {self.account_id}"
            )
        tables = _Tables(self.account_id, snapshot)
        reported = [
            change for message in self._held for change in _reported(tables.reduce(message))
        ]
        self._held.clear()
        old = self._tables
        changes: list[CTraderChange] = []
        if old.trader != tables.trader:
            changes.append(BalanceChanged(self.account_id, old.trader, tables.trader))
        for key, before, after in differences(old.positions, tables.positions):
            changes.append(PositionChanged(self.account_id, key, before, after))
        for key, old_order, new_order in differences(old.orders, tables.orders):
            changes.append(OrderChanged(self.account_id, key, old_order, new_order))
        self._tables = tables
        self._synced = True
        return changes + reported

    def resync(self, snapshot: CTraderSnapshot) -> list[CTraderChange]:
        """The fresh snapshot after a reconnect: ``apply_snapshot`` under the name that says so."""
        return self.apply_snapshot(snapshot)

    def apply(self, event: object) -> list[CTraderChange]:
        """The changes one connection event makes; events of other accounts, and events about
        nothing held, change nothing. A payload its model refuses is ignored as well."""
        message = _account_message(event)
        if message is None or message.ctid_trader_account_id != self.account_id:
            return []
        if not self._synced:
            self._held.append(message)
            return []
        return self._tables.reduce(message)

    @property
    def trader(self) -> Trader | None:
        """The trader entity (balance, money digits ...), None before the first snapshot."""
        return self._tables.trader

    @property
    def balance(self) -> Decimal | None:
        """The balance, exactly; None before the first snapshot."""
        trader = self._tables.trader
        return None if trader is None else trader.money(trader.balance)

    @property
    def positions(self) -> Mapping[int, Position]:
        """Open positions by id (a live, read-only view)."""
        return MappingProxyType(self._tables.positions)

    @property
    def orders(self) -> Mapping[int, Order]:
        """Pending orders by id (a live, read-only view)."""
        return MappingProxyType(self._tables.orders)

    def snapshot(self) -> CTraderAccountSnapshot | None:
        """Balance, positions and pending orders now, as a plain frozen value; None before
        the first snapshot."""
        trader = self._tables.trader
        if trader is None:
            return None
        balance = trader.money(trader.balance)
        assert balance is not None
        return CTraderAccountSnapshot(
            self.account_id,
            trader,
            balance,
            tuple(position for _, position in sorted(self._tables.positions.items())),
            tuple(order for _, order in sorted(self._tables.orders.items())),
        )


def _account_message(event: object) -> _AccountMessage | None:
    """The typed account message an event carries, or None for any other event."""
    if not isinstance(event, Response | FollowUp | ServerEvent | ErrorResponse):
        return None
    if event.payload_type not in _ACCOUNT_EVENTS:
        return None
    try:
        message: Any = event.message
    except ValueError:  # msgspec's ValidationError: a payload its model refuses
        return None
    return message if isinstance(message, _AccountMessage) else None
