"""One way to drive either adapter from a test, so that a scenario is written once.

``ThreadedDriver`` wraps a threaded client; ``AsyncioDriver`` runs an asyncio client in an event
loop on a thread of its own and hands its results back as concurrent futures. Both forward the
client's events through a queue of one, so a test that reads slowly still slows the client down
(and the client's own backpressure is what is tested).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from brokerwire.adapters import asyncio as asyncio_clients
from brokerwire.adapters import threaded as threaded_clients

ADAPTERS = ["threaded", "asyncio"]

_END = object()


class Driver:
    """A connected client, its events one at a time, and requests as concurrent futures."""

    client: Any

    def __init__(self, conflate: bool = False) -> None:
        self._events: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._ended = False
        self._conflate = conflate

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a client method and wait for its result (or its exception)."""
        raise NotImplementedError

    def request_async(self, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """The client's ``request_async``, as a concurrent future for either adapter."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def next_event(self, timeout: float) -> Any:
        """The next event; ``StopIteration`` once the client's events have ended."""
        if self._ended:
            raise StopIteration
        event = self._events.get(timeout=timeout)
        if event is _END:
            self._ended = True
            raise StopIteration
        return event

    def collect(self, until: Callable[[list[Any]], bool], timeout: float = 15.0) -> list[Any]:
        """Events until ``until(events)`` holds; fails when it does not within ``timeout``."""
        events: list[Any] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                events.append(self.next_event(max(0.0, end - time.monotonic())))
            except (queue.Empty, StopIteration):
                break
            if until(events):
                return events
        names = [type(e).__name__ for e in events[-10:]]
        raise AssertionError(f"condition not met within {timeout} s; last events: {names}")

    def drain(self, timeout: float = 10.0) -> list[Any]:
        """Every event until the client's events end (after it closed for good)."""
        events: list[Any] = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                events.append(self.next_event(max(0.0, end - time.monotonic())))
            except StopIteration:
                return events
        raise AssertionError(f"the events did not end within {timeout} s")

    def _forward(self, event: Any) -> None:
        self._events.put(event)

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ThreadedDriver(Driver):
    def __init__(self, broker: str, url: str, *, conflate: bool = False, **options: Any) -> None:
        super().__init__(conflate)
        kind = (
            threaded_clients.TradovateClient
            if broker == "tradovate"
            else threaded_clients.CTraderClient
        )
        self.client = kind(url, **options).connect()
        self._pump = threading.Thread(target=self._read_events, name="test-events", daemon=True)
        self._pump.start()

    def _read_events(self) -> None:
        for event in self.client.events(conflate=self._conflate):
            self._forward(event)
        self._forward(_END)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.client, method)(*args, **kwargs)

    def request_async(self, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = self.client.request_async(*args, **kwargs)
        return future

    def close(self) -> None:
        self.client.close()
        _empty_until_ended(self)
        self._pump.join(15)


class AsyncioDriver(Driver):
    def __init__(self, broker: str, url: str, *, conflate: bool = False, **options: Any) -> None:
        super().__init__(conflate)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-loop")
        self._thread.start()
        kind = (
            asyncio_clients.TradovateClient
            if broker == "tradovate"
            else asyncio_clients.CTraderClient
        )

        async def connect() -> Any:
            return await kind(url, **options).connect()

        try:
            self.client = self._run(connect())
        except BaseException:
            self._stop_loop()
            raise
        self._pump = asyncio.run_coroutine_threadsafe(self._read_events(), self._loop)

    async def _read_events(self) -> None:
        async for event in self.client.events(conflate=self._conflate):
            await asyncio.to_thread(self._forward, event)
        await asyncio.to_thread(self._forward, _END)

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _await(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A client method called in the loop, and its result awaited there."""
        return await getattr(self.client, method)(*args, **kwargs)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._run(self._await(method, *args, **kwargs))

    def request_async(self, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(
            self._await("request_async", *args, **kwargs), self._loop
        )

    def close(self) -> None:
        try:
            self._run(self.client.close())
            _empty_until_ended(self)
            self._pump.result(15)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        async def shutdown() -> None:
            await self._loop.shutdown_default_executor()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._loop.close()


def _empty_until_ended(driver: Driver) -> None:
    """Take what the forwarder still holds, so that it can finish."""
    with contextlib.suppress(AssertionError):
        driver.drain(15)


def open_client(adapter: str, broker: str, url: str, **options: Any) -> Driver:
    """A connected client of ``broker`` ("tradovate" or "ctrader") on ``adapter``; with
    ``conflate=True`` its events are read with ``events(conflate=True)``."""
    kind = ThreadedDriver if adapter == "threaded" else AsyncioDriver
    return kind(broker, url, **options)
