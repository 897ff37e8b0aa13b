"""The changes a client tracking its account's state emits, through a real JetStream server and
back: each the same typed Struct of its broker (both brokers have an ``OrderChanged`` of their
own), not a dict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from brokerwire.adapters.bus import Publisher, Subscriber, decode, encode, subject
from brokerwire.adapters.bus.kinds import KINDS, kind_of
from brokerwire.adapters.events import AccountSynced
from brokerwire.core.account import Change
from brokerwire.core.ctrader import account as ctrader_account
from brokerwire.core.ctrader.account import CTraderAccountState, OrderErrorReported
from brokerwire.core.tradovate import account as tradovate_account
from brokerwire.core.tradovate.account import TradovateAccountState
from tests.adapters.bus.natsserver import NatsCluster
from tests.core.ctrader import test_account as ctrader_recorded
from tests.core.tradovate import test_account as tradovate_recorded

pytestmark = pytest.mark.timeout(60)


def tradovate_changes() -> list[Any]:
    """A recorded sync answer, then a market order that fills: every kind of change."""
    state = TradovateAccountState()
    changes: list[Any] = list(state.apply_snapshot(tradovate_recorded.sync_snapshot()))
    for text in tradovate_recorded.PROPS:
        changes.extend(state.apply(tradovate_recorded.props(text)))
    return [*changes, AccountSynced(None, 1)]


def ctrader_changes() -> list[Any]:
    """A recorded snapshot, orders, fills, a close and a deposit, then a rejected order."""
    account = ctrader_recorded.ACCOUNT
    state = CTraderAccountState(account)
    changes: list[Any] = list(state.apply_snapshot(ctrader_recorded.snapshot()))
    for text in ctrader_recorded.EXECUTIONS:
        changes.extend(state.apply(ctrader_recorded.execution(text)))
    rejected = OrderErrorReported(account, "NOT_ENOUGH_MONEY", 9005, None, "no money")
    return [*changes, rejected, AccountSynced(account, 1)]


def _change_kinds(module: Any) -> set[str]:
    return {
        name
        for name in module.__all__
        if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), Change)
    }


def test_the_samples_hold_every_change_of_each_broker() -> None:
    assert {kind_of(c) for c in tradovate_changes()} == {
        *_change_kinds(tradovate_account),
        "AccountSynced",
    }
    assert {kind_of(c) for c in ctrader_changes()} == {
        *_change_kinds(ctrader_account),
        "AccountSynced",
    }


def test_each_broker_decodes_its_own_change_of_a_shared_name() -> None:
    assert KINDS["tradovate"]["OrderChanged"] is tradovate_account.OrderChanged
    assert KINDS["ctrader"]["OrderChanged"] is ctrader_account.OrderChanged
    for broker, changes in (("tradovate", tradovate_changes()), ("ctrader", ctrader_changes())):
        for change in changes:
            assert decode(broker, kind_of(change), encode(change)) == change


async def _each(events: Iterable[Any]) -> AsyncIterator[Any]:
    for event in events:
        yield event


def test_changes_come_back_through_the_server_as_the_same_structs(
    nats_server: NatsCluster,
) -> None:
    tradovate, ctrader = tradovate_changes(), ctrader_changes()

    async def read(subject_filter: str, count: int) -> list[Any]:
        async with Subscriber(nats_server.urls, subject_filter) as subscriber:
            deliveries = subscriber.deliveries()
            return [await anext(deliveries) for _ in range(count)]

    async def scenario() -> tuple[list[Any], list[Any]]:
        for broker, account, events in (
            ("tradovate", "25", tradovate),
            ("ctrader", "4001", ctrader),
        ):
            async with Publisher(nats_server.urls, broker=broker, account=account) as publisher:
                await publisher.run(_each(events))
        return (
            await read("brokerwire.tradovate.>", len(tradovate)),
            await read("brokerwire.ctrader.>", len(ctrader)),
        )

    got_tradovate, got_ctrader = asyncio.run(scenario())
    assert [d.event for d in got_tradovate] == tradovate
    assert [d.event for d in got_ctrader] == ctrader
    assert all(d.reason is None for d in got_tradovate + got_ctrader)
    assert got_ctrader[0].subject == f"brokerwire.ctrader.4001.{kind_of(ctrader[0])}"


def test_a_change_goes_to_the_subject_of_its_own_account() -> None:
    for broker, changes in (("tradovate", tradovate_changes()), ("ctrader", ctrader_changes())):
        for change in changes:
            if not isinstance(change, Change):
                continue
            account = getattr(change, "account_id", None)
            expected = "gateway" if account is None else str(account)
            assert subject(broker, "gateway", change).split(".")[2] == expected, change
