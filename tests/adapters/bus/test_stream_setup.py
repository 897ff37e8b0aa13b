"""The stream the publisher needs: made when missing, changed to take atomic batches when made
without them, and refused clearly where the server cannot take them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import nats
import pytest
from nats.js.api import StreamConfig

from brokerwire.adapters.bus.connection import NoAtomicBatches, ensure_stream
from tests.adapters.bus.natsserver import NatsCluster

pytestmark = pytest.mark.timeout(60)


async def _allow_atomic_after(urls: list[str], made: StreamConfig | None, old_server: bool) -> bool:
    nc = await nats.connect(urls)
    try:
        js = nc.jetstream()
        if made is not None:
            await js.add_stream(made)
        if old_server:  # a server before 2.12 keeps no setting it does not know
            update, add = js.update_stream, js.add_stream

            async def forgetting(config: StreamConfig, **kw: Any) -> Any:
                operation = update if made is not None else add
                return await operation(replace(config, allow_atomic=False), **kw)

            js.update_stream = forgetting  # type: ignore[method-assign]
            js.add_stream = forgetting  # type: ignore[method-assign]
        await ensure_stream(js, "SETUP", 1, 120.0)
        return bool((await js.stream_info("SETUP")).config.allow_atomic)
    finally:
        await nc.close()


def test_a_missing_stream_is_made_for_atomic_batches(nats_server: NatsCluster) -> None:
    assert asyncio.run(_allow_atomic_after(nats_server.urls, None, old_server=False))


def test_a_stream_made_without_atomic_batches_is_changed(nats_server: NatsCluster) -> None:
    plain = StreamConfig(name="SETUP", subjects=["brokerwire.>"])
    assert asyncio.run(_allow_atomic_after(nats_server.urls, plain, old_server=False))


@pytest.mark.parametrize("existing", [False, True], ids=["missing", "existing"])
def test_a_server_without_atomic_batches_is_refused_at_once(
    nats_server: NatsCluster, existing: bool
) -> None:
    plain = StreamConfig(name="SETUP", subjects=["brokerwire.>"]) if existing else None
    with pytest.raises(NoAtomicBatches, match=r"2\.12 or later"):
        asyncio.run(_allow_atomic_after(nats_server.urls, plain, old_server=True))
