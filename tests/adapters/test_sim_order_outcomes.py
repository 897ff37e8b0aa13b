"""The new order-changing helpers are order requests: never sent twice, and reported with an
unknown outcome when the link dies before their answer (the simulator goes silent for good
just before the request, and the watchdog ends the link)."""

from __future__ import annotations

from typing import Any

import pytest

from brokerwire.adapters.errors import ConnectionLost
from brokerwire.adapters.events import Disconnected
from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from tests.adapters.clients import ctrader_credentials
from tests.adapters.drivers import ADAPTERS, Driver, open_client

pytestmark = pytest.mark.timeout(60)

SILENCE = Fault(FaultKind.SILENCE)


def lost_with_unknown_outcome(driver: Driver, method: str, *args: Any, **kwargs: Any) -> str:
    """Call ``method`` on a link gone silent; the name of the order reported unknown."""
    with pytest.raises(ConnectionLost) as lost:
        driver.call(method, *args, **kwargs)
    assert lost.value.outcome_unknown is True
    disconnected = driver.collect(lambda evs: type(evs[-1]) is Disconnected)[-1]
    assert len(disconnected.unknown_orders) == 1
    return str(disconnected.unknown_orders[0].request)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("method", "args", "endpoint"),
    [
        ("cancel_order", {"order_id": 1}, "order/cancelorder"),
        (
            "modify_order",
            {"order_id": 1, "order_qty": 1, "order_type": "Market"},
            "order/modifyorder",
        ),
        (
            "liquidate_position",
            {"account_id": 7001, "contract_id": 3570918},
            "order/liquidateposition",
        ),
    ],
)
def test_tradovate_order_changes_lost_with_the_link_are_reported_unknown(
    adapter: str, method: str, args: dict[str, Any], endpoint: str
) -> None:
    with (
        TradovateSimulator() as sim,
        open_client(
            adapter,
            "tradovate",
            sim.trading_url,
            token=sim.token,
            reconnect=False,
            watchdog_timeout=1.0,
        ) as driver,
    ):
        sim.call_soon(lambda: sim.inject(SILENCE))
        assert lost_with_unknown_outcome(driver, method, **args) == endpoint


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("cancel_order", (1,), "ProtoOACancelOrderReq"),
        ("amend_order", (1,), "ProtoOAAmendOrderReq"),
        ("close_position", (1, 100), "ProtoOAClosePositionReq"),
    ],
)
def test_ctrader_order_changes_lost_with_the_link_are_reported_unknown(
    adapter: str, method: str, args: tuple[int, ...], message: str
) -> None:
    with (
        CTraderSimulator() as sim,
        open_client(
            adapter,
            "ctrader",
            sim.tcp_url,
            reconnect=False,
            watchdog_timeout=1.0,
            **ctrader_credentials(sim),
        ) as driver,
    ):
        account = sim.accounts[0]
        driver.call("authorize_account", account)
        sim.call_soon(lambda: sim.inject(SILENCE))
        assert lost_with_unknown_outcome(driver, method, account, *args) == message
