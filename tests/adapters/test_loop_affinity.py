"""An asyncio client belongs to the loop it connected on: called from another loop (another
thread's), it raises ``LocalProtocolError`` at once instead of stalling or hanging, and it goes
on working on its own loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from brokerwire.core.ctrader import PayloadType
from brokerwire.core.errors import LocalProtocolError
from tests.adapters.clients import ctrader_credentials, ctrader_sim, tradovate_sim
from tests.adapters.drivers import AsyncioDriver

pytestmark = pytest.mark.timeout(60)


def on_another_loop(use: Callable[[Any], Awaitable[Any]], client: Any) -> BaseException:
    """What ``use(client)`` raises on a new loop in this thread (bounded: a stall fails)."""

    async def attempt() -> None:
        await asyncio.wait_for(use(client), 5.0)

    with pytest.raises(LocalProtocolError, match="another event loop") as raised:
        asyncio.run(attempt())
    return raised.value


async def request(client: Any) -> Any:
    if hasattr(client, "subscribe_quote"):
        return await client.request("contract/find", body={"name": "NQZ6"})
    return await client.request(PayloadType.PROTO_OA_VERSION_REQ)


async def request_async(client: Any) -> Any:
    if hasattr(client, "subscribe_quote"):
        return await client.request_async("contract/find", body={"name": "NQZ6"})
    return await client.request_async(PayloadType.PROTO_OA_VERSION_REQ)


async def first_event(client: Any) -> Any:
    async for event in client.events():
        return event
    return None


async def close(client: Any) -> None:
    await client.close()


@pytest.mark.parametrize("broker", ["tradovate", "ctrader"])
def test_a_client_called_from_another_loop_refuses_at_once(
    broker: str, clean_process: None
) -> None:
    sim: Any = tradovate_sim() if broker == "tradovate" else ctrader_sim()
    with sim:
        if broker == "tradovate":
            url, options = sim.url, {"token": sim.token}
        else:
            url, options = sim.websocket_url, ctrader_credentials(sim)
        with AsyncioDriver(broker, url, **options) as driver:
            for use in (request, request_async, first_event, close):
                on_another_loop(use, driver.client)
            # On its own loop, it still works.
            result = driver.call("request", *_version_args(broker))
            assert driver.client.ready
    assert result["name"] == "NQZ6" if broker == "tradovate" else "version" in result


def _version_args(broker: str) -> tuple[Any, ...]:
    if broker == "tradovate":
        return ("contract/find", None, {"name": "NQZ6"})
    return (PayloadType.PROTO_OA_VERSION_REQ,)
