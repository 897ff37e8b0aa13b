"""Real units on the generated cTrader models: prices, volumes, money, trendbars, tick data."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from brokerwire.core.ctrader import models, units
from brokerwire.core.ctrader._model_units import MoneyDigits, VolumeInCents


def _structs() -> list[Any]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, models.OpenApiModel)
    ]


def _wire_names(cls: Any) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(cls)}


def test_every_struct_with_money_digits_converts_money() -> None:
    for cls in _structs():
        assert issubclass(cls, MoneyDigits) is ("moneyDigits" in _wire_names(cls)), cls


def test_money_is_an_exact_decimal_scaled_by_money_digits() -> None:
    trader = models.Trader(
        ctid_trader_account_id=1, balance=10053099944, deposit_asset_id=2, money_digits=8
    )
    assert trader.money(trader.balance) == Decimal("100.53099944")
    assert str(trader.money(-5)) == "-5E-8"
    assert trader.money(trader.manager_bonus) is None
    huge = 2**80 + 1  # beyond a double: float division would round it
    assert trader.money(huge) == Decimal(f"{huge}e-8")
    assert str(_deal(money_digits=None).money(12345)) == "123.45"  # 2 when absent
    assert str(_deal(money_digits=0).money(7)) == "7"


@pytest.mark.parametrize("digits", [-1, units.MAX_MONEY_DIGITS + 1, 10**9])
def test_a_hostile_money_digits_is_refused(digits: int) -> None:
    with pytest.raises(ValueError, match="moneyDigits"):
        _deal(money_digits=digits).money(1)


def _deal(money_digits: int | None) -> models.Deal:
    return models.Deal(
        deal_id=1,
        order_id=2,
        position_id=3,
        volume=100_000,
        filled_volume=50_000,
        symbol_id=1,
        create_timestamp=0,
        execution_timestamp=0,
        trade_side=models.TradeSide.BUY,
        deal_status=models.DealStatus.FILLED,
        money_digits=money_digits,
    )


def test_volumes_in_cents_are_given_in_units() -> None:
    order = models.NewOrderReq(
        ctid_trader_account_id=1,
        symbol_id=1,
        order_type=models.OrderType.MARKET,
        trade_side=models.TradeSide.BUY,
        volume=100_000,
    )
    assert order.volume_in_units == 1000.0
    assert _deal(2).volume_in_units == 1000.0
    assert models.AmendOrderReq(ctid_trader_account_id=1, order_id=2).volume_in_units is None
    assert not issubclass(models.Trendbar, VolumeInCents)  # a trendbar's volume is in ticks
    assert not issubclass(models.ExpectedMarginReq, VolumeInCents)  # a list of volumes


def test_spot_and_depth_prices_are_in_real_units() -> None:
    spot = models.SpotEvent(ctid_trader_account_id=1, symbol_id=1, bid=123000, ask=53423782)
    assert (spot.bid_price, spot.ask_price, spot.session_close_price) == (1.23, 534.23782, None)
    quote = models.DepthQuote(id=1, size=1000, bid=110005)
    assert (quote.bid_price, quote.ask_price, quote.size_in_units) == (1.10005, None, 10.0)


def test_trendbar_prices_from_low_and_deltas() -> None:
    bar = models.Trendbar(volume=5, low=110000, delta_open=10, delta_high=50, delta_close=20)
    assert (bar.open_price, bar.high_price, bar.low_price, bar.close_price) == (
        1.1001,
        1.1005,
        1.1,
        1.1002,
    )
    live = models.Trendbar(volume=1, low=110000, delta_open=3, delta_high=7)
    assert live.close_price is None


def test_trendbar_prices_agree_with_the_dict_helper() -> None:
    rng = random.Random(27)
    for _ in range(200):
        bar = models.Trendbar(
            volume=rng.randrange(10**6),
            low=rng.choice([None, rng.randrange(10**9)]),
            delta_open=rng.choice([None, rng.randrange(10**5)]),
            delta_high=rng.choice([None, rng.randrange(10**5)]),
            delta_close=rng.choice([None, rng.randrange(10**5)]),
            utc_timestamp_in_minutes=rng.randrange(2**31),
        )
        expected = units.decode_trendbar(msgspec.to_builtins(bar))
        assert (bar.open_price, bar.high_price, bar.low_price, bar.close_price) == (
            expected.open,
            expected.high,
            expected.low,
            expected.close,
        )


def test_tick_data_deltas_become_absolute_ticks() -> None:
    response = models.GetTickDataRes(
        ctid_trader_account_id=1,
        has_more=False,
        tick_data=[
            models.TickData(timestamp=1_700_000_000_000, tick=110000),
            models.TickData(timestamp=-5, tick=3),
            models.TickData(timestamp=-7, tick=-10),
        ],
    )
    assert response.ticks() == [
        units.Tick(1_700_000_000_000, 1.1),
        units.Tick(1_699_999_999_995, 1.10003),
        units.Tick(1_699_999_999_988, 1.09993),
    ]
    as_dicts = msgspec.to_builtins(response)["tickData"]
    assert response.ticks() == units.decode_tick_data(as_dicts)
    assert models.GetTickDataRes(ctid_trader_account_id=1, has_more=True).ticks() == []
