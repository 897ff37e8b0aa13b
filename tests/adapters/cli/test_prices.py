"""Prices are printed exactly as they were decoded, in JSON and in pretty lines."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from brokerwire.adapters.cli.render import json_line, pretty_line
from brokerwire.core.ctrader import PayloadType, SpotEvent
from brokerwire.core.jsonlib import convert
from brokerwire.core.tradovate import MarketData, Quote, QuoteEntries, QuoteEntry
from tests.adapters.cli.captures import ctrader_messages_capture, tradovate_events_capture
from tests.adapters.cli.helpers import json_lines, run_cli

# Five to seven significant digits, as futures and FX quote them; :g printed 21450.8, 6012.3 ...
TRADOVATE_PRICES = [21450.75, 6012.25, 1.23455, 98765.4, 1234567.0, 4521.125, 0.0001234]
TRADOVATE_SHOWN = ["21450.75", "6012.25", "1.23455", "98765.4", "1234567", "4521.125", "0.0001234"]

# (symbol id, digits, raw price in 1/100000, as shown at the symbol's digits)
CTRADER_CASES = [
    (1, 5, 108510, "1.08510"),
    (1, 5, 127034, "1.27034"),
    (3, 3, 15123400, "151.234"),
    (3, 3, 15120000, "151.200"),
    (41, 2, 265012000, "2650.12"),
    (41, 2, 265010000, "2650.10"),
    (41, 2, 123456789, "1234.56789"),  # more decimals than digits: shown, not rounded away
]


def _quote(contract_id: int, price: float) -> dict[str, Any]:
    return {
        "contractId": contract_id,
        "entries": {"Bid": {"price": price, "size": 3}, "Offer": {"price": price, "size": 5}},
    }


def _market_data(contract_id: int, price: float) -> MarketData:
    """A quote as the client decodes it from the wire."""
    return convert({"quotes": [_quote(contract_id, price)]}, MarketData)


@pytest.mark.parametrize(
    ("price", "shown"), list(zip(TRADOVATE_PRICES, TRADOVATE_SHOWN, strict=True))
)
def test_tradovate_prices(price: float, shown: str) -> None:
    event = _market_data(7, price)
    assert pretty_line(event) == f"quote 7  bid {shown} x 3  ask {shown} x 5"
    assert json.loads(json_line(event))["quotes"][0]["entries"]["Bid"]["price"] == price
    assert f'"price":{price!r}' in json_line(event)


@pytest.mark.parametrize(("symbol_id", "digits", "raw", "shown"), CTRADER_CASES)
def test_ctrader_prices_at_the_symbols_digits(
    symbol_id: int, digits: int, raw: int, shown: str
) -> None:
    payload = {"ctidTraderAccountId": 7, "symbolId": symbol_id, "bid": raw, "ask": str(raw)}
    event = convert(payload, SpotEvent, numeric_strings=True)  # as the client decodes it
    assert pretty_line(event, {symbol_id: digits}) == f"spot {symbol_id}  bid {shown}  ask {shown}"
    assert json.loads(json_line(event))["bid"] == raw


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(108510, "1.0851"), (265012000, "2650.12"), (100000, "1"), (5, "0.00005"), (-25, "-0.00025")],
)
def test_ctrader_prices_of_a_symbol_whose_digits_are_unknown(raw: int, shown: str) -> None:
    """Up to five decimals, as the price needs them: exact, trailing zeros left out."""
    spot = SpotEvent(ctid_trader_account_id=7, symbol_id=9, bid=raw)
    assert pretty_line(spot) == f"spot 9  bid {shown}"


def test_huge_prices_are_exact_and_never_a_float() -> None:
    raw = 10**5000 + 12345  # beyond str(int)'s 4,300 digits and a float's range
    digits = "1" + "0" * 4995 + "12345"
    spot = pretty_line(SpotEvent(ctid_trader_account_id=7, symbol_id=1, bid=raw))
    assert spot == "spot 1  bid 1" + "0" * 4995 + ".12345"
    entries = QuoteEntries(bid=QuoteEntry(raw, 3), offer=QuoteEntry(raw, 5))
    quotes = MarketData([Quote(7, entries=entries)])
    assert f"bid {digits} x 3" in pretty_line(quotes)
    assert f'"price":{digits},' in json_line(quotes)


def test_decode_prints_tradovate_prices_exactly() -> None:
    capture = tradovate_events_capture(
        [("md", {"quotes": [_quote(3570920, p)]}) for p in TRADOVATE_PRICES]
    )
    pretty = run_cli("decode", "tradovate", "--pretty", "-", stdin=capture)
    assert pretty.returncode == 0, pretty.stderr
    assert pretty.stdout.splitlines()[1:] == [
        f"quote 3570920  bid {s} x 3  ask {s} x 5" for s in TRADOVATE_SHOWN
    ]
    plain = run_cli("decode", "tradovate", "-", stdin=capture)
    prices = [r["quotes"][0]["entries"]["Bid"]["price"] for r in json_lines(plain.stdout)[1:]]
    assert prices == TRADOVATE_PRICES


def test_decode_shows_ctrader_prices_at_the_digits_the_capture_gives() -> None:
    """A ProtoOASymbolByIdRes in the capture tells each symbol's digits."""
    symbols = [
        {"symbolId": s, "digits": d, "pipPosition": d - 1} for s, d in {1: 5, 3: 3, 41: 2}.items()
    ]
    messages: list[tuple[int, dict[str, Any], str | None]] = [
        (PayloadType.PROTO_OA_SYMBOL_BY_ID_RES, {"ctidTraderAccountId": 7, "symbol": symbols}, "s")
    ]
    messages += [
        (
            PayloadType.PROTO_OA_SPOT_EVENT,
            {"ctidTraderAccountId": 7, "symbolId": s, "bid": raw},
            None,
        )
        for s, _, raw, _ in CTRADER_CASES
    ]
    result = run_cli("decode", "ctrader", "--pretty", "-", stdin=ctrader_messages_capture(messages))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"spot {s}  bid {shown}" for s, _, _, shown in CTRADER_CASES
    ]


def test_stream_prints_tradovate_prices_exactly() -> None:
    """NQZ6 trades near 21450 in steps of 0.25: seven significant digits."""
    result = run_cli(
        "stream", "tradovate", "--symbol", "NQZ6", "--pretty", "--count", "30", "--rate", "300"
    )
    assert result.returncode == 0, result.stderr
    prices = re.findall(r"(?:bid|ask|trade) (\S+) x", result.stdout)
    assert len(prices) == 90
    assert all(re.fullmatch(r"\d{5}(\.25|\.5|\.75)?", p) for p in prices), prices
    assert any("." in p for p in prices)


def test_a_spot_price_that_is_not_an_integer_is_shown_as_sent() -> None:
    """A price in digits is a number; any other is a spot the model cannot hold: it arrives
    raw, printed as sent, with the reason."""
    sent: list[Any] = ["108510", "abc", 1.5, True, "+5", []]
    messages: list[tuple[int, dict[str, Any], str | None]] = [
        (
            PayloadType.PROTO_OA_SPOT_EVENT,
            {"ctidTraderAccountId": 7, "symbolId": 1, "bid": raw},
            None,
        )
        for raw in sent
    ]
    result = run_cli("decode", "ctrader", "--pretty", "-", stdin=ctrader_messages_capture(messages))
    assert result.returncode == 0, result.stderr
    first, *raw_lines = result.stdout.splitlines()
    assert first == "spot 1  bid 1.0851"
    assert len(raw_lines) == len(sent) - 1
    for line, shown in zip(raw_lines, ['"abc"', "1.5", "true", '"+5"', "[]"], strict=True):
        assert line.startswith(
            "ServerEvent payload_type=2131 payload_type_name=PROTO_OA_SPOT_EVENT"
            f' payload={{"ctidTraderAccountId":7,"symbolId":1,"bid":{shown}}}'
            " client_msg_id=null reason="
        ), line
        assert line.endswith("at `$.bid`"), line


def test_stream_shows_ctrader_prices_at_the_digits_the_server_gives() -> None:
    """EURUSD has 5 digits: a price such as 1.08510 keeps its last zero (without the
    symbol's digits it would read 1.0851; one price in ten ends in a zero)."""
    result = run_cli(
        "stream", "ctrader", "--symbol", "EURUSD", "--pretty", "--count", "60", "--rate", "500"
    )
    assert result.returncode == 0, result.stderr
    prices = re.findall(r"(?:bid|ask) (\S+)", result.stdout)
    assert len(prices) == 120
    assert all(re.fullmatch(r"1\.\d{5}", p) for p in prices), prices
