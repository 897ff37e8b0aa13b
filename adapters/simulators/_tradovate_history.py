"""The Tradovate simulator's chart history: which minute bars a ``md/getChart`` request gets.

Like the service, one request's batch is capped: a range longer than ``batch`` bars gets the
newest ``batch`` of them, and the client asks again for what lies before. Bars are one a
minute, and a bar's price depends on its minute alone, so that two requests that overlap give
the same bars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["history_minutes", "history_price"]

#: How many bars a request without a range gets, as the service gives by default.
DEFAULT_BARS = 50
_MINUTE = dt.timedelta(minutes=1)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _elements(time_range: dict[str, Any]) -> int | None:
    wanted = time_range.get("asMuchAsElements")
    return max(0, wanted) if type(wanted) is int else None


def history_minutes(time_range: Any, now: dt.datetime, batch: int) -> list[dt.datetime]:
    """The minutes of the bars a request's ``timeRange`` gets, oldest first: from
    ``closestTimestamp`` (else the last whole minute) back to ``asFarAsTimestamp``, at most
    ``asMuchAsElements`` and at most ``batch`` of them."""
    time_range = time_range if isinstance(time_range, dict) else {}
    closest = _time(time_range.get("closestTimestamp"))
    newest = now - _MINUTE if closest is None else min(closest, now - _MINUTE)
    newest = newest.replace(second=0, microsecond=0)
    farthest = _time(time_range.get("asFarAsTimestamp"))
    count = _elements(time_range)
    if count is None:
        count = batch if farthest is not None else DEFAULT_BARS
    count = min(count, batch)
    if farthest is not None:
        count = min(count, max(0, int((newest - farthest) / _MINUTE) + 1))
    return [newest - _MINUTE * back for back in range(count - 1, -1, -1)]


def history_price(contract_id: int, minute: dt.datetime, tick_size: float) -> float:
    """A bar's price: the same for the same minute, whichever request asks."""
    index = int(minute.timestamp() // 60)
    return round(5000 + ((index * 7 + contract_id) % 400) * tick_size, 6)
