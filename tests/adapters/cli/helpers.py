"""Running the installed ``brokerwire`` command as a real process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.adapters.simulators.tradovate import CONTRACTS

#: The console script pip installed beside this Python.
SCRIPT = str(Path(sys.executable).parent / "brokerwire")

#: The variables the command reads credentials from; no test may inherit them.
CREDENTIAL_VARIABLES = (
    "TRADOVATE_TOKEN",
    "CTRADER_CLIENT_ID",
    "CTRADER_CLIENT_SECRET",
    "CTRADER_ACCESS_TOKEN",
    "CTRADER_ACCOUNT_ID",
    "TRADOVATE_USERNAME",
    "TRADOVATE_PASSWORD",
    "TRADOVATE_APP_ID",
    "TRADOVATE_CID",
    "TRADOVATE_SECRET",
    "XDG_CONFIG_HOME",
)


def environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    env.update(variables)
    return env


def run_cli(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``brokerwire *args`` to its end, with ``stdin`` as its input; the output as text."""
    done = subprocess.run(  # noqa: S603 - the project's own installed script
        [SCRIPT, *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env if env is not None else environment(),
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@contextlib.contextmanager
def start_cli(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """Start ``brokerwire *args`` and leave it running; stdout and stderr are text pipes.

    Leaving the block kills the process if the test did not end it, closes the pipes and
    reaps it, so that a failing test leaves nothing behind.
    """
    process = subprocess.Popen(  # noqa: S603 - the project's own installed script
        [SCRIPT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env if env is not None else environment(),
    )
    with process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every line of ``stdout`` as a JSON object (fails the test on a line that is not one)."""
    records = [json.loads(line) for line in stdout.splitlines()]
    assert all(isinstance(r, dict) and isinstance(r.get("type"), str) for r in records)
    return records


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failing command wrote on stderr, checked to be only that."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def first_quotes(symbol: str, count: int) -> list[tuple[int, float, int]]:
    """(contract id, offer price, total volume) of the first ``count`` quotes a simulator of
    the default seed streams for ``symbol``, its only subscription: the walk's first steps.
    The volume grows at each quote, so the list also says the quotes came in order."""
    market = TradovateSimulator().market
    contract = CONTRACTS[symbol]["id"]
    return [(contract, market.tick(contract), market.volume[contract]) for _ in range(count)]


def first_bids(symbol_id: int, count: int) -> list[int]:
    """The bids of the first ``count`` spots a cTrader simulator of the default seed streams
    for ``symbol_id``, its only subscription: the walk's first steps."""
    sim = CTraderSimulator()
    return [sim.tick(symbol_id) for _ in range(count)]


def quote_walk(records: list[dict[str, Any]]) -> list[tuple[int, float, int]]:
    """(contract id, offer price, total volume) of each quote in JSON records of the CLI."""
    return [
        (q["contractId"], q["entries"]["Offer"]["price"], q["entries"]["TotalTradeVolume"]["size"])
        for r in records
        for q in r["quotes"]
    ]
