"""The subscriptions of a cTrader connection, per account, to restore after a reconnect.

Spot, live-trendbar and depth-quote subscriptions are remembered once their response arrives
and forgotten as soon as the unsubscribe request is sent. After a reconnect, application auth
and account auth, ``replay(account_id)`` gives the requests that restore an account's
subscriptions: spots first, since trendbars and depth quotes require them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .codec import as_int
from .tables import PayloadType

__all__ = ["CTraderSubscriptionRegistry"]

_SPOTS = PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_REQ
_UNSPOTS = PayloadType.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ
_TRENDBARS = PayloadType.PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_REQ
_UNTRENDBARS = PayloadType.PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_REQ
_DEPTH = PayloadType.PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_REQ
_UNDEPTH = PayloadType.PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_REQ


def _symbols(payload: Mapping[str, Any]) -> list[int]:
    raw = payload.get("symbolId")
    values = raw if isinstance(raw, list) else [raw]
    return [s for s in (as_int(v) for v in values) if s is not None]


class _Account:
    def __init__(self) -> None:
        self.spots: dict[int, bool] = {}  # symbol -> subscribeToSpotTimestamp
        self.trendbars: dict[tuple[int, int], None] = {}  # (symbol, period)
        self.depth: dict[int, None] = {}

    def __bool__(self) -> bool:
        return bool(self.spots or self.trendbars or self.depth)


class CTraderSubscriptionRegistry:
    """Live subscriptions per trading account; outlives a connection."""

    def __init__(self) -> None:
        self._accounts: dict[int, _Account] = {}

    def __repr__(self) -> str:
        return f"<CTraderSubscriptionRegistry {len(self._accounts)} accounts>"

    @property
    def accounts(self) -> list[int]:
        """Accounts that have at least one live subscription."""
        return [account for account, subs in self._accounts.items() if subs]

    def spots(self, account_id: int) -> list[int]:
        subs = self._accounts.get(account_id)
        return list(subs.spots) if subs else []

    def trendbars(self, account_id: int) -> list[tuple[int, int]]:
        subs = self._accounts.get(account_id)
        return list(subs.trendbars) if subs else []

    def depth(self, account_id: int) -> list[int]:
        subs = self._accounts.get(account_id)
        return list(subs.depth) if subs else []

    def request_sent(self, payload_type: int, payload: Mapping[str, Any]) -> None:
        """Unsubscribing requests forget their subscriptions as they go out."""
        if payload_type not in (_UNSPOTS, _UNTRENDBARS, _UNDEPTH):
            return
        subs = self._accounts.get(as_int(payload.get("ctidTraderAccountId")) or -1)
        if subs is None:
            return
        if payload_type == _UNSPOTS:
            for symbol in _symbols(payload):
                subs.spots.pop(symbol, None)
        elif payload_type == _UNDEPTH:
            for symbol in _symbols(payload):
                subs.depth.pop(symbol, None)
        else:
            period = as_int(payload.get("period"))
            for symbol in _symbols(payload):
                subs.trendbars.pop((symbol, period or 0), None)

    def request_succeeded(self, payload_type: int, payload: Mapping[str, Any]) -> None:
        """Subscribing requests become live once their response arrives."""
        if payload_type not in (_SPOTS, _TRENDBARS, _DEPTH):
            return
        account = as_int(payload.get("ctidTraderAccountId"))
        if account is None:
            return
        subs = self._accounts.setdefault(account, _Account())
        if payload_type == _SPOTS:
            with_timestamp = bool(payload.get("subscribeToSpotTimestamp"))
            for symbol in _symbols(payload):
                subs.spots[symbol] = with_timestamp
        elif payload_type == _DEPTH:
            for symbol in _symbols(payload):
                subs.depth[symbol] = None
        else:
            period = as_int(payload.get("period"))
            if period is not None:
                for symbol in _symbols(payload):
                    subs.trendbars[(symbol, period)] = None

    def forget_account(self, account_id: int) -> None:
        self._accounts.pop(account_id, None)

    def replay(self, account_id: int) -> list[tuple[int, dict[str, Any]]]:
        """The requests that restore ``account_id``'s subscriptions, spots first."""
        subs = self._accounts.get(account_id)
        if not subs:
            return []
        requests: list[tuple[int, dict[str, Any]]] = []
        for with_timestamp in (False, True):
            symbols = [s for s, flag in subs.spots.items() if flag is with_timestamp]
            if symbols:
                payload: dict[str, Any] = {"ctidTraderAccountId": account_id, "symbolId": symbols}
                if with_timestamp:
                    payload["subscribeToSpotTimestamp"] = True
                requests.append((_SPOTS, payload))
        for symbol, period in subs.trendbars:
            requests.append(
                (
                    _TRENDBARS,
                    {"ctidTraderAccountId": account_id, "symbolId": symbol, "period": period},
                )
            )
        if subs.depth:
            requests.append(
                (_DEPTH, {"ctidTraderAccountId": account_id, "symbolId": list(subs.depth)})
            )
        return requests
