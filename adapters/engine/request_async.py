"""``request_async`` of each broker's client, written once for both adapters.

A client's ``request_async`` builds the same call as its ``request`` and hands it to the
adapter's ``_submit``, which sends it and returns a future of its outcome: a
``concurrent.futures.Future`` in the threaded adapter, an ``asyncio.Future`` in the asyncio one.
``F`` is that future's type; a class that uses these must define ``_submit`` (the type checker
holds it to that through the ``self`` annotation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from brokerwire.core.tradovate.codec import Body, Query

from .ctrader import CTraderCall
from .tradovate import TradovateCall

__all__ = ["CTraderRequestAsync", "TradovateRequestAsync"]

F = TypeVar("F")
F_co = TypeVar("F_co", covariant=True)
C_contra = TypeVar("C_contra", contravariant=True)


class _Submits(Protocol[C_contra, F_co]):
    """An adapter's client: sends a call now and returns a future of its outcome."""

    def _submit(self, call: C_contra, /) -> F_co: ...


class TradovateRequestAsync:
    """Tradovate's ``request_async``."""

    def request_async(
        self: _Submits[TradovateCall, F],
        endpoint: str,
        query: Query = None,
        body: Body = None,
        *,
        timeout: float | None = None,
    ) -> F:
        """Send now, take the outcome later: a future of what ``request(...)`` gives (or of
        its RequestError)."""
        return self._submit(TradovateCall(endpoint, query, body, timeout))


class CTraderRequestAsync:
    """cTrader's ``request_async``."""

    def request_async(
        self: _Submits[CTraderCall, F],
        payload_type: int,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        response_type: int | None = None,
    ) -> F:
        """Send now, take the outcome later: a future of what ``request(...)`` gives (or of
        its RequestError)."""
        return self._submit(CTraderCall(payload_type, payload, timeout, response_type))
