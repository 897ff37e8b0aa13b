"""Sessions that end while others go on: an account's events skip a session that is closing,
and a restart drops every session while the accounts stay as they were."""

from __future__ import annotations

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from brokerwire.core.ctrader import CTraderConnection
from brokerwire.core.ctrader.models import TradeSide
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.transport import Closed
from tests.adapters.simulators.loopback import Loopback
from tests.adapters.simulators.test_account_state import ctrader_outcome, order, tradovate_answer

pytestmark = pytest.mark.timeout(60)

BUY = {"action": "Buy", "symbol": "ESZ6", "orderQty": 1, "orderType": "Market"}


def tradovate_link(sim: TradovateSimulator) -> Loopback:
    conn = TradovateConnection("127.0.0.1")
    link = Loopback(conn, sim.trading_url)
    link.until(lambda evs: any(type(e).__name__ == "Opened" for e in evs))
    authorized = conn.authorize(sim.token)
    link.until(lambda evs: any(getattr(e, "request_id", None) == authorized for e in evs))
    tradovate_answer(link, "user/syncrequest", {"users": [sim.user_id]})
    return link


def test_tradovate_events_skip_a_session_that_is_closing() -> None:
    """One client's session closes (its close frame sent, the client's not yet back) while
    another places orders: the account's events are not offered to the closing one, and the
    other gets every answer."""
    with TradovateSimulator(price_walk=False) as sim, tradovate_link(sim) as closing:
        with tradovate_link(sim) as placing:
            sim.read_on_loop(lambda: sim.inject(Fault(FaultKind.CLOSE), connection=1))
            for number in range(3):
                answer = tradovate_answer(
                    placing, "order/placeorder", dict(BUY, clOrdId=f"{number}")
                )
                assert answer.data["orderId"] > 0
            assert sim.orders_received() == {"0": 1, "1": 1, "2": 1}
        events = closing.until(lambda evs: any(isinstance(e, Closed) for e in evs))
        assert next(e for e in events if isinstance(e, Closed)).code == 1011


def test_a_restart_drops_every_connection_and_keeps_the_accounts() -> None:
    with TradovateSimulator(price_walk=False) as sim:
        with tradovate_link(sim) as link:
            tradovate_answer(link, "order/placeorder", dict(BUY, clOrdId="before"))
            port, before = sim.port, sim.account_state()
            sim.restart_in_background()
            link.until(lambda evs: link.closed)
        assert sim.port == port
        assert sim.account_state() == before
        with tradovate_link(sim) as link:
            sync = tradovate_answer(link, "user/syncrequest", {"users": [sim.user_id]})
            assert [p.net_pos for p in sync.data.positions] == [1]
    with CTraderSimulator(price_walk=False) as sim:
        account = sim.accounts[0]
        conn = CTraderConnection.tcp()
        with Loopback(conn, sim.tcp_url) as link:
            ctrader_outcome(link, conn.authorize_application(sim.client_id, sim.client_secret))
            ctrader_outcome(link, conn.authorize_account(account, sim.access_token))
            ctrader_outcome(link, conn.request(order(sim, TradeSide.BUY, 100_000)))
            before = sim.account_state(account)
            sim.restart_in_background()
            link.until(lambda evs: link.closed)
        assert sim.account_state(account) == before
        assert len(before.positions) == 1
        conn = CTraderConnection.tcp()
        with Loopback(conn, sim.tcp_url) as link:
            ctrader_outcome(link, conn.authorize_application(sim.client_id, sim.client_secret))
            ctrader_outcome(link, conn.authorize_account(account, sim.access_token))
