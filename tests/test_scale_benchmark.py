"""The scale benchmark's smoke form: a hundred links against simulators in other processes,
with no thresholds, must run to the end, lose and repeat nothing, and report every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.scale_clients import Tally

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
def test_a_hundred_links_run_to_the_end_with_nothing_lost(tmp_path: Path) -> None:
    figures_path = tmp_path / "scale.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.scale",
        "--clients",
        "100",
        "--seconds",
        "3",
        "--warmup",
        "1",
        "--json",
        str(figures_path),
    ]
    done = subprocess.run(  # noqa: S603 - our own interpreter and our own benchmark
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=170
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(figures_path.read_text(encoding="utf-8"))
    assert figures["clients"] == 100
    assert figures["kinds"] == {"tradovate-ws": 34, "ctrader-ws": 33, "ctrader-tcp": 33}
    assert (figures["lost"], figures["repeated"], figures["disconnects"]) == (0, 0, 0)
    assert figures["failed_subscriptions"] == 0
    assert figures["delivered"] > 0
    assert figures["events_per_s"] > 0
    assert figures["cpu_us_per_event"] > 0
    assert set(figures["latency_ms"]) == {"p50", "p99", "max"}
    assert 0 <= figures["latency_ms"]["p50"] <= figures["latency_ms"]["p99"]
    assert figures["latency_ms"]["p99"] <= figures["latency_ms"]["max"]
    assert figures["rss_per_idle_connection_kib"] > 0
    assert figures["waited_for_a_core_share"] >= 0
    assert figures["rss_per_streaming_connection_kib"] > 0
    floor = figures["floor"]
    assert floor["messages_per_s"] > 0
    assert floor["reads_per_s"] > 0
    assert floor["cpu_us_per_message"] > 0
    for label in (
        "delivered to consumers",
        "CPU per delivered event",
        "latency p50/p99/max",
        "resident per connection",
        "lost / repeated           0 / 0",
        "floor (a bare asyncio.Protocol",
        "required",
    ):
        assert label in done.stdout


def test_the_tally_counts_gaps_as_lost_and_old_numbers_as_repeated() -> None:
    tally = Tally()
    expected = 1
    for seq in (1, 2, 5, 3, 6, 6):
        expected = tally.seen(expected, seq, 0.0)
    assert (tally.delivered, tally.lost, tally.repeated, expected) == (6, 2, 2, 7)
