"""Whatever a server sends, the command prints what it decoded and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from brokerwire.adapters.cli.decode import looks_like_tcp
from brokerwire.adapters.cli.render import event_record, json_line, pretty_line
from brokerwire.core import jsonlib
from brokerwire.core.ctrader import PayloadType, Response
from brokerwire.core.tradovate import (
    Chart,
    MarketData,
    Quote,
    QuoteEntries,
    QuoteEntry,
    UnknownEvent,
)
from brokerwire.core.tradovate.market import EndOfHistory
from tests.adapters.cli.captures import (
    ctrader_capture,
    ctrader_messages_capture,
    tradovate_capture,
    tradovate_events_capture,
)
from tests.adapters.cli.helpers import json_lines, one_error_line, run_cli


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


# -- rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [990, 100_000])
def test_a_value_of_any_depth_renders_without_recursion(depth: int) -> None:
    # A message the models cannot hold arrives raw, whatever its depth.
    event = UnknownEvent("x", {"entity": _nested(depth), "accessToken": "t"}, None)
    line = json_line(event)
    nested = "[" * (depth + 1) + "]" * (depth + 1)
    assert line == (
        '{"type":"UnknownEvent","kind":"x",'
        f'"data":{{"entity":{nested},"accessToken":"<redacted>"}},"message":null,"reason":null}}'
    )
    pretty = pretty_line(event)
    assert pretty.startswith('UnknownEvent kind=x data={"entity":[[[')
    assert pretty.endswith("... message=null reason=null")
    assert len(pretty) < 300


def test_a_huge_integer_prints_exactly() -> None:
    huge = (10**5000 - 1) // 9 * 7  # 5,000 sevens: int("7" * 5000) itself is refused
    event = Response("c-1", PayloadType.PROTO_OA_TRADER_RES, {"balance": -huge}, 2121)
    line = json_line(event)
    assert f'"balance":-{"7" * 5000}' in line
    assert "e+" not in line
    assert f'balance":-{"7" * 50}' in pretty_line(event)


def test_the_fast_and_the_deep_paths_write_the_same_json() -> None:
    """Ordinary events go through the JSON library; the writer for deep values agrees."""
    from brokerwire.adapters.cli._text import json_text

    events: list[Any] = [
        MarketData([Quote(1, entries=QuoteEntries(bid=QuoteEntry(1.5, 2)))]),
        Response("c", 2150, {"accessToken": "x", "n": [1, None, True, 'é"\\\n']}, 2149),
        Chart([EndOfHistory(5)]),
    ]
    for event in events:
        record = event_record(event)
        assert json_text(record) == jsonlib.dumps_str(record) == json_line(event)


def test_a_chart_end_of_history_says_so() -> None:
    """The marker is printed as the server sent it: without ``eoh`` a reader could not tell."""
    event = Chart([EndOfHistory(5)])
    assert json.loads(json_line(event)) == {"type": "Chart", "charts": [{"id": 5, "eoh": True}]}
    assert pretty_line(event) == 'Chart charts=[{"id":5,"eoh":true}]'


def test_a_chart_end_of_history_without_an_id_arrives_raw() -> None:
    data = {"charts": [{"eoh": True}]}
    event = UnknownEvent("chart", data, {"e": "chart", "d": data}, "no id")
    assert json.loads(json_line(event))["data"] == data
    assert pretty_line(event).startswith('UnknownEvent kind=chart data={"charts":[{"eoh":true}]}')


def test_payload_types_are_named() -> None:
    event = Response("c-1", 2150, {}, 2149)
    assert event_record(event) == {
        "type": "Response",
        "client_msg_id": "c-1",
        "payload_type": 2150,
        "payload_type_name": "PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES",
        "payload": {},
        "request_type": 2149,
        "request_type_name": "PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ",
    }
    assert event_record(Response("c-1", 9999, {}, 2149))["payload_type_name"] is None
    line = pretty_line(event)
    assert "payload_type=2150 payload_type_name=PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES" in line


# -- through the installed command ---------------------------------------------------------------


def test_decode_names_payload_types() -> None:
    result = run_cli("decode", "ctrader", "-", stdin=ctrader_capture("ws").data)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    spots = [r for r in records if r["type"] == "SpotEvent"]
    (answer,) = [r for r in records if r["type"] != "SpotEvent"]
    assert answer["payload_type"] == PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES
    assert answer["payload_type_name"] == "PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES"
    assert len(spots) == 40


@pytest.mark.parametrize("pretty", [[], ["--pretty"]])
def test_decode_a_deep_value(pretty: list[str]) -> None:
    """As deep as the JSON parser takes: the renderer must not be the one that gives up."""
    depth = 900
    capture = tradovate_events_capture(
        [
            ("props", {"entityType": "x", "eventType": "Updated", "entity": _nested(depth)}),
            ("md", {"quotes": [{"contractId": 1, "entries": {"Bid": {"price": 2.5}}}]}),
        ]
    )
    result = run_cli("decode", "tradovate", *pretty, "-", stdin=capture)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    # An entity type without a model: the event arrives whole, as an UnknownEvent.
    if pretty:
        assert lines[1].startswith(
            'UnknownEvent kind=props data={"entityType":"x","eventType":"Updated","entity":[[[['
        )
        assert lines[2] == "quote 1  bid 2.5"
    else:
        nested = "[" * (depth + 1) + "]" * (depth + 1)
        assert lines[1].startswith('{"type":"UnknownEvent","kind":"props","data":{')
        assert f'"data":{{"entityType":"x","eventType":"Updated","entity":{nested}}}' in lines[1]
        assert lines[1].count(nested) == 2  # in data, and in the whole message
        assert json.loads(lines[2])["type"] == "MarketData"


def test_decode_a_chart_end_of_history_without_an_id() -> None:
    capture = tradovate_events_capture([("chart", {"charts": [{"eoh": True}]})])
    for pretty in ([], ["--pretty"]):
        result = run_cli("decode", "tradovate", *pretty, "-", stdin=capture)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 2


def test_decode_a_huge_integer() -> None:
    """A 5,000-digit price: printed exactly, or refused in one line after what came before."""
    digits = "9" * 5000
    quote = {"contractId": 1, "entries": {"Bid": {"price": 2.5}}}
    capture = tradovate_events_capture([("md", {"quotes": [quote]})])
    text = '{"e":"md","d":{"quotes":[{"contractId":1,"entries":{"Bid":{"price":' + digits + "}}}]}}"
    capture += _text_frame("a[" + text + "]")
    result = run_cli("decode", "tradovate", "-", stdin=capture)
    assert "Traceback" not in result.stderr
    records = json_lines(result.stdout)
    assert records[1]["quotes"] == [quote]
    if result.returncode == 0:
        assert len(records) == 3
        assert f'"price":{digits}' in result.stdout
    else:
        assert result.returncode == 1
        assert len(records) == 2
        one_error_line(result)


def _text_frame(text: str) -> bytes:
    """One unmasked WebSocket text frame, as a server sends it."""
    payload = text.encode()
    if len(payload) < 126:
        return bytes([0x81, len(payload)]) + payload
    if len(payload) < 1 << 16:
        return bytes([0x81, 126]) + len(payload).to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + len(payload).to_bytes(8, "big") + payload


@pytest.mark.parametrize("transport", ["tcp", "tcp-json"])
def test_a_tcp_capture_decoded_as_websocket_gets_a_hint(transport: str) -> None:
    result = run_cli("decode", "ctrader", "-", stdin=ctrader_capture(transport).data)
    assert result.returncode == 1
    assert result.stdout == ""
    assert one_error_line(result).endswith(
        "(after 0 events); it looks like a TCP capture: try --transport tcp"
    )


def test_no_hint_for_what_does_not_look_like_tcp() -> None:
    garbage = run_cli("decode", "ctrader", "-", stdin=b"\xff\xfe\xfd not the protocol")
    assert garbage.returncode == 1
    assert "--transport tcp" not in one_error_line(garbage)
    capture = ctrader_messages_capture([(PayloadType.PROTO_OA_SPOT_EVENT, {"symbolId": 1}, None)])
    assert not looks_like_tcp(capture[:5])
    assert looks_like_tcp(b'\x00\x00\x00\x1f{"pa')
    assert looks_like_tcp(b'  {"pa')


# -- the belt: an error nobody foresaw ----------------------------------------------------------

_FAILING_CORE = """
import sys
from brokerwire.adapters.cli import main
from brokerwire.core.tradovate import TradovateConnection

real = TradovateConnection.receive_events
seen = 0

def receive_events(self, data, now):
    global seen
    for event in real(self, data, now):
        seen += 1
        if seen == 6:
            raise RuntimeError("a bug in the core\\nwith a second line")
        yield event

TradovateConnection.receive_events = receive_events
sys.exit(main(sys.argv[1:]))
"""

_FAILING_RENDERER = """
import sys
from brokerwire.adapters.cli import main, stream

real = stream.json_line
printed = 0

def json_line(event, received_at=None):
    global printed
    printed += 1
    if printed == 4:
        raise KeyError("a bug in the renderer")
    return real(event, received_at)

stream.json_line = json_line
sys.exit(main(sys.argv[1:]))
"""


def _run_patched(script: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """The command's ``main`` in a process of its own, with a fault put into brokerwire."""
    done = subprocess.run(  # noqa: S603 - this Python
        [sys.executable, "-c", textwrap.dedent(script), *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def test_an_unexpected_error_while_decoding_is_one_line_after_every_event() -> None:
    result = _run_patched(_FAILING_CORE, "decode", "tradovate", "-", stdin=tradovate_capture().data)
    assert result.returncode == 1
    assert len(json_lines(result.stdout)) == 5
    line = one_error_line(result)
    assert line == (
        "brokerwire decode: unexpected error (a bug in brokerwire, please report it): "
        "RuntimeError: a bug in the core with a second line"
    )


def test_an_unexpected_error_while_streaming_is_one_line_after_every_event() -> None:
    result = _run_patched(_FAILING_RENDERER, "stream", "ctrader", "--count", "10", "--rate", "200")
    assert result.returncode == 1
    assert len(json_lines(result.stdout)) == 3
    line = one_error_line(result)
    assert line == (
        "brokerwire stream ctrader: unexpected error (a bug in brokerwire, please report it): "
        "KeyError: 'a bug in the renderer'"
    )
