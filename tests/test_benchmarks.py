"""The benchmark measures what it says it measures, and checks the targets as they are set."""

from __future__ import annotations

import importlib

from benchmarks import impls
from benchmarks.__main__ import _target_lines
from benchmarks.run import Result, check_targets
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
