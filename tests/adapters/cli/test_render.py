"""How events become JSON lines and pretty lines."""

from __future__ import annotations

import enum
import io
import json

from brokerwire.adapters.cli._common import Output
from brokerwire.adapters.cli.render import event_record, json_line, pretty_line
from brokerwire.adapters.events import Disconnected, Reconnected, UnknownOrder
from brokerwire.core.ctrader import Response, SpotEvent
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.tradovate import EntityChanged, MarketData, Shutdown
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
    quotes = MarketData(
        [
            {
                "contractId": 7,
                "entries": {"Bid": {"price": 10.25, "size": 3}, "Trade": {"price": 10}},
            }
        ],
        [{"contractId": 7}],
        [],
    )
    assert pretty_line(quotes) == "quote 7  bid 10.25 x 3  trade 10; dom 7"
    assert pretty_line(MarketData([], [], [])) == "market data (empty)"
    assert pretty_line(SpotEvent({"symbolId": 1, "bid": 108512, "ask": "108520"})) == (
        "spot 1  bid 1.08512  ask 1.0852"
    )
    assert pretty_line(SpotEvent({"symbolId": 1, "ask": 100000})) == "spot 1  ask 1"
    assert pretty_line(Disconnected(None, "", None, (), False)) == "disconnected: code None"
    assert pretty_line(Disconnected(4000, "bye", None, (), True)) == (
        "disconnected: bye, reconnecting"
    )
    assert pretty_line(Reconnected(3, 2)) == (
        "reconnected after 3 attempt(s), 2 subscription(s) restored"
    )


def test_pretty_quotes_in_the_wrong_shape_print_what_can_be_read() -> None:
    """A server's malformed quote must not stop the stream's printing (it used to raise)."""
    quotes = MarketData(
        [
            {"contractId": 7, "entries": [1]},
            {
                "contractId": 8,
                "entries": {"Bid": {"price": "x"}, "Offer": {"price": 2, "size": []}},
            },
            5,
        ],
        [],
        [],
    )
    assert pretty_line(quotes) == "quote 7; quote 8  ask 2"


def test_pretty_generic_lines_are_cut_short() -> None:
    assert (
        pretty_line(Shutdown("Maintenance", None)) == "Shutdown reason_code=Maintenance reason=null"
    )
    long = pretty_line(Shutdown("x" * 500, "r"))
    assert long.startswith("Shutdown reason_code=xxx")
    assert "x..." in long
    assert long.endswith(" reason=r")
    assert len(long) < 200


def test_a_lone_surrogate_from_the_network_is_printed_escaped() -> None:
    """json accepts "\\ud83d" (UTF-16 text cut inside a pair); neither form may crash on it."""
    event = EntityChanged("cut \ud83d", "Updated", {"note": "cut \ud83d"})
    line = json_line(event)
    assert "\\ud83d" in line
    assert json.loads(line)["entity"] == {"note": "cut \ud83d"}
    raw = io.BytesIO()
    out = Output(io.TextIOWrapper(raw, encoding="utf-8", errors="strict"))
    out.line(pretty_line(event))
    out.line("next")
    assert raw.getvalue().decode() == (
        "EntityChanged entity_type=cut \\ud83d event_type=Updated"
        ' entity={"note":"cut \\ud83d"}\nnext\n'
    )
