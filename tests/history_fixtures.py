"""Synthetic saved runs for the history tests: real Reports with made-up samples (no
processes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness import report as report_io
from harness.analyse.gate import decide
from harness.model import GatePolicy, Report, Samples, TimingSettings, VariantInfo


def synthetic_report(medians: dict[str, float], *, seed: int = 0,
                     created: str = "2026-01-01T00:00:00+00:00", runs: int = 30,
                     noise: float = 0.01, platform: str = "Linux x86_64, 2 CPUs",
                     workloads: tuple[str, ...] = ("import",),
                     revision: str | None = None) -> Report:
    """A report whose variants (named after their roles) have ``runs`` samples around the
    given medians (seconds), lognormal noise of ``noise``."""
    rng = np.random.default_rng(seed)
    variants = tuple(VariantInfo(name, f"{name} label", name if name in ("baseline", "main",
                                                                           "pr") else None,
                                 f"src {name}", "uv", revision if name == "main" else None)
                     for name in medians)
    samples = tuple(
        Samples(name, workload, "wall",
                tuple(float(v) for v in median * np.exp(rng.normal(0, noise, runs))),
                tuple(range(runs)))
        for workload in workloads for name, median in medians.items())
    return Report(
        schema_version=1, tool_version="0.1.0", created=created, title="synthetic",
        variants=variants, workloads=workloads, builds=(),
        timing=TimingSettings("spawn", 1, runs, "interleaved", {}, platform),
        samples=samples, summaries={}, comparisons=(), probes={},
        gate=decide(GatePolicy(), [], ["synthetic"]),
        gate_config=GatePolicy(enabled=False))


def write_report(path: Path, report: Report) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_io.dumps(report), encoding="utf-8")
    return path


def stepped_medians(n: int, steps: dict[int, float], *, base: float = 0.050,
                    noise: float = 0.006, outliers: dict[int, float] | None = None,
                    seed: int = 1) -> list[float]:
    """Per-commit medians: ``base`` times each step factor from its index on, between-run
    lognormal noise, and single-point outliers."""
    rng = np.random.default_rng(seed)
    level = np.ones(n)
    for index, factor in steps.items():
        level[index:] *= factor
    values = base * level * np.exp(rng.normal(0, noise, n))
    for index, factor in (outliers or {}).items():
        values[index] *= factor
    return [float(v) for v in values]


def commit_of(i: int) -> str:
    return f"{i:04x}" + "c0ffee" * 6


def build_history(tmp: Path, medians: list[float], *, baseline: float = 0.1) -> Path:
    """A store with one run per median (main's series), via the CLI's ``history add``."""
    from harness.cli import main

    store = tmp / "store"
    for i, median in enumerate(medians):
        report = synthetic_report({"baseline": baseline, "main": median}, seed=100 + i,
                                  created=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
                                  noise=0.004)
        path = write_report(tmp / "runs" / f"{i}.json", report)
        assert main(["history", "add", str(path), "--store", str(store),
                     "--commit", commit_of(i)]) == 0
    return store
