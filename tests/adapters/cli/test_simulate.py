"""``brokerwire simulate``, run as a process that clients connect to."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from typing import Any

import pytest

from brokerwire.adapters.events import Disconnected
from brokerwire.adapters.threaded import CTraderClient, TradovateClient
from brokerwire.core.ctrader import SpotEvent
from brokerwire.core.tradovate import MarketData
from tests.adapters.cli.helpers import (
    first_bids,
    first_quotes,
    one_error_line,
    run_cli,
    start_cli,
)


def _announcement(process: subprocess.Popen[str]) -> dict[str, str]:
    """Read what the simulator prints up to "Stop with Ctrl-C."; the ``name: value`` lines."""
    assert process.stdout is not None
    lines = []
    while (line := process.stdout.readline()) and not line.startswith("Stop with Ctrl-C."):
        lines.append(line.rstrip("\n"))
    assert line, f"the simulator ended early: {lines}"
    fields = {}
    for text in lines:
        name, sep, value = text.strip().partition(": ")
        if sep:
            fields[name] = value.strip()
    fields["first line"] = lines[0]
    return fields


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    return err


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_tradovate_serves_a_client_until_sigint() -> None:
    with start_cli("simulate", "tradovate", "--rate", "100") as process:
        announced = _announcement(process)
        url = re.fullmatch(r"Tradovate simulator listening on (\S+)", announced["first line"])
        assert url is not None
        assert announced["token"] == "sim-access-token"
        assert "ESZ6" in announced["contracts"]
        with TradovateClient(url[1], token=announced["token"]) as client:
            client.subscribe_quote("ESZ6")
            event = next(e for e in client.events(timeout=10) if isinstance(e, MarketData))
            first = event.quotes[0]
            assert first.offer is not None
            seen = [(first.contract_id, first.offer.price, first.total_volume)]
            assert seen == first_quotes("ESZ6", 1)
        assert _stop(process) == ""
    port = int(url[1].split(":")[2].split("/")[0])
    assert _refused("127.0.0.1", port)


@pytest.mark.parametrize("endpoint", ["WebSocket", "TCP"])
def test_ctrader_serves_a_client_until_sigint(endpoint: str) -> None:
    with start_cli("simulate", "ctrader", "--rate", "100") as process:
        announced = _announcement(process)
        url = announced[endpoint].split(" ")[0]
        credentials: dict[str, Any] = {
            "client_id": announced["client id"],
            "client_secret": announced["client secret"],
            "access_token": announced["access token"],
        }
        account = int(announced["accounts"])
        with CTraderClient(url, **credentials) as client:
            client.authorize_account(account)
            client.subscribe_spots(account, [2])
            event = next(e for e in client.events(timeout=10) if isinstance(e, SpotEvent))
            assert (event.symbol_id, event.bid) == (2, first_bids(2, 1)[0])
        assert _stop(process) == ""


def test_port_and_fault_options() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with start_cli(
        "simulate", "tradovate", "--port", str(port), "--fault", "close:code=4000,after=3"
    ) as process:
        announced = _announcement(process)
        url = f"ws://127.0.0.1:{port}/v1/websocket"
        assert announced["first line"] == f"Tradovate simulator listening on {url}"
        with TradovateClient(url, token=announced["token"], reconnect=False) as client:
            client.subscribe_quote("ESZ6")
            event = next(e for e in client.events(timeout=10) if isinstance(e, Disconnected))
            assert (event.code, event.reconnecting) == (4000, False)
        assert _stop(process) == ""


def test_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("simulate", "ctrader", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("brokerwire simulate: cannot start the simulator: ")
    assert "address already in use" in line


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--fault=bogus", "unknown fault 'bogus'"),
        ("--fault=close:when=now", "bad fault option 'when=now'"),
        ("--port=70000", "a port is 0 to 65535"),
        ("--rate=0", "must be more than 0"),
    ],
)
def test_bad_options(option: str, message: str) -> None:
    result = run_cli("simulate", "tradovate", option)
    assert result.returncode == 2
    assert message in result.stderr
