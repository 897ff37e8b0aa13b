"""The subscriptions a Tradovate connection holds, so they can be restored after a reconnect.

When a WebSocket closes the server forgets every subscription, and the protocol has no sequence
numbers to replay from. So the registry remembers each subscribing request once it succeeds, and
forgets it when the client unsubscribes (as soon as the request is sent: a link that drops
before the answer must not bring the subscription back). After a reconnect and ``authorize``,
``replay()`` gives the requests to send again, in the order they were first made.

The registry outlives a connection: hand the same object to the next ``TradovateConnection``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..jsonlib import dumps_str
from .codec import Body, Query

__all__ = ["Subscription", "SubscriptionRegistry"]

# Subscribing endpoint (lower case) -> the kind it is filed under, and the endpoint that ends it.
_SUBSCRIBE = {
    "md/subscribequote": "quote",
    "md/subscribedom": "dom",
    "md/subscribehistogram": "histogram",
    "md/getchart": "chart",
    "user/syncrequest": "sync",
}
_UNSUBSCRIBE = {
    "md/unsubscribequote": "quote",
    "md/unsubscribedom": "dom",
    "md/unsubscribehistogram": "histogram",
}


class Subscription(NamedTuple):
    """A live subscription: the request that made it, and for charts the ids it was given."""

    kind: str
    endpoint: str
    query: Query
    body: Body
    realtime_id: int | None = None
    historical_id: int | None = None


def _symbol_key(body: Body) -> str:
    if isinstance(body, Mapping):
        return str(body.get("symbol"))
    return dumps_str(body) if body is not None else ""


def _full_key(query: Query, body: Body) -> str:
    return dumps_str([query if not isinstance(query, Mapping) else dict(query), body])


class SubscriptionRegistry:
    """Which subscriptions are live, keyed so that subscribing twice keeps one entry."""

    def __init__(self) -> None:
        self._live: dict[tuple[str, str], Subscription] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __repr__(self) -> str:
        return f"<SubscriptionRegistry {len(self._live)} live>"

    @property
    def live(self) -> list[Subscription]:
        """Every live subscription, oldest first."""
        return list(self._live.values())

    @staticmethod
    def is_subscription(endpoint: str) -> bool:
        return endpoint.lower() in _SUBSCRIBE

    def request_sent(self, endpoint: str, query: Query, body: Body) -> None:
        """Note a request as it goes out: unsubscribing requests forget their subscription."""
        name = endpoint.lower()
        kind = _UNSUBSCRIBE.get(name)
        if kind is not None:
            self._live.pop((kind, _symbol_key(body)), None)
        elif name == "md/cancelchart" and isinstance(body, Mapping):
            chart_id = body.get("subscriptionId")
            for key, sub in list(self._live.items()):
                if sub.kind == "chart" and chart_id in (sub.realtime_id, sub.historical_id):
                    del self._live[key]

    def request_succeeded(self, endpoint: str, query: Query, body: Body, data: Any) -> None:
        """Note a successful answer: subscribing requests become live subscriptions."""
        kind = _SUBSCRIBE.get(endpoint.lower())
        if kind is None:
            return
        if isinstance(data, Mapping) and data.get("errorText"):
            return  # an s:200 answer that still refused, e.g. errorCode UnknownSymbol
        if kind == "chart":
            ids = data if isinstance(data, Mapping) else {}
            key = (kind, _full_key(query, body))
            entry = Subscription(
                kind, endpoint, query, body, ids.get("realtimeId"), ids.get("historicalId")
            )
        elif kind == "sync":
            key = (kind, "")
            entry = Subscription(kind, endpoint, query, body)
        else:
            key = (kind, _symbol_key(body))
            entry = Subscription(kind, endpoint, query, body)
        # Assigning to an existing key keeps its place in the order (and refreshes chart ids).
        self._live[key] = entry

    def replay(self) -> list[tuple[str, Query, Body]]:
        """The requests that restore every live subscription, oldest first."""
        return [(sub.endpoint, sub.query, sub.body) for sub in self._live.values()]

    def clear(self) -> None:
        self._live.clear()
