"""Timing the decoders on the workloads, checking what they deliver, and the targets."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterable
from typing import NamedTuple

from .impls import DECODERS
from .streams import Workload, chunked

__all__ = ["TARGETS", "BenchmarkError", "Result", "Target", "check_targets", "measure"]


class BenchmarkError(Exception):
    """A decoder delivered the wrong number of messages: its timing would mean nothing."""


class Result(NamedTuple):
    workload: str
    impl: str
    messages: int
    wire_bytes: int
    seconds: float  # the median run
    runs: tuple[float, ...]

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def mb_per_s(self) -> float:
        """Megabytes (10**6) of the wire stream per second, whatever the decoder read."""
        return self.wire_bytes / self.seconds / 1e6

    @property
    def us_per_msg(self) -> float:
        return self.seconds / self.messages * 1e6


def measure(
    workload: Workload, impls: Iterable[str], repeats: int, warmup: bool = True
) -> list[Result]:
    """Time the decoders ``impls`` on ``workload``; each result is the median of its runs.

    The decoders take turns: each of ``repeats`` rounds (after one untimed round when
    ``warmup``) runs every decoder once. The targets are ratios, and a virtual machine's speed
    drifts over the minutes of a run; timed in turns, the decoders share the drift, where timed
    one after another a slow minute would fall on one of them alone. A decoder that does not
    apply to the workload, or is not installed, is left out.
    """
    chunks = chunked(workload.data)
    decoders = [impl for impl in impls if DECODERS[impl](workload) is not None]
    runs: dict[str, list[float]] = {impl: [] for impl in decoders}
    for attempt in range(repeats + (1 if warmup else 0)):
        for impl in decoders:
            run = DECODERS[impl](workload)
            assert run is not None  # it applied a moment ago
            gc.collect()
            started = time.perf_counter()
            delivered = run(chunks)
            elapsed = time.perf_counter() - started
            if delivered != workload.messages:
                raise BenchmarkError(
                    f"{impl} delivered {delivered} of the {workload.messages} messages "
                    f"in {workload.name}"
                )
            if attempt or not warmup:
                runs[impl].append(elapsed)
    return [
        Result(
            workload.name,
            impl,
            workload.messages,
            len(workload.data),
            statistics.median(runs[impl]),
            tuple(runs[impl]),
        )
        for impl in decoders
    ]


class Target(NamedTuple):
    workload: str
    baseline: str
    minimum: float  # brokerwire's msgs/s over the baseline's


#: The speed brokerwire must reach, as ratios to the baselines in the same run. naive-wsproto
#: and the websockets pipelines read WebSocket streams only, so TCP has no target against them.
TARGETS = [
    Target("tradovate-ws-quotes", "orjson-floor", 1.0),
    Target("tradovate-ws-quotes", "msgspec-floor", 0.6),
    Target("tradovate-ws-quotes", "websockets-orjson", 3.0),
    Target("tradovate-ws-quotes", "naive-wsproto", 10.0),
    Target("ctrader-ws-spots", "orjson-floor", 0.7),
    Target("ctrader-ws-spots", "msgspec-floor", 0.6),
    Target("ctrader-ws-spots", "websockets-orjson", 4.0),
    Target("ctrader-ws-spots", "naive-wsproto", 12.0),
    Target("ctrader-tcp-spots", "orjson-floor", 0.7),
    Target("ctrader-tcp-spots", "msgspec-floor", 0.6),
]


class TargetOutcome(NamedTuple):
    target: Target
    #: brokerwire's median speed over the baseline's: what the target is checked against
    ratio: float
    #: the median of the same ratio taken round by round, for reading beside it (see below)
    paired_ratio: float

    @property
    def met(self) -> bool:
        return self.ratio >= self.target.minimum


def check_targets(results: Iterable[Result]) -> list[TargetOutcome]:
    """Each target whose workload and baseline were both measured.

    A target is checked against the ratio of the two medians, as it is set. Beside it comes the
    median of the ratios of the runs taken in the same round, in which the two decoders share
    the machine's drift over the minutes of a run.
    """
    measured = {(r.workload, r.impl): r for r in results}
    outcomes = []
    for target in TARGETS:
        ours = measured.get((target.workload, "brokerwire"))
        theirs = measured.get((target.workload, target.baseline))
        if ours is not None and theirs is not None:
            rounds = [baseline / own for own, baseline in zip(ours.runs, theirs.runs, strict=True)]
            ratio = ours.msgs_per_s / theirs.msgs_per_s
            outcomes.append(TargetOutcome(target, ratio, statistics.median(rounds)))
    return outcomes
