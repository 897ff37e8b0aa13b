"""What the threaded and the asyncio client share above the engine: their settings, the
description of their state, and handing events to the caller's callback."""

from __future__ import annotations

import logging
from typing import Any, Generic, TypeVar

from .client_engine import ClientEngine, ClientOptions, Phase
from .event_queue import EventBuffer

__all__ = ["ClientBase"]

log = logging.getLogger("brokerwire.client")

EngineT = TypeVar("EngineT", bound=ClientEngine[Any, Any])


class ClientBase(Generic[EngineT]):
    """A client's engine and options; each adapter adds its I/O in ``_setup``."""

    _engine: EngineT

    def _start(self, engine: EngineT, options: ClientOptions) -> None:
        if options.connect_timeout <= 0:
            raise ValueError("connect_timeout must be positive")
        self._engine = engine
        self._ssl_context = engine.endpoint.ssl_context(options.ssl_context)
        self._connect_timeout = options.connect_timeout
        self._on_event = options.on_event
        self._buffer = EventBuffer(
            options.max_queued_events, options.max_queued_bytes, options.on_full
        )
        self._paused = False
        self._setup()

    def _setup(self) -> None:
        """The adapter's own state (threads and locks, or loop handles)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._engine.endpoint.display()} {self.state.value}>"

    @property
    def state(self) -> Phase:
        """IDLE, CONNECTING, READY, DOWN (reconnecting), CLOSING or CLOSED."""
        return self._engine.phase

    @property
    def ready(self) -> bool:
        return self._engine.ready

    def _call_back(self, events: list[Any]) -> bool:
        """Hand ``events`` to the ``on_event`` callback; False when there is none. A callback
        that raises is logged, and the next event still gets its call."""
        callback = self._on_event
        if callback is None:
            return False
        for event in events:
            try:
                callback(event)
            except Exception:
                log.exception("the on_event callback raised on %s", type(event).__name__)
        return True
