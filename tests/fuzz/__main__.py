"""``python -m tests.fuzz --seconds N``: fuzz every decoder for a while.

With atheris installed (the ``fuzz`` extra, Linux x86-64) the run is coverage-guided: libFuzzer
picks the target from the first byte of each input and keeps inputs that reach new code. Without
it, the seeds of each target are mutated at random in turn. Either way an input that breaks a
check, raises, or runs longer than ``--timeout`` seconds is written to ``--artifacts`` and the
run fails; ``--reproduce FILE`` runs such a file again.

libFuzzer's corpus lives in ``<artifacts>/corpus``, so the inputs one run found are where the next
one starts (an input's first byte picks its target among those selected, so a run with other
``--target`` options reads them as inputs for other targets; delete the folder to start afresh).
It cannot be a temporary directory: libFuzzer ends the process with C's ``exit``, which runs no
Python cleanup, so a temporary corpus would be left behind by every run.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .mutate import mutate
from .targets import TARGETS, Target


class Hang(Exception):
    """An input took longer than the per-input timeout."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang("the input ran past the per-input timeout")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _save(artifacts: Path, target: Target, data: bytes) -> Path:
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{target.name}-{hashlib.sha256(data).hexdigest()[:12]}.bin"
    path.write_bytes(data)
    return path


def run_mutations(
    targets: Sequence[Target], seconds: float, seed: int, timeout: float, artifacts: Path
) -> int:
    """Mutate each target's seeds in turn, a slice of time each, until ``seconds`` are up."""
    rng = random.Random(seed)
    corpora = {target.name: target.seeds() for target in targets}
    runs = dict.fromkeys(corpora, 0)
    signal.signal(signal.SIGALRM, _on_alarm)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for target in targets:
            corpus = corpora[target.name]
            slice_end = min(end, time.monotonic() + 1.0)
            while time.monotonic() < slice_end:
                data = mutate(rng, rng.choice(corpus), corpus)
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    target.run(data)
                except Exception:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    traceback.print_exc()
                    path = _save(artifacts, target, data)
                    print(f"\n{target.name}: failing input saved to {path}", file=sys.stderr)
                    print(f"reproduce: python -m tests.fuzz --reproduce {path}", file=sys.stderr)
                    return 1
                signal.setitimer(signal.ITIMER_REAL, 0)
                runs[target.name] += 1
                if rng.random() < 0.01 and len(corpus) < 64:
                    corpus.append(data)  # keep some mutants, to mutate further
    total = sum(runs.values())
    print(f"mutation fuzzing, seed {seed}: {total} inputs in {seconds:g} s, no failure")
    for name, count in runs.items():
        print(f"  {name:20} {count:>9} inputs")
    print(f"peak resident memory {_peak_rss_mib():.0f} MiB")
    return 0


def run_atheris(
    targets: Sequence[Target], seconds: float, seed: int, timeout: float, artifacts: Path
) -> int:
    """Coverage-guided: libFuzzer drives one dispatching entry point. Does not return."""
    import atheris  # type: ignore[import-not-found]

    corpus = artifacts / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for index, target in enumerate(targets):
        for number, data in enumerate(target.seeds()):
            (corpus / f"{target.name}-{number}").write_bytes(bytes([index]) + data)

    def one_input(data: bytes) -> None:
        if not data:
            return
        targets[data[0] % len(targets)].run(data[1:])

    arguments = [
        sys.argv[0],
        f"-max_total_time={int(seconds)}",
        f"-timeout={max(1, int(timeout))}",
        "-rss_limit_mb=2048",
        f"-seed={seed}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    print(f"coverage-guided fuzzing with atheris: {', '.join(t.name for t in targets)}")
    atheris.instrument_all()
    atheris.Setup(arguments, one_input)
    atheris.Fuzz()
    return 0


def reproduce(path: Path, targets: Sequence[Target]) -> int:
    """Run one saved input: ``<target>-<hash>.bin`` from the mutation runner, or a libFuzzer
    artifact (target chosen by its first byte)."""
    data = path.read_bytes()
    named = [t for t in targets if path.name.startswith(t.name + "-")]
    if named:
        target = named[0]
    else:
        if not data:
            print("an empty libFuzzer input runs no target", file=sys.stderr)
            return 0
        target, data = targets[data[0] % len(targets)], data[1:]
    print(f"running {target.name} on {len(data)} bytes from {path}")
    target.run(data)
    print("no failure")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run (60)")
    parser.add_argument(
        "--target",
        action="append",
        choices=sorted(TARGETS),
        help="fuzz only this target (repeatable; default: all)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds one input may take")
    parser.add_argument(
        "--engine",
        choices=["auto", "atheris", "mutate"],
        default="auto",
        help="atheris when installed (auto), or seed mutation",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=Path("fuzz-artifacts"),
        help="where failing inputs are written (./fuzz-artifacts)",
    )
    parser.add_argument("--reproduce", type=Path, help="run one saved input and stop")
    options = parser.parse_args(argv)
    targets = [TARGETS[name] for name in options.target or sorted(TARGETS)]
    if options.reproduce is not None:
        return reproduce(options.reproduce, targets)
    seed = options.seed if options.seed is not None else int(time.time())
    engine = options.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            engine = "mutate"
        else:
            engine = "atheris"
    run = run_atheris if engine == "atheris" else run_mutations
    return run(targets, options.seconds, seed, options.timeout, options.artifacts)


if __name__ == "__main__":
    sys.exit(main())
