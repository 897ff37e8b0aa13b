"""The pytest plugin's fixtures, and simulators run inside a caller's own event loop."""

from __future__ import annotations

import asyncio
import socket
from importlib.metadata import entry_points

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.core.ctrader import CTraderConnection, Response
from brokerwire.core.tradovate import Opened, TradovateConnection
from tests.adapters.simulators.loopback import Loopback

pytestmark = pytest.mark.timeout(30)


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("brokerwire") == "brokerwire.adapters.pytest_plugin"


def test_tradovate_sim_fixture(tradovate_sim: TradovateSimulator) -> None:
    assert tradovate_sim.url.startswith("ws://127.0.0.1:")
    with Loopback(TradovateConnection("127.0.0.1"), tradovate_sim.url) as link:
        link.until(lambda events: Opened() in events)
        link.conn.authorize(tradovate_sim.token)  # type: ignore[attr-defined]
        link.until(lambda events: any(getattr(e, "status", 0) == 200 for e in events))


@pytest.mark.tradovate_sim(quote_rate=123.0, idle_timeout=None)
def test_the_marker_configures_the_fixture(tradovate_sim: TradovateSimulator) -> None:
    assert tradovate_sim.quote_rate == 123.0
    assert tradovate_sim.idle_timeout is None


@pytest.mark.ctrader_sim(accounts=[11, 12])
def test_ctrader_sim_fixture(ctrader_sim: CTraderSimulator) -> None:
    assert ctrader_sim.accounts == [11, 12]
    assert ctrader_sim.tcp_url == f"tcp://127.0.0.1:{ctrader_sim.port}"
    with Loopback(CTraderConnection.tcp(), ctrader_sim.tcp_url) as link:
        conn: CTraderConnection = link.conn  # type: ignore[assignment]
        request = conn.authorize_application(ctrader_sim.client_id, ctrader_sim.client_secret)
        link.until(
            lambda events: any(
                isinstance(e, Response) and e.client_msg_id == request for e in events
            )
        )


def test_running_inside_the_callers_event_loop_leaves_no_task_or_port_behind() -> None:
    async def scenario() -> int:
        sim = CTraderSimulator(spot_rate=1000)
        await sim.start()
        port = sim.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b'{"payloadType":2104,"clientMsgId":"v"}\n')
        answer = await asyncio.wait_for(reader.readline(), 5)
        assert b'"payloadType":2105' in answer
        await sim.stop()
        writer.close()
        await asyncio.sleep(0)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []
        assert sim.connections == 0
        return port

    port = asyncio.run(scenario())
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1.0),
    ):
        pass


def test_async_with_starts_and_stops_in_the_callers_loop() -> None:
    async def scenario() -> int:
        async with TradovateSimulator() as sim:
            _, writer = await asyncio.open_connection("127.0.0.1", sim.port)
            writer.close()
            await writer.wait_closed()
            return sim.port

    port = asyncio.run(scenario())
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1.0),
    ):
        pass
