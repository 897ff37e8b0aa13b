"""The asyncio clients against the simulators over loopback.

The simulators run in their own thread and loop, so that the client's loop holds nothing but
the client and the test (the debug-mode test measures the client's callbacks alone).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import trustme

from brokerwire.adapters.asyncio import CTraderClient, TradovateClient
from brokerwire.adapters.errors import (
    AuthenticationError,
    ConnectError,
    ConnectionLost,
    RequestRefused,
)
from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.simulators import Fault, FaultKind
from brokerwire.core.ctrader import PayloadType
from brokerwire.core.errors import LocalProtocolError
from tests.adapters.clients import (
    FAST_RECONNECT,
    assert_no_gap,
    ctrader_credentials,
    ctrader_sim,
    sequence_numbers,
    stream_segments,
    streamed,
    tradovate_sim,
)

pytestmark = pytest.mark.timeout(60)


def run(scenario: Callable[[], Coroutine[Any, Any, None]], *, debug: bool = False) -> None:
    asyncio.run(scenario(), debug=debug)


async def collect(
    client: TradovateClient | CTraderClient,
    until: Callable[[list[Any]], bool],
    timeout: float = 15.0,
) -> list[Any]:
    events: list[Any] = []

    async def gather() -> None:
        async for event in client.events():
            events.append(event)
            if until(events):
                return
        raise AssertionError("the events ended first")

    try:
        await asyncio.wait_for(gather(), timeout)
    except TimeoutError:
        names = [type(e).__name__ for e in events[-10:]]
        raise AssertionError(f"not met within {timeout} s; last events: {names}") from None
    return events


def test_tradovate_requests_and_a_stream_without_gaps(clean_process: None) -> None:
    async def scenario() -> None:
        with tradovate_sim(quote_rate=20_000) as sim:
            async with TradovateClient(sim.url, token=sim.token) as client:
                found = await client.request("contract/find", body={"name": "NQZ6"})
                assert found["name"] == "NQZ6"
                with pytest.raises(RequestRefused):
                    await client.subscribe_quote("NOPE")
                answers = await asyncio.gather(
                    *(
                        client.request("contract/find", body={"name": name})
                        for name in ["ESZ6", "NQZ6", "MESZ6", "CLZ6"] * 50
                    )
                )
                assert [a["name"] for a in answers] == ["ESZ6", "NQZ6", "MESZ6", "CLZ6"] * 50
                await client.subscribe_quote("ESZ6")
                events = await collect(client, streamed(10_000))
        numbers = stream_segments(events)[0]
        assert numbers[0] == 1
        assert_no_gap(numbers)

    run(scenario)


@pytest.mark.parametrize("transport", ["ws", "tcp"])
def test_ctrader_requests_and_a_stream_without_gaps(transport: str, clean_process: None) -> None:
    async def scenario() -> None:
        with ctrader_sim(spot_rate=20_000) as sim:
            url = sim.websocket_url if transport == "ws" else sim.tcp_url
            async with CTraderClient(url, **ctrader_credentials(sim)) as client:
                account = sim.accounts[0]
                await client.authorize_account(account)
                volumes = [100 * (i + 1) for i in range(60)]  # past the 50/s budget
                accepted = await asyncio.gather(
                    *(client.new_order(account, 1, "BUY", volume) for volume in volumes)
                )
                assert [a.order.trade_data.volume for a in accepted] == volumes
                await client.subscribe_spots(account, 1)
                events = await collect(client, streamed(10_000))
        numbers = stream_segments(events)[0]
        assert numbers[0] == 1
        assert_no_gap(numbers)

    run(scenario)


def test_heartbeats_keep_an_idle_connection_alive(clean_process: None) -> None:
    async def scenario() -> None:
        # Past the servers' idle timeout, with room for a stalled thread on a busy machine.
        with tradovate_sim(idle_timeout=1.5) as t_sim, ctrader_sim(idle_timeout=1.5) as c_sim:
            async with (
                TradovateClient(t_sim.url, token=t_sim.token, heartbeat_interval=0.1) as t,
                CTraderClient(
                    c_sim.websocket_url, **ctrader_credentials(c_sim), heartbeat_interval=0.1
                ) as c,
            ):
                await asyncio.sleep(3.0)
                assert t.ready
                assert c.ready
                assert (t_sim.connections, c_sim.connections) == (1, 1)
                queued = t._buffer.snapshot() + c._buffer.snapshot()
                assert not [e for e in queued if type(e) is Disconnected]

    run(scenario)


def test_cancelling_a_request_frees_its_slot_and_keeps_the_connection(
    clean_process: None,
) -> None:
    async def scenario() -> None:
        with tradovate_sim(faults={1: Fault(FaultKind.DELAY, after=1, seconds=0.5)}) as sim:
            async with TradovateClient(sim.url, token=sim.token) as client:
                task = asyncio.create_task(client.request("account/list"))
                for _ in range(1000):  # until it is sent; its answer comes 0.5 s later
                    if client._engine._waiting:
                        break
                    await asyncio.sleep(0)
                assert client._engine._waiting
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert client._engine._waiting == {}
                assert (await client.request("account/list"))[0]["id"] == 7001
                assert client.ready
        with ctrader_sim() as sim:
            async with CTraderClient(
                sim.tcp_url, **ctrader_credentials(sim), requests_per_second=1
            ) as client:
                first = client.request_async(PayloadType.PROTO_OA_VERSION_REQ)
                held = client.request_async(PayloadType.PROTO_OA_VERSION_REQ)
                await asyncio.sleep(0)
                assert client._engine.conn is not None
                assert client._engine.conn.queued_requests == 2  # the auth used this second
                held.cancel()
                await asyncio.sleep(0)
                assert client._engine.conn.queued_requests == 1  # the held one is never sent
                assert client._engine.conn.pending_requests == 1
                assert (await first)["version"] == "brokerwire-simulator"

    run(scenario)


def test_close_with_requests_in_flight_fails_them_and_cancels_nothing_of_the_callers(
    clean_process: None,
) -> None:
    async def scenario() -> None:
        with tradovate_sim(faults={1: Fault(FaultKind.DELAY, after=1, seconds=30)}) as sim:
            client = await TradovateClient(sim.url, token=sim.token).connect()
            tasks = [asyncio.create_task(client.request("account/list")) for _ in range(5)]
            await asyncio.sleep(0.05)
            await client.close()
            await client.close()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(type(r) is ConnectionLost for r in results)
            assert not any(t.cancelled() for t in tasks)
            with pytest.raises(LocalProtocolError):
                await client.request("account/list")
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(scenario)


def test_pending_orders_are_reported_unknown_after_a_disconnect(clean_process: None) -> None:
    async def scenario() -> None:
        with tradovate_sim(faults={1: Fault(FaultKind.DELAY, after=1, seconds=30)}) as sim:
            async with TradovateClient(sim.url, token=sim.token, reconnect=FAST_RECONNECT) as c:
                order = c.request_async("order/placeorder", body={"symbol": "ESZ6"})
                await asyncio.sleep(0.05)
                sim.call_soon(sim.shutdown)
                with pytest.raises(ConnectionLost) as lost:
                    await order
                assert lost.value.outcome_unknown
                events = await collect(c, lambda evs: type(evs[-1]) is Reconnected)
        disconnected = next(e for e in events if type(e) is Disconnected)
        assert [o.request for o in disconnected.unknown_orders] == ["order/placeorder"]

    run(scenario)


def test_connect_errors(clean_process: None) -> None:
    async def scenario() -> None:
        with tradovate_sim() as sim:
            port = sim.port
            with pytest.raises(AuthenticationError):
                await TradovateClient(sim.url, token="wrong").connect()
        with pytest.raises(ConnectError, match="refused"):
            await TradovateClient(f"ws://127.0.0.1:{port}", token="t").connect()
        with pytest.raises(ConnectError, match="could not be resolved"):
            await CTraderClient("tcp://name.invalid:5036").connect()

        async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()
            writer.close()

        server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
        silent_port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectError, match="not ready within"):
            await TradovateClient(
                f"ws://127.0.0.1:{silent_port}", token="t", connect_timeout=0.3
            ).connect()
        server.close()
        await server.wait_closed()

    run(scenario)


def test_tls_is_verified_unless_the_caller_brings_a_context(clean_process: None) -> None:
    import ssl

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)

    async def scenario() -> None:
        with ctrader_sim(ssl_context=server_context) as sim:
            url = f"tls://127.0.0.1:{sim.port}"
            with pytest.raises(ConnectError, match="certificate"):
                await CTraderClient(url, **ctrader_credentials(sim)).connect()
            client_context = ssl.create_default_context()
            authority.configure_trust(client_context)
            async with CTraderClient(
                url, **ctrader_credentials(sim), ssl_context=client_context
            ) as client:
                version = await client.request(PayloadType.PROTO_OA_VERSION_REQ)
                assert version["version"] == "brokerwire-simulator"

    run(scenario)


def test_no_callback_holds_the_loop_long_in_debug_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each callback of the client's loop works a short stretch at a time. Its work is
    measured in CPU time of the loop's thread, which waiting for the processor or for the
    GIL on a busy machine does not count (asyncio's own slow-callback warning reads the wall
    clock). Debug mode stays on for its other checks. The largest read here (the sync answer)
    has been seen to take 0.11 s of CPU in debug mode on a loaded machine; the bound leaves room
    for that, and a callback past it would be doing more than one read's work."""
    loop_thread = threading.get_ident()
    longest = 0.0
    run_handle = asyncio.Handle._run

    def measured(handle: asyncio.Handle) -> None:
        nonlocal longest
        if threading.get_ident() != loop_thread:  # the simulator's loop
            run_handle(handle)
            return
        started = time.thread_time()
        try:
            run_handle(handle)
        finally:
            longest = max(longest, time.thread_time() - started)

    monkeypatch.setattr(asyncio.Handle, "_run", measured)

    async def scenario() -> None:
        with tradovate_sim(quote_rate=3_000) as sim:
            async with TradovateClient(sim.url, token=sim.token) as client:
                await client.subscribe_quote("ESZ6")
                await client.sync_user(2001)
                await collect(client, streamed(4_000))

    run(scenario, debug=True)
    assert 0 < longest < 0.5, f"a callback worked {longest:.3f} s of CPU time"


def test_callbacks_see_every_event_and_one_that_raises_is_logged(
    caplog: pytest.LogCaptureFixture, clean_process: None
) -> None:
    seen: list[int] = []

    def on_event(event: Any) -> None:
        seen.extend(sequence_numbers(event))
        if len(seen) == 1:
            raise ValueError("a bug in the caller's callback")

    async def scenario() -> None:
        with ctrader_sim(spot_rate=5_000) as sim:
            async with CTraderClient(
                sim.websocket_url, **ctrader_credentials(sim), on_event=on_event
            ) as client:
                await client.authorize_account(sim.accounts[0])
                await client.subscribe_spots(sim.accounts[0], 1)
                while len(seen) < 500:
                    await asyncio.sleep(0.01)
                with pytest.raises(LocalProtocolError):
                    client.events()

    run(scenario)
    assert "a bug in the caller's callback" in caplog.text
    assert_no_gap(seen)
