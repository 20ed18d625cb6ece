"""How long the analysis takes, against runs and comparisons.

    python bench/analysis_speed.py [--runs 20,50,100,200,300,500,1000] [--comparisons 1,4]

Prints, per number of runs (paired rounds) and comparisons, the wall time of
:func:`harness.analyse.stats.compare` with the default statistic (``paired``, 2000 bootstrap
resamples) on synthetic log-normal start-up times (10 ms, 2 % noise, slow bursts), best of
``--repeat`` tries. Figures, not assertions: the machine may be shared (the load average is
printed with them).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from harness.analyse import stats
from harness.model import Samples


def synthetic(n: int, seed: int) -> tuple[Samples, Samples]:
    """Two variants' paired samples: a shared burst per round plus independent noise."""
    rng = np.random.default_rng(seed)
    burst = rng.normal(0, 0.02, n) + (rng.random(n) < 0.05) * 0.3
    ref = 0.010 * np.exp(burst + rng.normal(0, 0.02, n))
    subj = 0.0103 * np.exp(burst + rng.normal(0, 0.02, n))
    rounds = tuple(range(n))
    return (Samples("pr", "import", "wall", tuple(subj), rounds),
            Samples("main", "import", "wall", tuple(ref), rounds))


def time_compare(n: int, comparisons: int, repeat: int) -> float:
    """Best-of-``repeat`` seconds for ``comparisons`` comparisons of ``n`` paired runs."""
    pairs = [synthetic(n, seed) for seed in range(comparisons)]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for subject, reference in pairs:
            stats.compare(subject, reference)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="20,50,100,200,300,500,1000")
    parser.add_argument("--comparisons", default="1,4")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [int(r) for r in args.runs.split(",")]
    counts = [int(c) for c in args.comparisons.split(",")]
    stats.compare(*synthetic(20, 0))  # imports and first-call costs out of the table
    print(f"analysis time (s), stats.compare, statistic paired, best of {args.repeat}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| runs | " + " | ".join(f"{c} comparison{'s' * (c > 1)}" for c in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for n in runs:
        cells = [f"{time_compare(n, c, args.repeat):.3f}" for c in counts]
        print(f"| {n} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
