"""``python -m benchmarks [--quick] [--json PATH] [--check] [--require IMPL]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brokerwire.core import jsonlib

from .impls import DECODERS, HAVE_WEBSOCKETS
from .memory import LIMIT, MemoryResult, measure_memory
from .run import BenchmarkError, Result, TargetOutcome, check_targets, measure
from .streams import WORKLOADS, make_workload

MIB = 1024 * 1024


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "json_backend": jsonlib.BACKEND,
        "cpu": _cpu(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _table(results: list[Result]) -> list[str]:
    lines = [
        f"{'workload':<22}{'impl':<17}{'msgs/s':>12}{'MB/s':>9}{'µs/msg':>9}{'brokerwire is':>15}"
    ]
    ours = {r.workload: r.msgs_per_s for r in results if r.impl == "brokerwire"}
    previous = ""
    for r in results:
        name = r.workload if r.workload != previous else ""
        previous = r.workload
        ratio = "" if r.impl == "brokerwire" else f"{ours[r.workload] / r.msgs_per_s:.2f} x"
        lines.append(
            f"{name:<22}{r.impl:<17}{r.msgs_per_s:>12,.0f}{r.mb_per_s:>9.1f}"
            f"{r.us_per_msg:>9.2f}{ratio:>15}"
        )
    return lines


def _target_lines(outcomes: list[TargetOutcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        t = outcome.target
        verdict = "met" if outcome.met else "MISSED"
        lines.append(
            f"  {t.workload:<22} vs {t.baseline:<14} {outcome.ratio:5.2f} x "
            f"(target {t.minimum:.2f} x) {verdict:<6}  round by round {outcome.paired_ratio:.2f} x"
        )
    return lines


def _memory_lines(results: list[MemoryResult]) -> list[str]:
    return [
        f"  {m.stream:<22} {m.bytes_decoded / MIB:,.0f} MiB decoded, {m.events:,} events, "
        f"peak {m.peak_bytes / MIB:.1f} MiB (limit {LIMIT / MIB:.0f} MiB) "
        f"{'met' if m.within_limit else 'MISSED'} [{m.seconds:.1f} s]"
        for m in results
    ]


def _document(
    about: dict[str, Any],
    results: list[Result],
    outcomes: list[TargetOutcome],
    memory: list[MemoryResult],
    *,
    quick: bool,
    repeats: int,
) -> dict[str, Any]:
    """What ``--json`` writes: the machine, every result, the targets and the memory peaks."""
    return {
        **about,
        "quick": quick,
        "repeats": repeats,
        "results": [
            {
                "workload": r.workload,
                "impl": r.impl,
                "msgs_per_s": round(r.msgs_per_s),
                "mb_per_s": round(r.mb_per_s, 2),
                "us_per_msg": round(r.us_per_msg, 3),
                "messages": r.messages,
                "runs_s": [round(s, 6) for s in r.runs],
            }
            for r in results
        ],
        "targets": [
            {
                "workload": o.target.workload,
                "baseline": o.target.baseline,
                "minimum": o.target.minimum,
                "ratio": round(o.ratio, 3),
                "paired_ratio": round(o.paired_ratio, 3),
                "met": o.met,
            }
            for o in outcomes
        ],
        "memory": [
            {"stream": m.stream, "bytes": m.bytes_decoded, "peak_bytes": m.peak_bytes}
            for m in memory
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Decode throughput of brokerwire against wsproto, websockets and the JSON floor."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="short streams and 3 runs (for CI)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument(
        "--repeats", type=int, help="timed runs per measurement (default 7, 3 quick)"
    )
    parser.add_argument(
        "--workload", action="append", choices=sorted(WORKLOADS), help="only these workloads"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory check")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        choices=sorted(DECODERS),
        metavar="IMPL",
        help="exit 1 unless IMPL measured a workload (so that CI sees a baseline go missing)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    about = machine()
    print(
        f"brokerwire decode benchmarks: {about['implementation']} {about['python']}, "
        f"JSON backend {about['json_backend']}, {about['cpu']} ({about['cpus']} CPUs), "
        f"median of {repeats} runs taken in turns{', quick' if args.quick else ''}"
    )
    results: list[Result] = []
    try:
        for name in args.workload or list(WORKLOADS):
            workload = make_workload(name, args.quick)
            results += measure(workload, DECODERS, repeats, warmup=not args.quick)
    except BenchmarkError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 1
    print()
    print("\n".join(_table(results)))
    if not HAVE_WEBSOCKETS:
        print("\n(websockets is not installed: pip install '.[bench]' to compare with it)")
    outcomes = check_targets(results)
    if outcomes:
        print(f"\ntargets for the {jsonlib.BACKEND} backend:")
        print("\n".join(_target_lines(outcomes)))
    memory: list[MemoryResult] = []
    if not args.no_memory:
        total = 64 * MIB if args.quick else 1024 * MIB
        memory = measure_memory(total)
        print("\npeak traced memory while decoding one long stream:")
        print("\n".join(_memory_lines(memory)))
    if args.json is not None:
        document = _document(about, results, outcomes, memory, quick=args.quick, repeats=repeats)
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    missing = sorted(set(args.require) - {r.impl for r in results})
    if missing:
        print(f"\nno result from {', '.join(missing)}", file=sys.stderr)
        return 1
    missed = [o for o in outcomes if not o.met] + [m for m in memory if not m.within_limit]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
