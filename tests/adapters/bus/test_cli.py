"""``brokerwire stream ... --publish`` and ``brokerwire subscribe``, run as processes against a
real JetStream server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from brokerwire.adapters.simulators.tradovate import CONTRACTS
from tests.adapters.bus.natsserver import NatsCluster, free_ports
from tests.adapters.cli.helpers import json_lines, one_error_line, run_cli

pytestmark = pytest.mark.timeout(120)


def _counts(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("brokerwire: taken ")]


def _subscribe(url: str, *args: str) -> list[dict[str, Any]]:
    result = run_cli("subscribe", url, *args)
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_tradovate_published_then_read_back(nats_server: NatsCluster) -> None:
    url = nats_server.urls[0]
    published = run_cli(
        "stream", "tradovate", "--count", "30", "--rate", "20", "--publish", url, timeout=60
    )
    assert published.returncode == 0, published.stderr
    assert published.stdout == ""
    counts = _counts(published.stderr)
    assert len(counts) >= 2  # one a second while it ran (30 quotes at 20 a second), and the last
    assert counts[-1].startswith("brokerwire: taken 30, stored 30, buffered 0")

    lines = _subscribe(url, "brokerwire.tradovate.>", "--count", "30")
    es = CONTRACTS["ESZ6"]["id"]
    assert {line["subject"] for line in lines} == {f"brokerwire.tradovate.md.MarketData.{es}"}
    assert [line["type"] for line in lines] == ["MarketData"] * 30
    assert [line["quotes"][0]["id"] for line in lines] == list(range(1, 31))


def test_ctrader_subjects_name_the_account_and_symbol(nats_server: NatsCluster) -> None:
    url = nats_server.urls[0]
    published = run_cli(
        "stream", "ctrader", "--count", "10", "--rate", "200", "--publish", url, timeout=60
    )
    assert published.returncode == 0, published.stderr
    result = run_cli("subscribe", url, "brokerwire.ctrader.*.SpotEvent.1", "--count", "10")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert len(lines) == 10
    assert all(
        list(json.loads(line))[:2] == ["type", "subject"] for line in result.stdout.splitlines()
    )
    account = lines[0]["ctidTraderAccountId"]
    assert {line["subject"] for line in lines} == {f"brokerwire.ctrader.{account}.SpotEvent.1"}
    assert all(line["type"] == "SpotEvent" for line in lines)


def test_a_durable_reader_goes_on_where_it_stopped(nats_server: NatsCluster) -> None:
    url = nats_server.urls[0]
    assert (
        run_cli(
            "stream", "tradovate", "--count", "20", "--rate", "200", "--publish", url
        ).returncode
        == 0
    )
    everything = _subscribe(url, "--count", "20")
    first = _subscribe(url, "--durable", "desk", "--count", "12")
    rest = _subscribe(url, "--durable", "desk", "--idle", "1")
    assert first + rest == everything
    assert _subscribe(url, "--durable", "desk", "--idle", "0.5") == []


def test_no_server_is_one_line_and_exit_code_1() -> None:
    (port,) = free_ports(1)
    url = f"nats://someone:hunter2@127.0.0.1:{port}"
    for args in (
        ("stream", "tradovate", "--count", "1", "--publish", url),
        ("subscribe", url, "--count", "1"),
    ):
        result = run_cli(*args)
        assert result.returncode == 1, result.stderr
        line = one_error_line(result)
        assert "NATS JetStream" in line
        assert "hunter2" not in result.stderr
        assert result.stdout == ""


def test_printing_options_are_not_for_publishing() -> None:
    result = run_cli("stream", "tradovate", "--pretty", "--publish", "nats://127.0.0.1:4222")
    assert result.returncode == 2
    assert "not for --publish" in result.stderr
    result = run_cli("stream", "tradovate", "--replicas", "3")
    assert result.returncode == 2
    assert "--replicas is for --publish" in result.stderr
