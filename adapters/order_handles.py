"""Order handles: what a client's ``place_order_tracked`` / ``new_order_tracked`` returns.

A handle shows its order as the client last saw it (``view``: status, the server's order id,
fills, the error) and completes once the order is final, or when the client closes first (the
status then stays what it was: ``UNKNOWN`` for an order whose answer was lost). The broker's
tracker in the core decides every view; a handle only holds the latest and wakes whoever
waits: ``wait(timeout)`` in the threaded client, ``await handle`` in the asyncio one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from typing import Any

from brokerwire.core.orders import OrderFill, OrderStatus, OrderView

__all__ = ["AsyncOrderHandle", "OrderHandle", "ThreadedOrderHandle"]


class OrderHandle:
    """The surface both adapters share; the client calls ``_update`` and ``_end``."""

    def __init__(self, view: OrderView) -> None:
        self._view = view
        self._ended = False

    def __repr__(self) -> str:
        view = self._view
        return f"<{type(self).__name__} {view.key} {view.status.value} order={view.order_id}>"

    @property
    def view(self) -> OrderView:
        """The order as last seen, as one plain value."""
        return self._view

    @property
    def status(self) -> OrderStatus:
        return self._view.status

    @property
    def order_id(self) -> int | None:
        return self._view.order_id

    @property
    def fills(self) -> tuple[OrderFill, ...]:
        return self._view.fills

    @property
    def filled_quantity(self) -> int:
        return self._view.filled_quantity

    @property
    def average_price(self) -> float | None:
        return self._view.average_price

    @property
    def error(self) -> str | None:
        return self._view.error

    @property
    def done(self) -> bool:
        """Final, or the client closed before it was."""
        return self._view.final or self._ended

    def _update(self, view: OrderView) -> None:
        self._view = view
        if view.final:
            self._complete()

    def _end(self) -> None:
        self._ended = True
        self._complete()

    def _complete(self) -> None:
        """Wake whoever waits (the adapter's part)."""


class ThreadedOrderHandle(OrderHandle):
    """A handle of the threaded client: ``wait(timeout)`` blocks until it is done."""

    def __init__(self, view: OrderView) -> None:
        super().__init__(view)
        self._done = threading.Event()

    def _complete(self) -> None:
        self._done.set()

    def wait(self, timeout: float | None = None) -> OrderView:
        """The final view; ``TimeoutError`` when the order is not done within ``timeout``."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"order {self._view.key} is still {self._view.status.value}")
        return self._view


class AsyncOrderHandle(OrderHandle):
    """A handle of the asyncio client: ``await handle`` gives the final view."""

    def __init__(self, view: OrderView, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(view)
        self._future: asyncio.Future[OrderView] = loop.create_future()

    def _complete(self) -> None:
        if not self._future.done():
            self._future.set_result(self._view)

    def __await__(self) -> Generator[Any, None, OrderView]:
        return asyncio.shield(self._future).__await__()

    async def wait(self, timeout: float | None = None) -> OrderView:
        """The final view; ``TimeoutError`` when the order is not done within ``timeout``."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"order {self._view.key} is still {self._view.status.value}"
            ) from None
