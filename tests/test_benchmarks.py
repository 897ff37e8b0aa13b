"""The benchmark measures what it says it measures, and checks the targets as they are set."""

from __future__ import annotations

import importlib

import pytest

from benchmarks import impls
from benchmarks.__main__ import _target_lines, main
from benchmarks.run import Result, check_targets
from benchmarks.streams import WORKLOADS, chunked
from brokerwire.core import jsonlib


def test_the_floor_is_the_json_librarys_own_loads() -> None:
    # brokerwire's own loads wraps orjson in a Python function; a floor timed through it would
    # be slower than the library, and every ratio to it flattering.
    library = importlib.import_module(jsonlib.BACKEND)
    assert impls.library_loads() is library.loads


def test_a_target_is_checked_on_the_medians_and_shown_round_by_round() -> None:
    # Three rounds of 1,000 messages, in which the medians and the rounds tell different stories.
    ours = Result("ctrader-tcp-spots", "brokerwire", 1000, 10**5, 1.0, (1.0, 1.0, 3.0))
    floor = Result("ctrader-tcp-spots", "json-floor", 1000, 10**5, 2.0, (2.0, 1.0, 2.0))
    (outcome,) = check_targets([ours, floor])
    assert outcome.target.baseline == "json-floor"
    assert outcome.target.backend == jsonlib.BACKEND
    assert outcome.ratio == 2.0  # the medians: 1.0 s against 2.0 s
    assert outcome.paired_ratio == 1.0  # the rounds: 2.0, 1.0 and 0.67
    assert outcome.met
    (line,) = _target_lines([outcome])
    expected = f"ctrader-tcp-spots vs json-floor 2.00 x (target {outcome.target.minimum:.2f} x) met"
    assert line.split() == [*expected.split(), "round", "by", "round", "1.00", "x"]


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_every_decoder_delivers_every_message_of_a_workload(name: str) -> None:
    # The benchmark refuses a timing whose count is off; here each decoder is held to it alone,
    # on a stream long enough that frames straddle its 64 KiB chunks.
    build = WORKLOADS[name][0]
    workload = build(2 if name == "large" else 1000)
    chunks = chunked(workload.data)
    assert len(chunks) > 1
    for impl, decoder in impls.DECODERS.items():
        run = decoder(workload)
        if run is not None:
            assert run(chunks) == workload.messages, impl


def test_frames_json_reads_with_brokerwires_own_transport_and_nothing_above_it() -> None:
    # A stream that breaks the broker's rules but not the framing's or JSON's: the broker layer
    # would refuse it, the transport alone counts every message in it.
    workload = WORKLOADS["ctrader-tcp-spots"][0](50)
    chunks = chunked(workload.data.replace(b'"payloadType":2131', b'"payloadType":"?!"'))
    assert impls.frames_json(workload)(chunks) == workload.messages
    assert impls.brokerwire(workload)(chunks) < workload.messages


def test_a_required_implementation_without_a_result_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # CI requires the websockets baseline: a baseline that went missing must not go unseen.
    # websockets decodes WebSocket streams only, so a TCP workload has no result from it.
    quick = ["--quick", "--no-memory", "--repeats", "1", "--workload", "ctrader-tcp-spots"]
    assert main([*quick, "--require", "json-floor"]) == 0
    assert main([*quick, "--require", "json-floor", "--require", "websockets"]) == 1
    assert "no result from websockets" in capsys.readouterr().err
