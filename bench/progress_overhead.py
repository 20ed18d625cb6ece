"""What live progress costs the measurement: the spawn timer's child writes one line to a pipe
between runs when progress is shown. Times ``python -S -c pass`` in alternating blocks with and
without progress and prints the medians and the wall time of each schedule.

    python bench/progress_overhead.py [--runs 200] [--repeats 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import proc
from harness.measure import timers
from harness.measure.timing import TimedCommand


class Counter:
    """A progress sink that only counts what it is told (no terminal I/O)."""

    def __init__(self) -> None:
        self.updates = 0

    def __call__(self, message: str) -> None:
        return None

    def start(self, what: str, total: int) -> None:
        return None

    def advance(self, done: int) -> None:
        self.updates += 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args(argv)
    python = sys.executable
    commands = [TimedCommand("a", "pass", (python, "-S", "-c", "pass")),
                TimedCommand("b", "pass", (python, "-S", "-c", "pass"))]
    modes = ("without", "with", "without again")  # the third is an A/A check of the noise
    medians: dict[str, list[float]] = {m: [] for m in modes}
    walls: dict[str, list[float]] = {m: [] for m in modes}
    updates = 0
    with tempfile.TemporaryDirectory(prefix="progress-bench-") as tmp:
        for i in range(args.repeats * len(modes)):
            mode = modes[i % len(modes)]
            sink = Counter() if mode == "with" else None
            start = time.perf_counter()
            samples = timers.measure(commands, warmup=3, runs=args.runs, order="interleaved",
                                     env=proc.controlled_env(), raw_dir=Path(tmp) / str(i),
                                     progress=sink)
            walls[mode].append(time.perf_counter() - start)
            medians[mode].append(statistics.median(v for s in samples for v in s.values))
            if sink is not None:
                updates = sink.updates
    for mode in modes:
        print(f"{mode:>13} progress: median run {statistics.median(medians[mode]) * 1e3:.3f} ms, "
              f"schedule {statistics.median(walls[mode]):.2f} s "
              f"({args.repeats} schedules of 2 x {args.runs} runs)")
    ratio = statistics.median(medians["with"]) / statistics.median(medians["without"])
    aa = statistics.median(medians["without again"]) / statistics.median(medians["without"])
    print(f"with / without: {ratio:.4f}; A/A (without again / without): {aa:.4f} (median run); "
          f"progress updates per schedule: {updates}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
