"""The units helpers on the encodings the .proto comments document."""

from __future__ import annotations

import pytest

from brokerwire.core.ctrader.units import (
    Bar,
    Tick,
    decode_tick_data,
    decode_trendbar,
    money,
    price,
    to_money,
    to_raw_price,
    to_raw_volume,
    volume,
)


def test_prices_in_hundred_thousandths() -> None:
    assert price(123000) == 1.23
    assert price(53423782) == 534.23782
    assert price("108512") == 1.08512
    assert to_raw_price(1.08512) == 108512
    assert to_raw_price(534.23782) == 53423782


def test_volumes_in_cents() -> None:
    assert volume(1000) == 10.0
    assert volume("100000") == 1000.0
    assert to_raw_volume(0.01 * 1000) == 1000


def test_money_digits() -> None:
    assert money(123456, 2) == 1234.56
    assert money("1050000000", 8) == 10.5
    assert money(500, None) == 5.0, "missing moneyDigits is taken as 2"
    assert to_money(10.5, 8) == 1050000000


def test_trendbar_deltas() -> None:
    bar = {
        "volume": 120,
        "period": 1,
        "low": 108000,
        "deltaOpen": 12,
        "deltaHigh": 40,
        "deltaClose": 25,
        "utcTimestampInMinutes": 29000000,
    }
    assert decode_trendbar(bar) == Bar(29000000, 1.08012, 1.0804, 1.08, 1.08025, 120)
    live = {"volume": 3, "low": "108000", "deltaOpen": "5", "deltaHigh": "9"}
    assert decode_trendbar(live).close is None


def test_tick_data_deltas() -> None:
    ticks = [
        {"timestamp": 1700000000000, "tick": 108500},
        {"timestamp": -250, "tick": 3},
        {"timestamp": -100, "tick": -5},
    ]
    assert decode_tick_data(ticks) == [
        Tick(1700000000000, 1.085),
        Tick(1699999999750, 1.08503),
        Tick(1699999999650, 1.08498),
    ]
    assert decode_tick_data([]) == []


def test_bools_are_not_numbers() -> None:
    with pytest.raises(TypeError):
        price(True)
