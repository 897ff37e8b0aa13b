"""Chart history as an iterator: the ``chart_history`` method of the Tradovate clients.

The plan (which range to ask for next, each bar once) is the core's ``ChartHistory``. Each of
its requests is an ``md/getChart`` whose packets the client keeps to itself (``ChartCapture``)
until the history's end-of-history marker; the live subscription that comes with every chart
request is then cancelled.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from brokerwire.core.tradovate import Bar, BarPacket, ChartPacket, EndOfHistory
from brokerwire.core.tradovate.history import ChartHistory
from brokerwire.core.tradovate.rules import error_text_refusal

from ..errors import ConnectionLost
from .tradovate import TradovateCall

__all__ = ["AsyncTradovateHistory", "TradovateHistory"]


def _description(underlying_type: str, element_size: int, element_size_unit: str) -> dict[str, Any]:
    return {
        "underlyingType": underlying_type,
        "elementSize": element_size,
        "elementSizeUnit": element_size_unit,
        "withHistogram": False,
    }


def _lost(answer: Any) -> ConnectionLost:
    return ConnectionLost(
        "the connection ended before the chart history was complete",
        request="md/getChart",
        request_id=None,
        outcome_unknown=False,
    )


def _realtime_id(answer: Any) -> int | None:
    """The live subscription a ``md/getChart`` answer opened alongside the history."""
    ident = answer.get("realtimeId") if isinstance(answer, dict) else None
    return ident if type(ident) is int else None


def _take(packet: ChartPacket | None, answer: Any, bars: list[Bar]) -> bool:
    """Add a packet of the history to ``bars``; True at its end-of-history marker."""
    if packet is None:
        raise _lost(answer)
    historical = answer.get("historicalId") if isinstance(answer, dict) else None
    if packet.id != historical:
        return False  # a live packet, before the live subscription is cancelled
    if type(packet) is BarPacket:
        bars.extend(packet.bars)
    return type(packet) is EndOfHistory


class TradovateHistory:
    """``chart_history`` of the threaded client: an iterator over the bars of a range."""

    def chart_history(
        self,
        symbol: str | int,
        start: datetime,
        end: datetime,
        *,
        underlying_type: str = "MinuteBar",
        element_size: int = 1,
        element_size_unit: str = "UnderlyingUnits",
        timeout: float = 30.0,
    ) -> Iterator[Bar]:
        """The bars of ``symbol`` from ``start`` to ``end`` (aware datetimes), each once,
        oldest first, however many requests the range takes. ``timeout`` bounds each request
        and the wait for its end-of-history marker (``TimeoutError``); a link that goes down
        meanwhile raises ``ConnectionLost``. Nothing is sent until the iteration starts."""
        plan = ChartHistory(
            symbol, _description(underlying_type, element_size, element_size_unit), start, end
        )
        return self._chart_pages(plan, timeout)

    def _chart_pages(self, plan: ChartHistory, timeout: float) -> Iterator[Bar]:
        engine = getattr(self, "_engine")  # noqa: B009 - the client's, set by the adapter
        ask: Callable[[Any], Any] = getattr(self, "_ask")  # noqa: B009
        while (body := plan.next_request()) is not None:
            packets: queue.Queue[ChartPacket | None] = queue.Queue()
            call = _chart_call(body, timeout, partial(engine.charts.capture, sink=packets.put))
            answer = ask(call)
            bars: list[Bar] = []
            try:
                while not _take(_next(packets, timeout), answer, bars):
                    pass
            finally:
                self._end_chart(engine, answer, timeout)
            plan.take(bars)
        yield from plan.bars()

    def _end_chart(self, engine: Any, answer: Any, timeout: float) -> None:
        cancel: Callable[..., Any] = getattr(self, "cancel_chart")  # noqa: B009
        try:
            if (realtime := _realtime_id(answer)) is not None:
                cancel(realtime, timeout=timeout)
        finally:
            engine.charts.release(answer)


def _next(packets: queue.Queue[ChartPacket | None], timeout: float) -> ChartPacket | None:
    try:
        return packets.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"no end of chart history within {timeout:g} s") from None


def _chart_call(
    body: dict[str, Any], timeout: float, on_answer: Callable[[Any], None]
) -> TradovateCall:
    return TradovateCall("md/getChart", None, body, timeout, error_text_refusal, on_answer)


class AsyncTradovateHistory:
    """``chart_history`` of the asyncio client: an async iterator over the bars of a range."""

    def chart_history(
        self,
        symbol: str | int,
        start: datetime,
        end: datetime,
        *,
        underlying_type: str = "MinuteBar",
        element_size: int = 1,
        element_size_unit: str = "UnderlyingUnits",
        timeout: float = 30.0,
    ) -> AsyncIterator[Bar]:
        """As the threaded client's ``chart_history``, as an async iterator. A bad range
        raises ``LocalProtocolError`` at the call, before any iteration."""
        plan = ChartHistory(
            symbol, _description(underlying_type, element_size, element_size_unit), start, end
        )
        return self._chart_pages(plan, timeout)

    async def _chart_pages(self, plan: ChartHistory, timeout: float) -> AsyncIterator[Bar]:
        engine = getattr(self, "_engine")  # noqa: B009
        ask: Callable[[Any], Awaitable[Any]] = getattr(self, "_ask")  # noqa: B009
        cancel: Callable[..., Awaitable[Any]] = getattr(self, "cancel_chart")  # noqa: B009
        while (body := plan.next_request()) is not None:
            packets: asyncio.Queue[ChartPacket | None] = asyncio.Queue()
            call = _chart_call(
                body, timeout, partial(engine.charts.capture, sink=packets.put_nowait)
            )
            answer = await ask(call)
            bars: list[Bar] = []
            try:
                while not _take(await _next_async(packets, timeout), answer, bars):
                    pass
            finally:
                try:
                    if (realtime := _realtime_id(answer)) is not None:
                        await cancel(realtime, timeout=timeout)
                finally:
                    engine.charts.release(answer)
            plan.take(bars)
        for bar in plan.bars():
            yield bar


async def _next_async(
    packets: asyncio.Queue[ChartPacket | None], timeout: float
) -> ChartPacket | None:
    try:
        return await asyncio.wait_for(packets.get(), timeout)
    except TimeoutError:
        raise TimeoutError(f"no end of chart history within {timeout:g} s") from None
