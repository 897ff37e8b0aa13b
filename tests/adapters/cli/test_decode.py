"""``brokerwire decode``, run as a process on captures made by the core's server roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.adapters.cli.captures import (
    QUOTES,
    SECRET,
    SPOT_TIME,
    SPOTS,
    Capture,
    ctrader_capture,
    tradovate_capture,
)
from tests.adapters.cli.helpers import json_lines, one_error_line, run_cli

CTRADER_TRANSPORTS = ["ws", "tcp", "tcp-json"]
GARBAGE = b"\xff\xfe\xfd not the protocol \x00"


def _write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    return str(path)


def _decode_ctrader(transport: str, *args: str) -> list[str]:
    return ["decode", "ctrader", "--transport", "ws" if transport == "ws" else "tcp", *args]


def test_tradovate(tmp_path: Path) -> None:
    result = run_cli("decode", "tradovate", _write(tmp_path, tradovate_capture().data))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = json_lines(result.stdout)
    assert records[0] == {"type": "Opened"}
    quotes = [r["quotes"][0] for r in records if r["type"] == "MarketData"]
    assert [q["id"] for q in quotes] == list(range(1, QUOTES + 1))
    assert quotes[3] == {
        "id": 4,
        "contractId": 3570918,
        "timestamp": "2026-11-21T10:00:00.000Z",
        "entries": {"Bid": {"price": 6001.0, "size": 4}, "Offer": {"price": 6001}},
    }
    (answer,) = [r for r in records if r["type"] == "UnmatchedResponse"]
    assert answer == {
        "type": "UnmatchedResponse",
        "request_id": 7,
        "status": 200,
        "data": {"accessToken": "<redacted>", "userId": 1},
    }
    assert {"type": "ServerHeartbeat"} in records
    assert records[-1] == {"type": "Closed", "code": 1000, "reason": "bye", "error": None}
    assert len(records) == QUOTES + 4
    assert SECRET not in result.stdout


def test_tradovate_from_standard_input_across_many_reads() -> None:
    capture = tradovate_capture(quotes=3000)
    assert len(capture.data) > 4 * 64 * 1024
    result = run_cli("decode", "tradovate", "-", stdin=capture.data)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    seqs = [r["quotes"][0]["id"] for r in records if r["type"] == "MarketData"]
    assert seqs == list(range(1, 3001))


@pytest.mark.parametrize("transport", CTRADER_TRANSPORTS)
def test_ctrader(tmp_path: Path, transport: str) -> None:
    capture = ctrader_capture(transport)
    result = run_cli(*_decode_ctrader(transport, _write(tmp_path, capture.data)))
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    spots = [r for r in records if r["type"] == "SpotEvent"]
    assert [s["timestamp"] - SPOT_TIME for s in spots] == list(range(1, SPOTS + 1))
    assert spots[0] == {
        "type": "SpotEvent",
        "ctidTraderAccountId": 44322853,
        "symbolId": 1,
        "bid": 108501,
        "timestamp": SPOT_TIME + 1,
    }
    (accounts,) = [r for r in records if r["type"] != "SpotEvent"]
    assert accounts["payload"]["accessToken"] == "<redacted>"
    assert accounts["client_msg_id"] == "x-1"
    assert records[0]["type"] == "SpotEvent"
    assert SECRET not in result.stdout


def test_pretty(tmp_path: Path) -> None:
    result = run_cli("decode", "ctrader", "--pretty", _write(tmp_path, ctrader_capture("ws").data))
    lines = result.stdout.splitlines()
    assert lines[:2] == ["spot 1  bid 1.08501", "spot 1  bid 1.08502"]
    assert lines[20].startswith("ServerEvent ")


def _captures() -> list[Any]:
    cases = [pytest.param(["decode", "tradovate"], tradovate_capture(), id="tradovate")]
    cases += [
        pytest.param(_decode_ctrader(t), ctrader_capture(t), id=f"ctrader-{t}")
        for t in CTRADER_TRANSPORTS
    ]
    return cases


@pytest.mark.parametrize(("command", "capture"), _captures())
def test_a_capture_cut_off_midway(command: list[str], capture: Capture) -> None:
    cut = capture.boundaries[9] + 5  # five bytes into the eleventh message
    result = run_cli(*command, "-", stdin=capture.data[:cut])
    assert result.returncode == 1
    assert len(json_lines(result.stdout)) == capture.events_before[9]
    line = one_error_line(result)
    assert line.startswith("brokerwire decode: standard input: the stream ended inside ")
    assert line.endswith(f"(after {capture.events_before[9]} events)")


@pytest.mark.parametrize(("command", "capture"), _captures())
def test_a_capture_corrupted_midway(command: list[str], capture: Capture) -> None:
    at = capture.boundaries[24]
    result = run_cli(*command, "-", stdin=capture.data[:at] + GARBAGE + capture.data[at:])
    assert result.returncode == 1
    records = json_lines(result.stdout)
    assert len(records) == capture.events_before[24]
    assert records[-1]["type"] in {"MarketData", "SpotEvent"}
    assert one_error_line(result).startswith("brokerwire decode: standard input: ")


def test_a_missing_file(tmp_path: Path) -> None:
    result = run_cli("decode", "tradovate", str(tmp_path / "nothing-here.bin"))
    assert result.returncode == 1
    assert one_error_line(result).endswith("No such file or directory")


def test_an_empty_capture_is_no_events() -> None:
    result = run_cli("decode", "ctrader", "--transport", "tcp", "-", stdin=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_tradovate_has_no_tcp_transport() -> None:
    result = run_cli("decode", "tradovate", "--transport", "tcp", "-")
    assert result.returncode == 2
    assert "Tradovate speaks only WebSocket" in result.stderr
