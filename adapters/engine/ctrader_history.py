"""History as an iterator: the ``*_history`` methods of the cTrader clients.

The plan (windows, ``hasMore``, duplicates) is the core's ``HistoryPager``; here each request
it makes is sent through the client's typed ``request``, one at a time, and the records are
handed out as they arrive. The connection holds historical requests to their 5-per-second
budget by itself, so a long range simply takes its time. A page the server refuses for going
too fast (``Throttled``) is asked again: the connection holds the request type back for as long
as the server said. Any other error ends the iteration where it stands; the records given so far
stand, and a new call from the last time received goes on from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from brokerwire.core.ctrader.history import (
    ACCOUNT_HISTORY_WINDOW_MS,
    TICK_WINDOW_MS,
    HistoryPager,
    deal_pager,
    order_pager,
    tick_pager,
    trendbar_pager,
)
from brokerwire.core.ctrader.models import (
    Deal,
    OpenApiMessage,
    Order,
    QuoteType,
    TickData,
    Trendbar,
    TrendbarPeriod,
)

from ..errors import Throttled

__all__ = ["MAX_THROTTLED", "AsyncCTraderHistory", "CTraderHistory"]

T = TypeVar("T")

#: How many times in a row one page may be refused for going too fast before giving up.
MAX_THROTTLED = 5


def _pages(
    request: Callable[[OpenApiMessage, float | None], Any],
    pager: HistoryPager[T],
    timeout: float | None,
) -> Iterator[T]:
    while (message := pager.next_request()) is not None:
        for attempt in range(MAX_THROTTLED + 1):
            try:
                answer = request(message, timeout)
                break
            except Throttled:
                if attempt == MAX_THROTTLED:
                    raise
        yield from pager.take(answer)


async def _async_pages(
    request: Callable[[OpenApiMessage, float | None], Awaitable[Any]],
    pager: HistoryPager[T],
    timeout: float | None,
) -> AsyncIterator[T]:
    while (message := pager.next_request()) is not None:
        for attempt in range(MAX_THROTTLED + 1):
            try:
                answer = await request(message, timeout)
                break
            except Throttled:
                if attempt == MAX_THROTTLED:
                    raise
        for record in pager.take(answer):
            yield record


class CTraderHistory:
    """The history methods of the threaded client: generators that request page by page as
    they are iterated (stop iterating, and nothing more is asked)."""

    def _history_request(self, message: OpenApiMessage, timeout: float | None) -> Any:
        request: Callable[..., Any] = getattr(self, "request")  # noqa: B009 (the client's)
        return request(message, timeout=timeout)

    def trendbar_history(
        self,
        account_id: int,
        symbol_id: int,
        period: TrendbarPeriod | int,
        from_ms: int,
        to_ms: int,
        *,
        timeout: float | None = None,
    ) -> Iterator[Trendbar]:
        """Every trendbar of ``period`` between two Unix times in milliseconds, oldest first,
        each once: in as many windows as the period needs, following ``hasMore``.
        ``timeout`` applies to each page. A bad range raises ``LocalProtocolError`` at once."""
        pager = trendbar_pager(account_id, symbol_id, period, from_ms, to_ms)
        return _pages(self._history_request, pager, timeout)

    def tick_history(
        self,
        account_id: int,
        symbol_id: int,
        quote_type: QuoteType | int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = TICK_WINDOW_MS,
        timeout: float | None = None,
    ) -> Iterator[TickData]:
        """Every bid (``QuoteType.BID``) or ask tick between two times, oldest first, as
        ``TickData`` with absolute times and raw prices; one-week windows by default (see
        ``core.ctrader.history.tick_pager``)."""
        pager = tick_pager(account_id, symbol_id, quote_type, from_ms, to_ms, window_ms=window_ms)
        return _pages(self._history_request, pager, timeout)

    def deal_history(
        self,
        account_id: int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = ACCOUNT_HISTORY_WINDOW_MS,
        timeout: float | None = None,
    ) -> Iterator[Deal]:
        """Every deal of the account executed between two times, oldest first, each once."""
        pager = deal_pager(account_id, from_ms, to_ms, window_ms=window_ms)
        return _pages(self._history_request, pager, timeout)

    def order_history(
        self,
        account_id: int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = ACCOUNT_HISTORY_WINDOW_MS,
        timeout: float | None = None,
    ) -> Iterator[Order]:
        """Every order of the account created between two times, oldest first, each once."""
        pager = order_pager(account_id, from_ms, to_ms, window_ms=window_ms)
        return _pages(self._history_request, pager, timeout)


class AsyncCTraderHistory:
    """The history methods of the asyncio client: async iterators (``async for bar in
    client.trendbar_history(...)``) that request page by page as they are iterated."""

    async def _history_request(self, message: OpenApiMessage, timeout: float | None) -> Any:
        request: Callable[..., Awaitable[Any]] = getattr(self, "request")  # noqa: B009
        return await request(message, timeout=timeout)

    def trendbar_history(
        self,
        account_id: int,
        symbol_id: int,
        period: TrendbarPeriod | int,
        from_ms: int,
        to_ms: int,
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[Trendbar]:
        """As the threaded client's ``trendbar_history``, as an async iterator. A bad range
        raises ``LocalProtocolError`` at the call, before any iteration."""
        pager = trendbar_pager(account_id, symbol_id, period, from_ms, to_ms)
        return _async_pages(self._history_request, pager, timeout)

    def tick_history(
        self,
        account_id: int,
        symbol_id: int,
        quote_type: QuoteType | int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = TICK_WINDOW_MS,
        timeout: float | None = None,
    ) -> AsyncIterator[TickData]:
        """As the threaded client's ``tick_history``, as an async iterator."""
        pager = tick_pager(account_id, symbol_id, quote_type, from_ms, to_ms, window_ms=window_ms)
        return _async_pages(self._history_request, pager, timeout)

    def deal_history(
        self,
        account_id: int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = ACCOUNT_HISTORY_WINDOW_MS,
        timeout: float | None = None,
    ) -> AsyncIterator[Deal]:
        """As the threaded client's ``deal_history``, as an async iterator."""
        pager = deal_pager(account_id, from_ms, to_ms, window_ms=window_ms)
        return _async_pages(self._history_request, pager, timeout)

    def order_history(
        self,
        account_id: int,
        from_ms: int,
        to_ms: int,
        *,
        window_ms: int = ACCOUNT_HISTORY_WINDOW_MS,
        timeout: float | None = None,
    ) -> AsyncIterator[Order]:
        """As the threaded client's ``order_history``, as an async iterator."""
        pager = order_pager(account_id, from_ms, to_ms, window_ms=window_ms)
        return _async_pages(self._history_request, pager, timeout)
