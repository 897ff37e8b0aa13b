"""The NATS connection and the JetStream stream that every gateway shares.

The connection reconnects for ever (a bus that is away is waited for: the buffer fills and the
broker link pauses), and buffers nothing of its own while it is down (``pending_size=0``): a
message published then fails at once instead of waiting in the client's memory to be sent after
later ones, so that what the publisher resends keeps its place. What it logs names no server
address, which may carry a user and password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig, StreamInfo
from nats.js.errors import BadRequestError, NotFoundError

from .subjects import PREFIX

__all__ = ["DEFAULT_STREAM", "NoAtomicBatches", "connect", "ensure_stream"]

log = logging.getLogger("brokerwire.bus")

#: The stream brokerwire publishes to and reads from unless told otherwise.
DEFAULT_STREAM = "BROKERWIRE"
#: Seconds to wait for JetStream to answer while a cluster elects its leader.
_READY_TIMEOUT = 30.0


class NoAtomicBatches(Exception):
    """The stream does not take atomic batches, which the publisher's windows are: a server
    before NATS 2.12 drops the setting it does not know."""


def _check_atomic(info: StreamInfo) -> None:
    if not info.config.allow_atomic:
        raise NoAtomicBatches(
            f"stream {info.config.name} does not take atomic batches (NATS server 2.12 or later)"
        )


async def _disconnected() -> None:
    log.info("the NATS connection is down; reconnecting")


async def _reconnected() -> None:
    log.info("the NATS connection is back")


async def _error(exc: Exception) -> None:
    log.debug("NATS connection: %s", type(exc).__name__)


async def connect(servers: str | Sequence[str], name: str, connect_timeout: float = 10.0) -> NATS:
    """A connection to ``servers`` (``nats://host:4222``, or several of one cluster) that
    reconnects for ever and buffers nothing while down. Raises ``OSError`` (or one of nats-py's
    errors) when no server answers."""
    urls = [servers] if isinstance(servers, str) else list(servers)
    nc = await nats.connect(
        urls,
        name=name,
        connect_timeout=connect_timeout,
        allow_reconnect=True,
        # Tried once or twice each at first (a client that never connected fails), then for
        # ever: nats-py reads the option again each time it reconnects.
        max_reconnect_attempts=1,
        reconnect_time_wait=0.25,
        pending_size=0,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
    )
    nc.options["max_reconnect_attempts"] = -1
    return nc


async def ensure_stream(
    js: JetStreamContext, name: str, replicas: int, duplicate_window: float
) -> None:
    """Create the stream of subjects ``brokerwire.>`` unless it exists, taking atomic batches
    (the publisher's windows; JetStream 2.12 or later): a stream made without them is changed
    to take them. Another gateway may create it at the same moment: the one that loses finds it
    made. Waits (bounded) while a cluster has no JetStream leader yet."""
    config = StreamConfig(
        name=name,
        subjects=[f"{PREFIX}.>"],
        num_replicas=replicas,
        duplicate_window=duplicate_window,
        storage=StorageType.FILE,
        allow_atomic=True,
    )
    deadline = time.monotonic() + _READY_TIMEOUT
    refused = False
    while True:
        try:
            info = await js.stream_info(name)
            if not info.config.allow_atomic:
                info = await js.update_stream(replace(info.config, allow_atomic=True))
            _check_atomic(info)
            return
        except NotFoundError:
            try:
                _check_atomic(await js.add_stream(config))
                return
            except BadRequestError:
                if refused:  # not made meanwhile: the server refuses this stream
                    raise
                refused = True  # perhaps made meanwhile by another gateway: look again
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)
