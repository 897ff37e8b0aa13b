"""``python -m benchmarks [--quick] [--json PATH] [--check] [--require IMPL]``."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .impls import DECODERS, HAVE_ORJSON, HAVE_WEBSOCKETS
from .memory import LIMIT, MemoryResult, Retention, measure_memory, measure_retention
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


def _versions() -> dict[str, str]:
    """The versions of the libraries measured (those installed)."""
    found = {}
    for name in ("brokerwire", "msgspec", "orjson", "websockets", "wsproto"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": _versions(),
        "cpu": _cpu(),
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _table(results: list[Result]) -> list[str]:
    lines = [
        f"{'workload':<22}{'impl':<19}{'msgs/s':>12}{'MB/s':>9}{'µs/msg':>9}{'brokerwire is':>15}"
    ]
    ours = {r.workload: r.msgs_per_s for r in results if r.impl == "brokerwire"}
    previous = ""
    for r in results:
        name = r.workload if r.workload != previous else ""
        previous = r.workload
        ratio = "" if r.impl == "brokerwire" else f"{ours[r.workload] / r.msgs_per_s:.2f} x"
        lines.append(
            f"{name:<22}{r.impl:<19}{r.msgs_per_s:>12,.0f}{r.mb_per_s:>9.1f}"
            f"{r.us_per_msg:>9.2f}{ratio:>15}"
        )
    return lines


def _target_lines(outcomes: list[TargetOutcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        t = outcome.target
        verdict = "pass" if outcome.met else "FAIL"
        lines.append(
            f"  {t.workload:<22} vs {t.baseline:<18} {outcome.ratio:5.2f} x "
            f"(required {t.minimum:5.2f} x) {verdict:<4}  round by round "
            f"{outcome.paired_ratio:.2f} x"
        )
    return lines


def _memory_lines(results: list[MemoryResult]) -> list[str]:
    return [
        f"  {m.stream:<22} {m.bytes_decoded / MIB:,.0f} MiB decoded, {m.events:,} events, "
        f"peak {m.peak_bytes / MIB:.1f} MiB (limit {LIMIT / MIB:.0f} MiB) "
        f"{'pass' if m.within_limit else 'FAIL'} [{m.seconds:.1f} s]"
        for m in results
    ]


def _retention_line(r: Retention) -> str:
    return (
        f"  {r.events:,} quote events kept: {r.typed_bytes:,.0f} bytes each as brokerwire "
        f"delivers them, {r.dict_bytes:,.0f} bytes as {r.dict_library} dicts "
        f"({r.typed_bytes / r.dict_bytes:.2f} x)"
    )


def _document(
    about: dict[str, Any],
    results: list[Result],
    outcomes: list[TargetOutcome],
    memory: list[MemoryResult],
    retention: Retention | None,
    *,
    quick: bool,
    repeats: int,
) -> dict[str, Any]:
    """What ``--json`` writes: the machine, every result, the targets and the memory figures."""
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
            {
                "stream": m.stream,
                "bytes": m.bytes_decoded,
                "peak_bytes": m.peak_bytes,
                "limit_bytes": LIMIT,
                "met": m.within_limit,
            }
            for m in memory
        ],
        "retained_per_quote_event": None
        if retention is None
        else {
            "events": retention.events,
            "typed_bytes": round(retention.typed_bytes, 1),
            "dict_bytes": round(retention.dict_bytes, 1),
            "dict_library": retention.dict_library,
        },
    }


def _memory(quick: bool) -> tuple[list[MemoryResult], Retention]:
    """The peaks over one long stream (64 MiB quick, 1 GiB in full) and what events retain."""
    memory = measure_memory(64 * MIB if quick else 1024 * MIB)
    print("\npeak traced memory while decoding one long stream:")
    print("\n".join(_memory_lines(memory)))
    retention = measure_retention(2_000 if quick else 20_000)
    print("\nbytes retained per quote event kept:")
    print(_retention_line(retention))
    return memory, retention


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Decode throughput of brokerwire against wsproto, websockets and the JSON floors."
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    about = machine()
    versions = ", ".join(f"{name} {v}" for name, v in about["versions"].items())
    print(
        f"brokerwire decode benchmarks: {about['implementation']} {about['python']}, "
        f"{versions}; {about['cpu']} ({about['cpus']} CPUs), "
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
    if not (HAVE_WEBSOCKETS and HAVE_ORJSON):
        print("\n(websockets or orjson is missing: pip install '.[bench]' for every baseline)")
    outcomes = check_targets(results)
    if outcomes:
        print("\ntargets (brokerwire's median msgs/s over the baseline's, in the same run):")
        print("\n".join(_target_lines(outcomes)))
    memory, retention = _memory(args.quick) if not args.no_memory else ([], None)
    if args.json is not None:
        document = _document(
            about, results, outcomes, memory, retention, quick=args.quick, repeats=repeats
        )
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return _exit_status(args, results, outcomes, memory)


def _exit_status(
    args: argparse.Namespace, results: list[Result], outcomes: list[Any], memory: list[Any]
) -> int:
    """1 when a required baseline measured nothing, or (with ``--check``) a target was missed."""
    missing = sorted(set(args.require) - {r.impl for r in results})
    if missing:
        print(f"\nno result from {', '.join(missing)}", file=sys.stderr)
        return 1
    missed = [o for o in outcomes if not o.met] + [m for m in memory if not m.within_limit]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
