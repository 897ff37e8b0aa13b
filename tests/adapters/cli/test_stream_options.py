"""``brokerwire stream`` options, run as a process: symbols, counting, retries, timestamps,
recording."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from brokerwire.adapters.simulators import CTraderSimulator, Fault, TradovateSimulator
from brokerwire.adapters.simulators.tradovate import CONTRACTS
from brokerwire.core.ctrader import PayloadType
from tests.adapters.cli.helpers import (
    environment,
    json_lines,
    one_error_line,
    run_cli,
    start_cli,
)

MARKET_EVENTS = {"MarketData", "SpotEvent"}
NOTICES = {"Disconnected", "Reconnected", "ReconnectFailed"}


def test_tradovate_symbol_by_contract_id() -> None:
    nq = CONTRACTS["NQZ6"]["id"]
    result = run_cli("stream", "tradovate", "--symbol", str(nq), "--count", "3", "--rate", "200")
    assert result.returncode == 0, result.stderr
    assert [r["quotes"][0]["contractId"] for r in json_lines(result.stdout)] == [nq] * 3


def test_a_tradovate_symbol_given_twice_is_subscribed_once() -> None:
    result = run_cli(
        "--log-level",
        "debug",
        "stream",
        "tradovate",
        "--symbol",
        "ESZ6",
        "--symbol",
        "ESZ6",
        "--count",
        "3",
        "--rate",
        "200",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("request TradovateCall('md/subscribeQuote') sent") == 1


def test_a_ctrader_symbol_given_twice_is_subscribed_once() -> None:
    """EURUSD by name, in another case, and by id: one subscription, one stream of spots (the
    simulator's own, here in the test's process, numbers them in their ``timestamp``)."""
    with CTraderSimulator(spot_rate=200) as sim:
        env = environment(
            CTRADER_CLIENT_ID=sim.client_id,
            CTRADER_CLIENT_SECRET=sim.client_secret,
            CTRADER_ACCESS_TOKEN=sim.access_token,
        )
        result = run_cli(
            "stream",
            "ctrader",
            "--url",
            sim.websocket_url,
            "--symbol",
            "EURUSD",
            "--symbol",
            "eurusd",
            "--symbol",
            "1",
            "--count",
            "12",
            env=env,
        )
        subscribed = sim.received[PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_REQ]
    assert result.returncode == 0, result.stderr
    assert subscribed == 1
    spots = json_lines(result.stdout)
    assert [s["timestamp"] for s in spots] == list(range(1, 13))
    assert {s["symbolId"] for s in spots} == {1}


@pytest.mark.parametrize(
    "args",
    [
        ["--url", "wss://demo.ctraderapi.com:5036", "--account", "1", "--symbol", "1"],
        ["--transport", "ws"],
        [],
    ],
)
def test_framing_is_refused_with_a_websocket(args: list[str]) -> None:
    env = environment(CTRADER_CLIENT_ID="i", CTRADER_CLIENT_SECRET="s", CTRADER_ACCESS_TOKEN="t")
    result = run_cli("stream", "ctrader", *args, "--framing", "json-stream", env=env)
    assert result.returncode == 2
    assert "--framing is for" in result.stderr.splitlines()[-1]


def test_framing_with_tcp_is_used() -> None:
    result = run_cli(
        "stream", "ctrader", "--transport", "tcp", "--framing", "json-stream", "--count", "3"
    )
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 3


def test_count_counts_market_events_not_notices_of_the_link() -> None:
    """Each connection ends after a few messages; the notices of it are printed, not counted."""
    fault = Fault.parse("close:code=4000,after=4")
    with TradovateSimulator(quote_rate=200, default_fault=fault) as sim:
        result = run_cli(
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "ESZ6",
            "--count",
            "8",
            env=environment(TRADOVATE_TOKEN=sim.token),
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    kinds = [r["type"] for r in json_lines(result.stdout)]
    assert kinds.count("MarketData") == 8
    assert kinds[-1] == "MarketData"
    assert {"Disconnected", "Reconnected"} <= set(kinds)
    assert set(kinds) <= MARKET_EVENTS | NOTICES


def test_max_retries_gives_up_with_a_clear_last_line() -> None:
    sim = TradovateSimulator(quote_rate=50)
    sim.__enter__()
    try:
        with start_cli(
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "ESZ6",
            "--max-retries",
            "2",
            env=environment(TRADOVATE_TOKEN=sim.token),
        ) as process:
            assert process.stdout is not None
            assert process.stdout.readline().startswith('{"type":"MarketData"')
            sim.__exit__(None, None, None)  # the server goes away and does not come back
            out, err = process.communicate(timeout=60)
    finally:
        sim.__exit__(None, None, None)
    assert process.returncode == 1
    kinds = [r["type"] for r in json_lines(out)]
    assert kinds[-1] == "ReconnectFailed"
    assert json_lines(out)[-1]["attempts"] == 2
    assert "Traceback" not in err
    last = err.splitlines()[-1]  # after the client's warning that the link dropped
    assert last.startswith("brokerwire stream tradovate: the connection was lost (")
    assert last.endswith(") and 2 reconnect attempts failed: giving up")


def test_max_retries_zero_does_not_reconnect() -> None:
    with (
        TradovateSimulator(
            quote_rate=200, default_fault=Fault.parse("close:code=4000,after=3")
        ) as sim,
    ):
        result = run_cli(
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "ESZ6",
            "--max-retries",
            "0",
            env=environment(TRADOVATE_TOKEN=sim.token),
            timeout=60,
        )
    assert result.returncode == 1
    records = json_lines(result.stdout)
    assert records[-1]["type"] == "Disconnected"
    assert records[-1]["reconnecting"] is False
    assert "Reconnected" not in {r["type"] for r in records}
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last == (
        "brokerwire stream tradovate: the connection was lost (simulated failure); "
        "reconnecting is off"
    )


def test_timestamps_add_the_local_receive_time() -> None:
    before = dt.datetime.now().astimezone()
    result = run_cli("stream", "ctrader", "--timestamps", "--count", "5", "--rate", "200")
    after = dt.datetime.now().astimezone()
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [list(r)[:2] for r in records] == [["type", "received_at"]] * 5
    times = [dt.datetime.fromisoformat(r["received_at"]) for r in records]
    assert all(t.tzinfo is not None for t in times)
    assert before <= times[0] <= times[-1] <= after
    assert times == sorted(times)
    plain = run_cli("stream", "ctrader", "--count", "2", "--rate", "200")
    assert all("received_at" not in r for r in json_lines(plain.stdout))


# -- recording -----------------------------------------------------------------------------------


def _market(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] in MARKET_EVENTS]


@pytest.mark.parametrize(
    ("broker", "args", "decode_args"),
    [
        ("tradovate", [], []),
        ("ctrader", ["--transport", "ws"], ["--transport", "ws"]),
        ("ctrader", ["--transport", "tcp"], ["--transport", "tcp"]),
        (
            "ctrader",
            ["--transport", "tcp", "--framing", "json-stream"],
            ["--transport", "tcp"],
        ),
    ],
)
def test_a_recorded_stream_decodes_to_the_same_events(
    tmp_path: Path, broker: str, args: list[str], decode_args: list[str]
) -> None:
    capture = tmp_path / "capture.bin"
    streamed = run_cli(
        "stream", broker, *args, "--record", str(capture), "--count", "25", "--rate", "300"
    )
    assert streamed.returncode == 0, streamed.stderr
    assert not capture.read_bytes().startswith(b"HTTP/")  # the handshake is not recorded
    decoded = run_cli("decode", broker, *decode_args, str(capture))
    assert decoded.returncode == 0, decoded.stderr
    live = _market(json_lines(streamed.stdout))
    again = _market(json_lines(decoded.stdout))
    assert len(live) == 25
    assert again[: len(live)] == live


def test_recording_a_ctrader_service_needs_an_account(tmp_path: Path) -> None:
    """Without one the command would ask for the token's accounts, and the answer carries
    the access token."""
    env = environment(CTRADER_CLIENT_ID="i", CTRADER_CLIENT_SECRET="s", CTRADER_ACCESS_TOKEN="t")
    result = run_cli(
        "stream",
        "ctrader",
        "--url",
        "tls://demo.ctraderapi.com:5036",
        "--symbol",
        "1",
        "--record",
        str(tmp_path / "capture.bin"),
        env=env,
    )
    assert result.returncode == 2
    assert "--record needs --account" in result.stderr
    assert not (tmp_path / "capture.bin").exists()


def test_a_recording_of_a_given_url_holds_no_secret(tmp_path: Path) -> None:
    secret = "s3cret-token-for-the-record"
    capture = tmp_path / "capture.bin"
    with CTraderSimulator(client_secret=secret, access_token=secret, spot_rate=200) as sim:
        env = environment(
            CTRADER_CLIENT_ID=sim.client_id,
            CTRADER_CLIENT_SECRET=secret,
            CTRADER_ACCESS_TOKEN=secret,
            CTRADER_ACCOUNT_ID=str(sim.accounts[0]),
        )
        url = sim.tcp_url
        result = run_cli(
            "stream", "ctrader", "--url", url, "--symbol", "EURUSD", "--count", "3", "--record",
            str(capture), env=env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert capture.stat().st_size > 0
    assert secret.encode() not in capture.read_bytes()


def test_an_unwritable_record_file() -> None:
    result = run_cli("stream", "ctrader", "--record", "/nonexistent-dir/capture.bin")
    assert result.returncode == 1
    assert "cannot write /nonexistent-dir/capture.bin" in one_error_line(result)


def test_max_retries_counts_attempts_in_a_row() -> None:
    """A link that comes back resets the count: one retry at a time is enough to go on."""
    fault = Fault.parse("close:code=4000,after=4")
    with TradovateSimulator(quote_rate=200, default_fault=fault) as sim:
        result = run_cli(
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "ESZ6",
            "--max-retries",
            "1",
            "--count",
            "8",
            env=environment(TRADOVATE_TOKEN=sim.token),
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    kinds = [r["type"] for r in json_lines(result.stdout)]
    assert kinds.count("Reconnected") >= 2
    assert kinds.count("MarketData") == 8


def test_a_recording_keeps_the_first_connection_only(tmp_path: Path) -> None:
    """A reconnect opens a new stream with a handshake of its own: it is not appended."""
    capture = tmp_path / "capture.bin"
    with TradovateSimulator(quote_rate=200, default_fault=Fault.parse("close:after=6")) as sim:
        streamed = run_cli(
            "stream", "tradovate", "--url", sim.url, "--symbol", "ESZ6", "--count", "12",
            "--record", str(capture), env=environment(TRADOVATE_TOKEN=sim.token), timeout=60,
        )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    live = json_lines(streamed.stdout)
    kinds = [r["type"] for r in live]
    first_connection = _market(live[: kinds.index("Disconnected")])
    decoded = run_cli("decode", "tradovate", str(capture))
    assert decoded.returncode == 0, decoded.stderr
    records = json_lines(decoded.stdout)
    assert _market(records) == first_connection
    assert records[-1]["type"] == "Closed"
