"""Unit helpers mixed into the generated models (core/ctrader/models.py).

Prices travel in 1/100000 of a unit, volumes in cents of a unit, money as integers scaled by
``10**moneyDigits``; a trendbar sends its low and the other prices as deltas from it, and tick
data sends each tick as a difference from the one before. These mixins turn the raw fields into
real values: prices and volumes as floats (as the functions of ``units`` do), money as an exact
``Decimal``. Each mixin only reads attributes the generated Struct declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from .units import MAX_MONEY_DIGITS, PRICE_SCALE, VOLUME_SCALE, Tick, _scaled

__all__ = [
    "DepthQuotePrices",
    "MoneyDigits",
    "SpotPrices",
    "TickDataDeltas",
    "TrendbarPrices",
    "VolumeInCents",
]

DEFAULT_MONEY_DIGITS = 2  # what established clients assume when moneyDigits is absent


def _price(raw: int | None) -> float | None:
    return None if raw is None else _scaled(raw, PRICE_SCALE)


class MoneyDigits:
    """For entities with ``moneyDigits``: their money fields in real units."""

    __slots__ = ()
    money_digits: int | None

    def money(self, raw: int | None) -> Decimal | None:
        """``raw / 10**moneyDigits`` exactly, e.g. ``trader.money(trader.balance)``.

        None stays None; an absent ``moneyDigits`` is taken as 2; one outside 0 to
        ``MAX_MONEY_DIGITS`` raises ``ValueError``.
        """
        if raw is None:
            return None
        digits = DEFAULT_MONEY_DIGITS if self.money_digits is None else self.money_digits
        if not 0 <= digits <= MAX_MONEY_DIGITS:
            raise ValueError(f"moneyDigits {digits} is outside 0 to {MAX_MONEY_DIGITS}")
        sign, mantissa, _ = Decimal(raw).as_tuple()
        return Decimal((sign, mantissa, -digits))


class VolumeInCents:
    """For messages and entities whose ``volume`` is in cents of a unit."""

    __slots__ = ()
    volume: int | None

    @property
    def volume_in_units(self) -> float | None:
        """``volume`` in units: 1000 (cents) -> 10.0."""
        return None if self.volume is None else _scaled(self.volume, VOLUME_SCALE)


class SpotPrices:
    """For spot events: bid, ask and session close in real prices."""

    __slots__ = ()
    bid: int | None
    ask: int | None
    session_close: int | None

    @property
    def bid_price(self) -> float | None:
        """``bid`` in real units: 123000 -> 1.23."""
        return _price(self.bid)

    @property
    def ask_price(self) -> float | None:
        """``ask`` in real units."""
        return _price(self.ask)

    @property
    def session_close_price(self) -> float | None:
        """``sessionClose`` in real units."""
        return _price(self.session_close)


class DepthQuotePrices:
    """For depth quotes: the price of the side that is set, and the size in units."""

    __slots__ = ()
    bid: int | None
    ask: int | None
    size: int

    @property
    def bid_price(self) -> float | None:
        """``bid`` in real units (1/100000, as spot prices)."""
        return _price(self.bid)

    @property
    def ask_price(self) -> float | None:
        """``ask`` in real units (1/100000, as spot prices)."""
        return _price(self.ask)

    @property
    def size_in_units(self) -> float:
        """``size`` in units: 1000 (cents) -> 10.0."""
        return _scaled(self.size, VOLUME_SCALE)


class TrendbarPrices:
    """For trendbars: open, high, low and close from ``low`` and its deltas.

    An absent ``low`` or delta counts as 0, as protobuf reads it. Live trendbars inside spot
    events have no ``deltaClose``: ``close_price`` is then None (the current bid is the close).
    """

    __slots__ = ()
    low: int | None
    delta_open: int | None
    delta_high: int | None
    delta_close: int | None

    def _from_low(self, delta: int | None) -> float:
        return _scaled((self.low or 0) + (delta or 0), PRICE_SCALE)

    @property
    def low_price(self) -> float:
        """``low`` in real units."""
        return self._from_low(0)

    @property
    def open_price(self) -> float:
        """``low + deltaOpen`` in real units."""
        return self._from_low(self.delta_open)

    @property
    def high_price(self) -> float:
        """``low + deltaHigh`` in real units."""
        return self._from_low(self.delta_high)

    @property
    def close_price(self) -> float | None:
        """``low + deltaClose`` in real units, or None when ``deltaClose`` is absent."""
        return None if self.delta_close is None else self._from_low(self.delta_close)


class _RawTick(Protocol):
    """What TickDataDeltas reads of each entry (the generated ``TickData``)."""

    @property
    def timestamp(self) -> int: ...

    @property
    def tick(self) -> int: ...


class TickDataDeltas:
    """For tick-data responses: the ticks with absolute times and real prices."""

    __slots__ = ()
    tick_data: Sequence[_RawTick]

    def ticks(self) -> list[Tick]:
        """The first tick is absolute; each next one's time (ms) and price are differences."""
        ticks: list[Tick] = []
        timestamp = raw_price = 0
        for i, entry in enumerate(self.tick_data):
            timestamp = entry.timestamp if i == 0 else timestamp + entry.timestamp
            raw_price = entry.tick if i == 0 else raw_price + entry.tick
            ticks.append(Tick(timestamp, _scaled(raw_price, PRICE_SCALE)))
        return ticks
