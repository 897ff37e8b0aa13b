"""How events become JSON lines and pretty lines."""

from __future__ import annotations

import enum
import io
import json

import pytest

from brokerwire.adapters.cli._common import Output
from brokerwire.adapters.cli.render import event_record, json_line, pretty_line
from brokerwire.adapters.events import Disconnected, Reconnected, UnknownOrder
from brokerwire.core.ctrader import Response, SpotEvent
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.jsonlib import ValidationError, convert
from brokerwire.core.tradovate import MarketData, Shutdown, UnknownEvent
from brokerwire.core.websocket.events import Ping


class Colour(enum.Enum):
    RED = 1


def test_nested_records_errors_and_enums_become_json() -> None:
    event = Disconnected(
        1006,
        "dropped",
        RemoteProtocolError("bad frame", close_code=1002),
        (UnknownOrder(4, "order/placeorder", {"symbol": "ESZ6", "colour": Colour.RED}),),
        True,
    )
    assert json.loads(json_line(event)) == {
        "type": "Disconnected",
        "code": 1006,
        "reason": "dropped",
        "error": "bad frame",
        "unknown_orders": [
            {
                "request_id": 4,
                "request": "order/placeorder",
                "body": {"symbol": "ESZ6", "colour": "RED"},
            }
        ],
        "reconnecting": True,
    }


def test_bytes_become_hex_and_a_record_without_fields_is_just_its_type() -> None:
    assert event_record(Ping(b"\x00\xff")) == {"type": "Ping", "payload": "00ff"}
    assert event_record(Reconnected(2, 1))["type"] == "Reconnected"


def test_credentials_are_redacted_at_any_depth() -> None:
    payload = {
        "accessToken": "a",
        "ctidTraderAccount": [{"refreshToken": "r", "id": 1}],
        "nested": {"clientSecret": "s", "password": "p", "mdAccessToken": "m"},
    }
    line = json_line(Response("bw-1", 2150, payload, 2149))
    assert json.loads(line)["payload"] == {
        "accessToken": "<redacted>",
        "ctidTraderAccount": [{"refreshToken": "<redacted>", "id": 1}],
        "nested": {
            "clientSecret": "<redacted>",
            "password": "<redacted>",
            "mdAccessToken": "<redacted>",
        },
    }
    assert "<redacted>" in pretty_line(Response("bw-1", 2150, payload, 2149))
    for secret in ('"a"', '"r"', '"s"', '"p"', '"m"'):
        assert secret not in line


def test_pretty_quotes_spots_and_links() -> None:
    entries = {"Bid": {"price": 10.25, "size": 3}, "Trade": {"price": 10}}
    quotes = convert(
        {"quotes": [{"contractId": 7, "entries": entries}], "doms": [{"contractId": 7}]},
        MarketData,
    )
    assert pretty_line(quotes) == "quote 7  bid 10.25 x 3  trade 10; dom 7"
    assert pretty_line(MarketData([], [], [])) == "market data (empty)"
    spot = {"ctidTraderAccountId": 5, "symbolId": 1, "bid": 108512, "ask": "108520"}
    assert pretty_line(convert(spot, SpotEvent, numeric_strings=True)) == (
        "spot 1  bid 1.08512  ask 1.0852"
    )
    only_ask = SpotEvent(ctid_trader_account_id=5, symbol_id=1, ask=100000)
    assert pretty_line(only_ask) == "spot 1  ask 1"
    assert pretty_line(Disconnected(None, "", None, (), False)) == "disconnected: code None"
    assert pretty_line(Disconnected(4000, "bye", None, (), True)) == (
        "disconnected: bye, reconnecting"
    )
    assert pretty_line(Reconnected(3, 2)) == (
        "reconnected after 3 attempt(s), 2 subscription(s) restored"
    )


def test_pretty_quotes_in_the_wrong_shape_print_what_can_be_read() -> None:
    """A server's malformed quote must not stop the stream's printing: it arrives raw, with
    the reason, and prints as such in either form."""
    data = {"quotes": [{"contractId": 7, "entries": {"Bid": {"price": "x"}}}, 5]}
    with pytest.raises(ValidationError) as refused:
        convert(data, MarketData)
    reason = str(refused.value)
    event = UnknownEvent("md", data, {"e": "md", "d": data}, reason)
    assert pretty_line(event) == (
        'UnknownEvent kind=md data={"quotes":[{"contractId":7,"entries":{"Bid":{"price":"x"}}},5]}'
        ' message={"e":"md","d":{"quotes":[{"contractId":7,"entries":{"Bid":{"price":"x"}}},5]}}'
        f" reason={reason}"
    )
    assert json.loads(json_line(event)) == {
        "type": "UnknownEvent",
        "kind": "md",
        "data": data,
        "message": {"e": "md", "d": data},
        "reason": reason,
    }


def test_pretty_generic_lines_are_cut_short() -> None:
    assert (
        pretty_line(Shutdown("Maintenance", None)) == "Shutdown reason_code=Maintenance reason=null"
    )
    long = pretty_line(Shutdown("x" * 500, "r"))
    assert long.startswith("Shutdown reason_code=xxx")
    assert "x..." in long
    assert long.endswith(" reason=r")
    assert len(long) < 200


def test_a_lone_surrogate_in_an_event_is_printed_escaped() -> None:
    """Python's json reads "\\ud83d" (UTF-16 text cut inside a pair) into text that cannot be
    encoded; neither form may crash on it."""
    event = UnknownEvent("cut \ud83d", {"note": "cut \ud83d"}, None)
    line = json_line(event)
    assert "\\ud83d" in line
    assert json.loads(line)["data"] == {"note": "cut \ud83d"}
    raw = io.BytesIO()
    out = Output(io.TextIOWrapper(raw, encoding="utf-8", errors="strict"))
    out.line(pretty_line(event))
    out.line("next")
    assert raw.getvalue().decode() == (
        'UnknownEvent kind=cut \\ud83d data={"note":"cut \\ud83d"} message=null reason=null\nnext\n'
    )
