"""Sweeps: the pure growth fit on synthetic data, and real sweep venvs timed for real."""

from __future__ import annotations

import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import proc
from harness.analyse.sweep import fit_growth
from harness.measure import sweep


def _noisy(level_costs: dict[int, float], runs: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[cost * (1 + rng.gauss(0, 0.03)) + (0.05 if rng.random() < 0.05 else 0.0)
             for _ in range(runs)] for cost in level_costs.values()]


def test_linear_growth_slope_and_no_curvature() -> None:
    levels = [0, 50, 100, 200, 400]
    costs = {x: 0.020 + 0.00029 * x for x in levels}
    fit = fit_growth("sys_path_entries", levels, _noisy(costs, 30, 1))
    assert fit.slope_low_s <= 0.00029 <= fit.slope_high_s
    assert abs(fit.slope_s - 0.00029) / 0.00029 < 0.1
    assert not fit.curved
    assert fit.sentence().startswith("each sys.path entry costs 0.29")


def test_quadratic_growth_is_flagged() -> None:
    levels = [0, 100, 200, 400, 800]
    costs = {x: 0.020 + 2e-7 * x * x for x in levels}
    fit = fit_growth("pth_files", levels, _noisy(costs, 20, 2))
    assert fit.curved
    assert "faster than linear" in fit.sentence()


def test_flat_noise_is_neither_costly_nor_curved() -> None:
    levels = [0, 100, 200, 400]
    fit = fit_growth("distributions", levels, _noisy(dict.fromkeys(levels, 0.02), 30, 3))
    assert fit.slope_low_s <= 0 <= fit.slope_high_s
    assert not fit.curved


def test_too_few_levels_is_refused() -> None:
    with pytest.raises(ValueError):
        fit_growth("pth_files", [0, 1], [[1.0], [2.0]])


def _cpu(python: str, env: dict[str, str]) -> float:
    """User + system CPU seconds of one start (steadier than wall time on a loaded machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, "-c", "pass"], env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _time(python: str, runs: int, env: dict[str, str]) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([python, "-c", "pass"], env=env, check=True)
        out.append(time.perf_counter() - start)
    return out


@pytest.mark.slow
def test_sweep_venvs_cost_like_an_independent_measurement(tmp_path: Path) -> None:
    """The sweep's per-entry cost at the front of sys.path agrees (±30 %) with PYTHONPATH
    entries made and timed independently here, on the same bare venv (what an entry costs
    depends on how many imports search it, so both sides start the same interpreter)."""
    env = proc.controlled_env()
    base = sys.executable
    levels = [0, 100, 200, 400]
    points = [sweep.make_point(base, [], "sys_path_entries", n, tmp_path / "s", env,
                               position="front") for n in levels]
    for point, n in zip(points, levels, strict=True):
        done = subprocess.run([point.python, "-c", "import sys; print(len(sys.path))"],
                              env={**env, **point.env}, capture_output=True, text=True,
                              check=True)
        assert int(done.stdout) >= n
    samples: list[list[float]] = [[] for _ in levels]
    independent: dict[int, list[float]] = {0: [], 400: []}
    dirs = [tmp_path / "ind" / f"d{i}" for i in range(400)]
    for d in dirs:
        d.mkdir(parents=True)
    pythonpath = dict(env, PYTHONPATH=":".join(map(str, dirs)))
    for _ in range(15):  # interleaved rounds
        for i, point in enumerate(points):
            samples[i] += _time(point.python, 1, {**env, **point.env})
        independent[0] += _time(points[0].python, 1, env)
        independent[400] += _time(points[0].python, 1, pythonpath)
    fit = fit_growth("sys_path_entries", levels, samples)
    reference = (statistics.median(independent[400]) - statistics.median(independent[0])) / 400
    assert reference > 0
    assert abs(fit.slope_s - reference) / reference < 0.3, (fit.sentence(), reference)


@pytest.mark.slow
def test_pth_files_with_import_lines_grow_faster_than_linear(tmp_path: Path) -> None:
    env = proc.controlled_env()
    levels = [0, 75, 150, 225, 300]
    points = [sweep.make_point(sys.executable, [], "pth_files", n, tmp_path / "s", env,
                               import_lines=True) for n in levels]
    samples: list[list[float]] = [[] for _ in levels]
    for _ in range(7):
        for i, point in enumerate(points):
            samples[i].append(_cpu(point.python, env))
    fit = fit_growth("pth_files", levels, samples)
    assert fit.curved, (fit.sentence(), samples)
