"""The asyncio clients work unchanged on uvloop, whose transports do what asyncio's do without
deriving from ``asyncio.Transport``: requests, streams without gaps, backpressure, a reconnect
and closing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvloop

from brokerwire.adapters.asyncio import CTraderClient, TradovateClient
from brokerwire.adapters.events import Reconnected
from brokerwire.adapters.simulators import Fault, FaultKind
from tests.adapters.clients import (
    FAST_RECONNECT,
    assert_no_gap,
    ctrader_credentials,
    ctrader_sim,
    sequence_numbers,
    stream_segments,
    tradovate_sim,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def _uvloop_started() -> None:
    """uvloop's first loop opens two descriptors that it keeps for the life of the process: it
    is started once before ``clean_process`` counts what a test leaves behind."""
    uvloop.run(asyncio.sleep(0))


async def _numbers(client: Any, count: int) -> list[Any]:
    """Events until ``count`` stream messages came, read slowly at first so that the queue
    fills and reading pauses."""
    events: list[Any] = []
    seen = 0
    async for event in client.events():
        events.append(event)
        seen += len(sequence_numbers(event))
        if seen < 50:
            await asyncio.sleep(0.002)
        if seen >= count:
            return events
    return events


def test_a_tradovate_client_on_uvloop(clean_process: None) -> None:
    async def scenario() -> None:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        with tradovate_sim(quote_rate=5_000) as sim:
            async with TradovateClient(
                sim.url, token=sim.token, on_full="pause", max_queued_events=20
            ) as client:
                found = await client.request("contract/find", body={"name": "ESZ6"})
                assert found["name"] == "ESZ6"
                await client.subscribe_quote("ESZ6")
                events = await asyncio.wait_for(_numbers(client, 3_000), 30)
        numbers = stream_segments(events)[0]
        assert numbers[0] == 1
        assert_no_gap(numbers)

    uvloop.run(scenario())


@pytest.mark.parametrize("transport", ["ws", "tcp"])
def test_a_ctrader_client_on_uvloop_reconnects(transport: str, clean_process: None) -> None:
    async def scenario() -> None:
        fault = Fault(FaultKind.DROP_MID_FRAME, after=500)
        with ctrader_sim(spot_rate=5_000, faults={1: fault}) as sim:
            url = sim.websocket_url if transport == "ws" else sim.tcp_url
            async with CTraderClient(
                url, **ctrader_credentials(sim), reconnect=FAST_RECONNECT, on_full="pause"
            ) as client:
                account = sim.accounts[0]
                await client.authorize_account(account)
                await client.subscribe_spots(account, 1)
                events: list[Any] = []
                async for event in client.events():
                    events.append(event)
                    if (
                        any(type(e) is Reconnected for e in events)
                        and len(stream_segments(events)[-1]) >= 1_000
                    ):
                        break
        segments = stream_segments(events)
        assert len(segments) == 2
        for numbers in segments:
            assert_no_gap(numbers)
        assert segments[1][0] == 1  # the restored subscription streams from its start

    uvloop.run(scenario())
