"""cTrader's integer encodings turned into real units, and back.

Every function accepts the raw value as a number or as a numeric string, since 64-bit values
may come either way, and raises ``ValueError`` for a value it cannot convert: not an integer, or
beyond a float's range (``TypeError`` for a bool).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

__all__ = [
    "MAX_MONEY_DIGITS",
    "PRICE_SCALE",
    "Bar",
    "Tick",
    "decode_tick_data",
    "decode_trendbar",
    "money",
    "price",
    "to_money",
    "to_raw_price",
    "to_raw_volume",
    "volume",
]

PRICE_SCALE = 100_000  # prices are sent in 1/100000 of a unit
VOLUME_SCALE = 100  # volumes are sent in cents of a unit


MAX_MONEY_DIGITS = 30  # far beyond any currency; 10**digits of a hostile value costs memory


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a bool")
    try:
        return int(value)
    except OverflowError:  # an infinite float
        raise ValueError(f"{value!r} is not an integer") from None


def _scaled(raw: int, scale: float) -> float:
    """``raw / scale``, or ``ValueError`` when the result is beyond a float's range."""
    try:
        return raw / scale
    except OverflowError:
        bits = raw.bit_length()
        raise ValueError(f"an integer of {bits} bits is beyond a float's range") from None


def price(raw: int | str) -> float:
    """A spot, trendbar or relative SL/TP price: 123000 -> 1.23."""
    return _scaled(_int(raw), PRICE_SCALE)


def to_raw_price(value: float) -> int:
    """A price in the protocol's 1/100000 units: 1.23 -> 123000."""
    return round(value * PRICE_SCALE)


def volume(raw: int | str) -> float:
    """A volume in units: 1000 (cents) -> 10.0."""
    return _scaled(_int(raw), VOLUME_SCALE)


def to_raw_volume(units: float) -> int:
    """A volume in the protocol's cents: 10.0 -> 1000."""
    return round(units * VOLUME_SCALE)


def money(raw: int | str, money_digits: int | str | None) -> float:
    """A money amount scaled by 10**moneyDigits: money(123456, 2) -> 1234.56.

    A missing ``moneyDigits`` is taken as 2, as established clients do; one outside 0 to
    ``MAX_MONEY_DIGITS`` raises ``ValueError``.
    """
    digits = 2 if money_digits is None else _int(money_digits)
    if not 0 <= digits <= MAX_MONEY_DIGITS:
        raise ValueError(f"moneyDigits {digits} is outside 0 to {MAX_MONEY_DIGITS}")
    return _scaled(_int(raw), float(10**digits))


def to_money(value: float, money_digits: int) -> int:
    """A money amount in the protocol's scaled integer."""
    return round(value * float(10**money_digits))


class Bar(NamedTuple):
    """A trendbar in real prices; ``time`` is the open tick's Unix time in minutes."""

    time: int
    open: float
    high: float
    low: float
    close: float | None
    volume: int


def decode_trendbar(bar: Mapping[str, Any]) -> Bar:
    """Prices of a ProtoOATrendbar: open, high and close are low plus deltaOpen, deltaHigh and
    deltaClose.

    Live trendbars inside spot events have no ``deltaClose``: ``close`` is then None (the
    current bid is the close).
    """
    low = _int(bar.get("low", 0))
    delta_close = bar.get("deltaClose")
    return Bar(
        time=_int(bar.get("utcTimestampInMinutes", 0)),
        open=_scaled(low + _int(bar.get("deltaOpen", 0)), PRICE_SCALE),
        high=_scaled(low + _int(bar.get("deltaHigh", 0)), PRICE_SCALE),
        low=_scaled(low, PRICE_SCALE),
        close=_scaled(low + _int(delta_close), PRICE_SCALE) if delta_close is not None else None,
        volume=_int(bar.get("volume", 0)),
    )


class Tick(NamedTuple):
    """One tick: Unix time in milliseconds and a real price."""

    timestamp: int
    price: float


def decode_tick_data(tick_data: Iterable[Mapping[str, Any]]) -> list[Tick]:
    """ProtoOAGetTickDataRes.tickData: the first tick is absolute, each next one a delta.

    Both the time (milliseconds) and the price (1/100000 units) of every tick after the first
    are differences from the tick before it.
    """
    ticks: list[Tick] = []
    timestamp = 0
    raw_price = 0
    for i, tick in enumerate(tick_data):
        if i == 0:
            timestamp, raw_price = _int(tick["timestamp"]), _int(tick["tick"])
        else:
            timestamp += _int(tick["timestamp"])
            raw_price += _int(tick["tick"])
        ticks.append(Tick(timestamp, _scaled(raw_price, PRICE_SCALE)))
    return ticks
