"""``brokerwire stream``, run as a process: the embedded simulator, a given URL, the failures."""

from __future__ import annotations

import re
import signal
import socket
import ssl
import time
from pathlib import Path

import pytest
import trustme

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.adapters.simulators.tradovate import CONTRACTS
from tests.adapters.cli.helpers import (
    environment,
    first_bids,
    first_quotes,
    json_lines,
    one_error_line,
    quote_walk,
    run_cli,
    start_cli,
)

SECRET = "s3cret-value-that-must-never-show"


def test_tradovate_from_the_embedded_simulator() -> None:
    result = run_cli("stream", "tradovate", "--count", "12", "--rate", "200")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = json_lines(result.stdout)
    assert len(records) == 12
    assert {r["type"] for r in records} == {"MarketData"}
    assert quote_walk(records) == first_quotes("ESZ6", 12)  # the first twelve, in order
    quotes = [q for r in records for q in r["quotes"]]
    assert all(isinstance(q["entries"]["Bid"]["price"], float | int) for q in quotes)


@pytest.mark.parametrize("transport", ["ws", "tcp"])
def test_ctrader_from_the_embedded_simulator(transport: str) -> None:
    result = run_cli("stream", "ctrader", "--transport", transport, "--count", "9", "--rate", "200")
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert len(records) == 9
    assert {r["type"] for r in records} == {"SpotEvent"}
    assert [r["bid"] for r in records] == first_bids(1, 9)  # the first nine, in order
    assert {r["symbolId"] for r in records} == {1}  # EURUSD, the default


def test_symbols_by_name_and_by_id() -> None:
    result = run_cli(
        "stream",
        "ctrader",
        "--symbol",
        "gbpusd",
        "--symbol",
        "41",
        "--count",
        "20",
        "--rate",
        "200",
    )
    assert result.returncode == 0, result.stderr
    assert {r["symbolId"] for r in json_lines(result.stdout)} == {2, 41}


def test_pretty_lines() -> None:
    tradovate = run_cli("stream", "tradovate", "--pretty", "--count", "3", "--rate", "200")
    ctrader = run_cli("stream", "ctrader", "--pretty", "--count", "3", "--rate", "200")
    assert tradovate.returncode == ctrader.returncode == 0
    stamp = r"\d\d:\d\d:\d\d\.\d{3} "
    es_id = CONTRACTS["ESZ6"]["id"]
    for line in tradovate.stdout.splitlines():
        assert re.fullmatch(stamp + rf"quote {es_id}  bid [\d.]+ x 10  ask [\d.]+ x 12.*", line)
    for line in ctrader.stdout.splitlines():
        assert re.fullmatch(stamp + r"spot 1  bid 1\.\d+  ask 1\.\d+", line)
    assert len(tradovate.stdout.splitlines()) == len(ctrader.stdout.splitlines()) == 3


def test_duration_ends_the_stream() -> None:
    started = time.monotonic()
    result = run_cli("stream", "ctrader", "--duration", "1", "--rate", "20")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    # A second at 20 spots a second: however slow the machine, never more than that and its
    # connection notices, and the stream does not end before the second is up.
    assert 1 <= len(json_lines(result.stdout)) <= 40
    assert elapsed >= 1.0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_ends_the_stream_cleanly(signum: signal.Signals) -> None:
    with start_cli("stream", "tradovate", "--rate", "50") as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith('{"type":"MarketData"')
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert err == ""
    json_lines(first + out)  # every line written was whole


def test_a_reader_that_goes_away_ends_the_stream_quietly() -> None:
    with start_cli("stream", "ctrader", "--rate", "500") as process:
        assert process.stdout is not None
        assert process.stderr is not None
        for _ in range(3):
            assert process.stdout.readline().startswith('{"type":"SpotEvent"')
        process.stdout.close()  # as `brokerwire stream ... | head -3` does
        assert process.wait(timeout=20) == 0
        assert process.stderr.read() == ""


def test_a_given_url_with_credentials_from_the_environment() -> None:
    with TradovateSimulator(token=SECRET, quote_rate=200) as sim:
        result = run_cli(
            "--log-level",
            "debug",
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "NQZ6",
            "--count",
            "3",
            env=environment(TRADOVATE_TOKEN=SECRET),
        )
    assert result.returncode == 0, result.stderr
    assert [r["quotes"][0]["contractId"] for r in json_lines(result.stdout)] == [
        CONTRACTS["NQZ6"]["id"]
    ] * 3
    assert "md/subscribeQuote" in result.stderr  # debug logging is on...
    assert SECRET not in result.stdout + result.stderr  # ...and shows no secret


def test_ctrader_url_with_every_credential_from_the_environment() -> None:
    with CTraderSimulator(client_secret=SECRET, access_token=SECRET, spot_rate=200) as sim:
        env = environment(
            CTRADER_CLIENT_ID=sim.client_id,
            CTRADER_CLIENT_SECRET=SECRET,
            CTRADER_ACCESS_TOKEN=SECRET,
        )
        # No account given: the token's only account is used.
        result = run_cli(
            "--log-level",
            "debug",
            "stream",
            "ctrader",
            "--url",
            sim.tcp_url,
            "--symbol",
            "XAUUSD",
            "--count",
            "3",
            env=env,
        )
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    assert [(r["symbolId"], r["ctidTraderAccountId"]) for r in records] == [
        (41, sim.accounts[0])
    ] * 3
    assert "ProtoOAAccountAuthReq" in result.stderr
    assert SECRET not in result.stdout + result.stderr


# -- failures: one line on stderr, a non-zero exit code -------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}/v1/websocket"
    result = run_cli("stream", "tradovate", "--url", url, "--symbol", "ESZ6", "--token", "t")
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("brokerwire stream tradovate: cannot connect to ws://127.0.0.1:")
    assert line.endswith("the connection was refused")
    assert result.stdout == ""


def test_a_host_name_that_does_not_resolve() -> None:
    env = environment(CTRADER_CLIENT_ID="id", CTRADER_CLIENT_SECRET="s", CTRADER_ACCESS_TOKEN="t")
    url = "tls://no-such-host.invalid:5036"
    result = run_cli("stream", "ctrader", "--url", url, "--symbol", "1", env=env)
    assert result.returncode == 1
    assert "the host name could not be resolved" in one_error_line(result)


def test_a_rejected_token() -> None:
    with TradovateSimulator(token=SECRET) as sim:
        result = run_cli(
            "stream", "tradovate", "--url", sim.url, "--symbol", "ESZ6", "--token", "wrong-token"
        )
    assert result.returncode == 1
    line = one_error_line(result)
    assert line == "brokerwire stream tradovate: Tradovate refused the token: Invalid access token"


def test_a_rejected_client_secret() -> None:
    with CTraderSimulator() as sim:
        env = environment(
            CTRADER_CLIENT_ID=sim.client_id,
            CTRADER_CLIENT_SECRET="wrong-secret",
            CTRADER_ACCESS_TOKEN=sim.access_token,
        )
        result = run_cli("stream", "ctrader", "--url", sim.websocket_url, "--symbol", "1", env=env)
    assert result.returncode == 1
    assert "cTrader refused the application" in one_error_line(result)
    assert "wrong-secret" not in result.stderr


def test_an_unknown_symbol() -> None:
    with TradovateSimulator() as sim:
        result = run_cli(
            "stream", "tradovate", "--url", sim.url, "--symbol", "ZZZ9", "--token", sim.token
        )
    assert result.returncode == 1
    assert one_error_line(result).endswith("cannot subscribe to ZZZ9: Unknown symbol ZZZ9")
    named = run_cli("stream", "ctrader", "--symbol", "NOSUCH")
    assert named.returncode == 1
    assert one_error_line(named).endswith("has no symbol named 'NOSUCH'")


def _tls_simulator(ca: trustme.CA) -> TradovateSimulator:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return TradovateSimulator(ssl_context=context, quote_rate=200)


def test_a_certificate_the_system_does_not_trust(tmp_path: Path) -> None:
    ca = trustme.CA()
    with _tls_simulator(ca) as sim:
        refused = run_cli(
            "stream", "tradovate", "--url", sim.url, "--symbol", "ESZ6", "--token", sim.token
        )
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        trusted = run_cli(
            "stream",
            "tradovate",
            "--url",
            sim.url,
            "--symbol",
            "ESZ6",
            "--token",
            sim.token,
            "--ca-file",
            str(ca_file),
            "--count",
            "2",
        )
    assert refused.returncode == 1
    assert "TLS certificate verification failed" in one_error_line(refused)
    assert trusted.returncode == 0, trusted.stderr
    assert len(json_lines(trusted.stdout)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tradovate", "--url", "ws://127.0.0.1:1/"], "missing --token / TRADOVATE_TOKEN"),
        (
            ["ctrader", "--url", "tls://h:5036", "--client-id", "i"],
            "missing --client-secret / CTRADER_CLIENT_SECRET, --access-token",
        ),
        (["tradovate", "--url", "ws://h/", "--token", "t"], "name at least one --symbol"),
        (["tradovate", "--url", "ftp://h/", "--token", "t", "--symbol", "E"], "scheme"),
        (
            ["tradovate", "--url", "ws://h/", "--token", "t", "--symbol", "E", "--rate", "5"],
            "--rate",
        ),
        (["tradovate", "--count", "0"], "must be at least 1"),
        (["ctrader", "--duration", "soon"], "not a number"),
        (["ctrader", "--ca-file", "x.pem"], "--ca-file is for --url"),
    ],
)
def test_a_command_line_that_makes_no_sense(args: list[str], message: str) -> None:
    result = run_cli("stream", *args)
    assert result.returncode == 2
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_an_account_variable_that_is_not_a_number() -> None:
    result = run_cli("stream", "ctrader", env=environment(CTRADER_ACCOUNT_ID="abc"))
    assert result.returncode == 2
    assert "argument --account: not a whole number: 'abc'" in result.stderr
