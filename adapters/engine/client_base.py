"""What every client shares above the engine, whatever its broker and adapter.

A client class is put together from two halves, each a subclass of ``ClientBase``:

- the broker's request helpers (``TradovateCalls``, ``CTraderCalls``): the constructor, which
  makes the broker's engine and hands it to ``_start`` with the options every client takes, and
  one public method per request, each describing its request and handing it to ``_call``;
- the adapter's I/O (the threaded or the asyncio client base): ``_setup`` makes its threads or
  loop handles, ``_call`` sends a request and blocks for its result (threaded) or returns a
  coroutine (asyncio), ``_submit`` sends it and returns a future of its outcome.

``_call`` and ``_submit`` are declared here, abstract, and defined only by the adapter: neither
half overrides the other, so the order of the bases does not matter, and a client class that
lacks an adapter cannot be made.
"""

from __future__ import annotations

import logging
import ssl
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from brokerwire.core.errors import LocalProtocolError

from .client_engine import ClientEngine, EventCallback, OnFull, OnReceived, Phase
from .event_queue import EventBuffer
from .login import TokenSource

__all__ = ["ClientBase", "ClientOptions"]

log = logging.getLogger("brokerwire.client")

EngineT = TypeVar("EngineT", bound=ClientEngine[Any, Any])


class ClientOptions(NamedTuple):
    """The options every client takes, whatever its broker: TLS, patience, and where events
    and received bytes go."""

    ssl_context: ssl.SSLContext | None
    connect_timeout: float
    on_event: EventCallback | None
    max_queued_events: int
    max_queued_bytes: int
    on_full: OnFull
    on_received: OnReceived | None


class ClientBase(ABC, Generic[EngineT]):
    """A client's engine and the options every client takes."""

    _engine: EngineT

    def _start(self, engine: EngineT, options: ClientOptions) -> None:
        """Take the options every client has (the broker's half passes them on from its
        constructor), then let the adapter set up its I/O."""
        connect_timeout, on_received = options.connect_timeout, options.on_received
        if connect_timeout <= 0:
            raise ValueError("connect_timeout must be positive")
        if on_received is not None and not callable(on_received):
            raise TypeError("on_received must be callable with (bytes, connection number)")
        self._engine = engine
        engine.on_received = on_received
        self._ssl_context = engine.endpoint.ssl_context(options.ssl_context)
        self._connect_timeout = connect_timeout
        self._on_event = options.on_event
        self._buffer = EventBuffer(
            options.max_queued_events, options.max_queued_bytes, options.on_full
        )
        self._paused = False
        self._setup()

    def _setup(self) -> None:
        """The adapter's own state (threads and locks, or loop handles)."""

    @abstractmethod
    def _call(self, call: Any) -> Any:
        """Send ``call`` (a ``TradovateCall`` or ``CTraderCall``): the threaded adapter blocks
        and returns its result, the asyncio adapter returns a coroutine."""

    @abstractmethod
    def _submit(self, call: Any) -> Any:
        """Send ``call`` now and return a future of its outcome: a ``concurrent.futures.Future``
        in the threaded adapter, an ``asyncio.Future`` in the asyncio one (``request_async``)."""

    def _track_order(self, call: Any) -> Any:
        """Send an order ``call`` with a handle (the adapter makes the handle)."""
        raise NotImplementedError

    def _read_state(self, read: Callable[[], Any]) -> Any:
        """``read()`` the engine's account state safely (under the lock, or on the loop)."""
        raise NotImplementedError

    @abstractmethod
    def events(
        self, timeout: float | None = None, *, conflate: bool = False
    ) -> Iterator[Any] | AsyncIterator[Any]:
        """Events as they come; ends once the client is closed and every event was taken.

        ``timeout`` bounds each wait: when no event comes within it, ``TimeoutError``.
        ``conflate=True`` asks for the latest market data only, whether the queue is full or
        not: an unread update per instrument and kind is replaced by the newest one.
        """

    def _watch_login(self, token: object) -> None:
        """A login given as the token hears of this client: each renewal reaches it."""
        if isinstance(token, TokenSource):
            token.attach(self._login_changed)

    def _login_changed(self, events: list[Any], token: str | None) -> None:
        """A login's news (its events, and its new token when it changed): the adapter hands
        the token to the engine and the events to the caller."""
        raise NotImplementedError

    def _refuse_events_with_callback(self) -> None:
        """``events()`` and an ``on_event`` callback would take the same events: refuse."""
        if self._on_event is not None:
            raise LocalProtocolError("this client hands its events to on_event, not events()")

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
