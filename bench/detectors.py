"""Benchmark of change-point detectors on per-commit series with known changes.

Detectors, side by side:

* ``new``: :func:`harness.history.changepoints.analyse` (exact PELT, spikes apart, each point
  weighted by its own interval, the newest commit judged at once);
* ``old``: the previous detector, kept here as a copy (binary segmentation with the L1 cost,
  penalty 10 in robust-noise units, segments of 3 or more, bootstrap check of each step),
  written out in numpy so the bench does not need ruptures;
* ``gab``: github-action-benchmark's rule: alert when a commit's value over the previous
  commit's is above the threshold (its default 200 %, and 110 %); regressions only;
* ``bencher``: a Bencher-style t-test: alert when a commit is outside the 99 % two-sided
  prediction interval of the last 10 points (Student t).

Series (log-normal noise of sd ``SIGMA`` per point, 2 % of points an outlier of 6-8 sd, each
point with its own 95 % interval as from 30-50 samples):

* noise: nothing happens (false steps per series);
* step: one lasting step of 3x the point-to-point noise (the sd of the difference of two
  consecutive commits, sqrt(2) * SIGMA); bump-L: a step undone L commits later (L = 1-6);
* spike: one commit at 5x; drift: a slow linear drift of 8x over the series (no commit is the
  culprit: the fraction of series with any step is shown);
* load: a load burst of x1.5-2.5 on 2-4 consecutive commits of the wall-time series; scored on
  the CPU series (not moved) and on the wall series (moved: a false step there is the load's);
* real: CPU medians of real runs of a fixture package made here (commit 4 adds eager imports of
  eight stdlib packages, commit 7 makes them lazy; 11 commits, 15 runs each).

Scoring: a detected step within one commit of a true change finds it (recall; exact when at the
same commit); a detected step near no true change is false (precision). The new detector's
spikes count for bump-1 (a one-commit bump is a spike) and are not steps elsewhere.

    .venv/bin/python bench/detectors.py [--quick] [--no-real]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from harness.history.changepoints import analyse

SIGMA = 0.03
DIFF_NOISE = math.sqrt(2) * SIGMA  # the point-to-point noise
LENGTHS = (12, 20, 40, 80, 150)

Detector = Callable[[list[float], list[tuple[float, float]]], tuple[set[int], set[int]]]


# --- the detectors ----------------------------------------------------------------------------

def new_detector(values: list[float], intervals: list[tuple[float, float]]
                 ) -> tuple[set[int], set[int]]:
    found = analyse(values, intervals)
    return ({s.index for s in found.steps if s.status == "confirmed"},
            {s.index for s in found.spikes})


def _l1_cost(z: np.ndarray) -> float:
    return float(np.sum(np.abs(z - np.median(z)))) if len(z) else 0.0


def _binseg_l1(z: np.ndarray, penalty: float, min_size: int) -> list[int]:
    """ruptures.Binseg(model="l1", min_size, jump=1).predict(pen): split the segment whose best
    split gains most while that gain exceeds the penalty."""
    bounds = [0, len(z)]
    while True:
        best: tuple[float, int] | None = None
        for a, b in itertools.pairwise(bounds):
            whole = _l1_cost(z[a:b])
            for k in range(a + min_size, b - min_size + 1):
                gain = whole - _l1_cost(z[a:k]) - _l1_cost(z[k:b])
                if best is None or gain > best[0]:
                    best = (gain, k)
        if best is None or best[0] < penalty:
            return bounds[1:-1]
        bounds = sorted([*bounds, best[1]])


def old_detector(values: list[float], intervals: list[tuple[float, float]]
                 ) -> tuple[set[int], set[int]]:
    """The detector this project shipped before (a copy; see the module docstring)."""
    from harness.analyse.stats import unpaired_ratio_ci

    y = np.log(np.asarray(values))
    if len(y) < 6:
        return set(), set()
    d = np.diff(y)
    noise = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    if noise == 0.0:
        noise = max(float(np.std(y)) / 10.0, 1e-12)
    z = (y - np.median(y)) / noise
    points = sorted(_binseg_l1(z, 10.0, 3))
    v = np.exp(y)
    while True:
        bounds = [0, *points, len(v)]
        weakest: tuple[float, int] | None = None
        kept = []
        for i, index in enumerate(points):
            ratio, low, high = unpaired_ratio_ci(v[index:bounds[i + 2]], v[bounds[i]:index],
                                                 confidence=0.99, seed=0)
            if (low > 1 or high < 1) and abs(ratio - 1) * 100 >= 1.0:
                kept.append(index)
                continue
            strength = min(abs(low - 1), abs(high - 1))
            if weakest is None or strength < weakest[0]:
                weakest = (strength, index)
        if weakest is None:
            return set(kept), set()
        points.remove(weakest[1])


def gab_detector(threshold: float) -> Detector:
    def detector(values: list[float], intervals: list[tuple[float, float]]
                 ) -> tuple[set[int], set[int]]:
        return {i for i in range(1, len(values)) if values[i] / values[i - 1] > threshold}, set()
    return detector


def bencher_detector(values: list[float], intervals: list[tuple[float, float]]
                     ) -> tuple[set[int], set[int]]:
    from scipy.stats import t as student

    y = np.asarray(values)
    out = set()
    for i in range(3, len(y)):
        window = y[max(0, i - 10):i]
        sd = float(np.std(window, ddof=1))
        if sd == 0:
            continue
        limit = float(student.ppf(0.995, len(window) - 1)) * sd * math.sqrt(1 + 1 / len(window))
        if abs(y[i] - float(np.mean(window))) > limit:
            out.add(i)
    return out, set()


DETECTORS: dict[str, Detector] = {
    "new: PELT + own samples": new_detector,
    "old (binseg L1)": old_detector,
    "gab >200% (default)": gab_detector(2.0),
    "gab >110%": gab_detector(1.1),
    "bencher t-test, last 10": bencher_detector,
}


# --- the series -------------------------------------------------------------------------------

@dataclass
class Series:
    kind: str
    values: list[float]
    intervals: list[tuple[float, float]]
    changes: list[int] = field(default_factory=list)  # true change commits


def noisy(level: np.ndarray, rng: np.random.Generator, *, disturbed: bool = True,
          apart: bool = True) -> tuple[list[float], list[tuple[float, float]]]:
    """``level`` (log scale) plus Gaussian noise and 0-2 outlier runs of 6-8 sd, at least 3
    commits apart unless ``apart`` is false (two outliers side by side in the same direction
    are a two-commit bump to any detector that finds one); an outlier run was disturbed, so its
    own samples are spread (its interval 3x as wide) unless ``disturbed`` is false."""
    n = len(level)
    y = np.log(0.02) + level + rng.normal(0, SIGMA, n)
    own = SIGMA * rng.uniform(0.15, 0.6, n)  # each run's own standard error of its median
    count = int(rng.integers(0, 3))
    where = rng.choice(n, count, replace=False)
    while apart and count == 2 and abs(int(where[0]) - int(where[1])) < 3:
        where = rng.choice(n, count, replace=False)
    for at in where:
        y[at] += rng.choice([-1, 1]) * rng.uniform(6, 8) * SIGMA
        own[at] *= 3 if disturbed else 1
    values = np.exp(y)
    return ([float(v) for v in values],
            [(float(v * math.exp(-1.96 * s)), float(v * math.exp(1.96 * s)))
             for v, s in zip(values, own, strict=True)])


def synthetic(rng: np.random.Generator, per_kind: int, noise_series: int) -> list[Series]:
    out: list[Series] = []
    for i in range(noise_series):
        n = LENGTHS[i % len(LENGTHS)]
        out.append(Series("noise", *noisy(np.zeros(n), rng)))
        out.append(Series("noise, outliers anywhere", *noisy(np.zeros(n), rng, disturbed=False,
                                                             apart=False)))
    size = 3 * DIFF_NOISE
    for i in range(per_kind):
        n = LENGTHS[i % len(LENGTHS)]
        sign = 1 if i % 4 else -1  # three regressions to one improvement
        at = int(rng.integers(3, n - 2))
        level = np.zeros(n)
        level[at:] = sign * size
        out.append(Series("step", *noisy(level, rng), changes=[at]))
        for length in range(1, 7):
            at = int(rng.integers(3, n - length - 2))
            level = np.zeros(n)
            level[at:at + length] = sign * size
            out.append(Series(f"bump-{length}", *noisy(level, rng), changes=[at, at + length]))
        at = int(rng.integers(3, n - 3))
        level = np.zeros(n)
        level[at] = 5 * DIFF_NOISE
        out.append(Series("spike", *noisy(level, rng), changes=[at, at + 1]))
        out.append(Series("drift", *noisy(np.linspace(0, 8 * DIFF_NOISE, n), rng)))
        level = np.zeros(n)
        at, length = int(rng.integers(2, n - 4)), int(rng.integers(2, 5))
        cpu = noisy(level, rng)
        burst = np.ones(n)
        burst[at:at + length] = rng.uniform(1.5, 2.5)
        out.append(Series("load (cpu)", *cpu))
        out.append(Series("load (wall)", [v * b for v, b in zip(cpu[0], burst, strict=True)],
                          [(lo * b, hi * b) for (lo, hi), b in zip(cpu[1], burst, strict=True)]))
    return out


# --- real-shaped series -----------------------------------------------------------------------

EAGER = "import " + ", ".join(["email.mime.multipart", "http.client", "xml.dom.minidom",
                               "logging.handlers", "asyncio", "decimal", "argparse",
                               "sqlite3"]) + "\n"
LAZY = "def later():\n    " + EAGER


def cpu_times(python: str, cwd: Path, runs: int) -> list[float]:
    """User + system CPU time of ``runs`` starts of ``python -c 'import fixture'``."""
    out = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    for _ in range(runs):
        code = f"import sys; sys.path.insert(0, {str(cwd)!r}); import fixture"
        child = subprocess.Popen([python, "-I", "-S", "-c", code], cwd=cwd,  # noqa: S603
                                 env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        assert child.returncode == 0
        out.append(usage.ru_utime + usage.ru_stime)
    return out


def real_series(stories: int, runs: int) -> list[Series]:
    """``stories`` histories of 11 commits of a fixture package: commit 4 adds eager imports,
    commit 7 makes them lazy; each point the median CPU time of ``runs`` starts."""
    from harness.history.records import median_interval

    python = os.path.realpath(sys.executable)
    out = []
    with tempfile.TemporaryDirectory(prefix="detectors-bench-") as tmp:
        package = Path(tmp) / "fixture"
        package.mkdir()
        for _ in range(stories):
            values, intervals = [], []
            for commit in range(11):
                body = EAGER if 3 <= commit < 6 else LAZY if commit >= 6 else "VERSION = 1\n"
                (package / "__init__.py").write_text(body)
                times = cpu_times(python, Path(tmp), runs)
                values.append(float(np.median(times)))
                intervals.append(median_interval(times))
            out.append(Series("real (cpu)", values, intervals, changes=[3, 6]))
    return out


# --- scoring ----------------------------------------------------------------------------------

@dataclass
class Score:
    series: int = 0
    changes: int = 0
    found: int = 0
    exact: int = 0
    detected: int = 0
    false: int = 0
    flagged: int = 0  # series with any step

    def add(self, truth: list[int], steps: set[int]) -> None:
        self.series += 1
        self.changes += len(truth)
        self.detected += len(steps)
        self.flagged += bool(steps)
        for c in truth:
            if c in steps:
                self.exact += 1
                self.found += 1
            elif c - 1 in steps or c + 1 in steps:
                self.found += 1
        self.false += sum(1 for s in steps if all(abs(s - c) > 1 for c in truth))


def score(all_series: list[Series], detector: Detector) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for s in all_series:
        steps, spikes = detector(s.values, s.intervals)
        if s.kind in ("bump-1", "spike"):
            steps = steps | spikes | {i + 1 for i in spikes}  # a spike is a one-commit bump
        scores.setdefault(s.kind, Score()).add(s.changes, steps)
    return scores


def table(results: dict[str, dict[str, Score]]) -> str:
    """Two tables that fit 80 columns: false alarms and precision, then recall per kind."""
    kinds = ["step", *(f"bump-{k}" for k in range(2, 7)), "bump-1", "spike", "real (cpu)"]
    short = {"step": "step", "bump-1": "b1", "spike": "spike", "real (cpu)": "real",
             **{f"bump-{k}": f"b{k}" for k in range(2, 7)}}
    lines = ["False steps (series with any step) and precision, exact commit:",
             f"{'detector':24}{'noise':>10}{'anywhere':>10}{'ld cpu':>7}{'ld wall':>8}"
             f"{'drift':>6}{'prec':>6}{'exact':>6}"]
    for name, sc in results.items():
        def flagged(kind: str, sc: dict[str, Score] = sc) -> str:
            return f"{sc[kind].flagged}/{sc[kind].series}"

        changed = [sc[k] for k in kinds if k in sc]
        detected = sum(x.detected for x in changed)
        false = sum(x.false for x in changed)
        found = sum(x.found for x in changed if x is not sc.get("spike"))
        exact = sum(x.exact for x in changed if x is not sc.get("spike"))
        lines.append(f"{name[:23]:23}{flagged('noise'):>10}"
                     f"{flagged('noise, outliers anywhere'):>10}"
                     f"{sc['load (cpu)'].flagged / sc['load (cpu)'].series:>7.2f}"
                     f"{sc['load (wall)'].flagged / sc['load (wall)'].series:>8.2f}"
                     f"{sc['drift'].flagged / sc['drift'].series:>6.2f}"
                     f"{1 - false / detected if detected else 1.0:>6.2f}"
                     f"{exact / found if found else 0.0:>6.2f}")
    lines += ["", "Recall (true changes found within one commit):",
              f"{'detector':24}" + "".join(f"{short[k]:>6}" for k in kinds)]
    for name, sc in results.items():
        row = f"{name[:23]:24}"
        for k in kinds:
            x = sc.get(k)
            row += f"{x.found / x.changes:>6.2f}" if x and x.changes else f"{'-':>6}"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer series (a smoke run)")
    parser.add_argument("--no-real", action="store_true", help="no real runs")
    parser.add_argument("--only", help="only detectors whose name starts with this")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    per_kind, noise_series = (20, 200) if args.quick else (200, 2000)
    all_series = synthetic(rng, per_kind, noise_series)
    if not args.no_real and shutil.which("true"):
        start = os.times()
        all_series += real_series(2 if args.quick else 6, 15)
        end = os.times()
        cpu = sum(end[:4]) - sum(start[:4])
        print(f"real runs: {cpu:.1f}s CPU (with the children's)", file=sys.stderr)
    print(f"{len(all_series)} series; sigma {SIGMA:.0%} per point, point-to-point noise "
          f"{DIFF_NOISE:.1%}; changes of 3x that ({3 * DIFF_NOISE:.1%}) unless said")
    results = {}
    for name, detector in DETECTORS.items():
        if args.only and not name.startswith(args.only):
            continue
        start = time.process_time()
        results[name] = score(all_series, detector)
        print(f"{name}: {time.process_time() - start:.1f}s CPU", file=sys.stderr)
    print(table(results))
    new = results.get("new: PELT + own samples")
    if new:
        goal = [new[k] for k in ("step", *(f"bump-{k}" for k in range(2, 7)))]
        recall = sum(s.found for s in goal) / sum(s.changes for s in goal)
        exact = sum(s.exact for s in goal) / max(sum(s.found for s in goal), 1)
        print(f"\nnew detector on the goal set (steps, bumps of 2-6 at 3x): recall {recall:.3f} "
              f"(goal >= 0.95), exact commit {exact:.3f} (goal >= 0.90), false steps "
              f"{new['noise'].flagged}/{new['noise'].series} noise series (goal <= 1/400)")


if __name__ == "__main__":
    main()
