"""Timing in batches (``runs: auto``) with the real spawn timer on tiny commands."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.measure import adaptive
from harness.measure.timing import TimedCommand
from harness.model import Comparison, Samples

COMMANDS = [TimedCommand("main", "w", (sys.executable, "-S", "-c", "pass")),
            TimedCommand("pr", "w", (sys.executable, "-S", "-c", "pass"))]
ENV = {"PATH": "/usr/bin:/bin"}


def fake_look(decisive_at: int, seen: list[tuple[int, float, int]]) -> adaptive.LookFn:
    """A look that is inconclusive until ``decisive_at`` rounds have been measured."""

    def look(samples: Sequence[Samples], confidence: float,
             n_resamples: int) -> list[Comparison]:
        runs = len(samples[0].values)
        seen.append((runs, confidence, n_resamples))
        verdict = "no change" if runs >= decisive_at else "inconclusive"
        return [Comparison("pr", "main", "w", "wall", "paired", 1.0, 0.99, 1.01, confidence,
                           5.0, verdict)]

    return look


def test_auto_stops_when_decisive_with_continuous_rounds(tmp_path: Path) -> None:
    seen: list[tuple[int, float, int]] = []
    timed = adaptive.measure(COMMANDS, warmup=1, runs=50, order="interleaved", env=ENV,
                             raw_dir=tmp_path, auto=adaptive.AutoRuns(6, 60, 600.0, 0.05),
                             look=fake_look(18, seen))
    record = timed.sequential
    assert record is not None and record.stopped == "interval decisive"
    assert [n for n, _, _ in seen] == [6, 12, 18] and record.runs == 18
    assert [look.alpha for look in record.looks] == pytest.approx([0.005] * 3)
    assert seen[0][1] == pytest.approx(0.995) and seen[0][2] == 4000
    wall = [s for s in timed.samples if s.metric == "wall"]
    cpu = [s for s in timed.samples if s.metric == "cpu"]
    assert len(wall) == len(cpu) == 2
    assert wall[0].rounds == tuple(range(18))  # one job: rounds continue across batches
    # execution positions continue across batches too, so every predecessor is known
    places = sorted(wall[0].positions + wall[1].positions)
    assert places == list(range(2, 2 + 36))  # after 1 x 2 warmups
    assert wall[0].raw_files == tuple(f"batch-{k:02d}/spawn-times.json" for k in range(3))
    assert all((tmp_path / f"batch-{k:02d}" / "spawn-plan.json").exists() for k in range(3))
    assert timed.load.samples[0].at == "before" and timed.load.samples[-1].at == "after"


def test_auto_budget_spends_the_rest_on_the_last_look(tmp_path: Path) -> None:
    seen: list[tuple[int, float, int]] = []
    timed = adaptive.measure(COMMANDS, warmup=0, runs=50, order="interleaved", env=ENV,
                             raw_dir=tmp_path, auto=adaptive.AutoRuns(6, 60, 0.001, 0.05),
                             look=fake_look(1000, seen))
    record = timed.sequential
    assert record is not None and record.stopped == "budget reached: max_seconds"
    assert record.runs == 6 and record.looks[0].alpha == 0.05  # the only look spends it all


def test_fixed_runs_are_one_batch_with_cpu_time(tmp_path: Path) -> None:
    timed = adaptive.measure(COMMANDS, warmup=0, runs=6, order="interleaved", env=ENV,
                             raw_dir=tmp_path)
    assert timed.sequential is None
    assert {s.metric for s in timed.samples} == {"wall", "cpu"}
    assert (tmp_path / "spawn-times.json").exists()
    assert timed.load.cpus >= 1


def test_cpu_counters_from_proc_stat_text() -> None:
    from harness.measure.load import cpu_counters

    hz = 100
    text = "cpu  1000 0 500 8000 100 0 0 50 0 0"
    busy, total, steal = cpu_counters(text)
    import os

    hz = os.sysconf("SC_CLK_TCK")
    assert (busy, total, steal) == pytest.approx((1550 / hz, 9650 / hz, 50 / hz))
    assert cpu_counters("intr 1 2 3") == (0.0, 0.0, 0.0)
