"""Timing with the spawn timer in batches of rounds: fixed runs (one batch) or ``runs: auto``
(batches until the gated comparisons are decisive or a budget is hit), with the machine's load
recorded before, during and after, and CPU time (user + system from ``wait4``) beside wall time.

The whole schedule for ``max_runs`` rounds is built once (:func:`harness.measure.timers.schedule`)
and cut into batches by round number, so round numbers and the alternating order continue from
batch to batch and every batch belongs to the same job; warmups run in the first batch only.
Each batch is one timer child with its own plan and results under ``raw/batch-NN/``. Whether
to stop is decided by :mod:`harness.analyse.sequential` through the ``look`` callback.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.analyse import sequential
from harness.measure import timers
from harness.measure.load import LoadMonitor
from harness.measure.timer_registry import AutoRuns, LookFn, Timed, TimedCommand, warmups_of
from harness.model import Samples, SequentialRecord


def _samples(commands: Sequence[TimedCommand], rows: list[list[float]],
             failures: list[dict[str, object]], raw_files: tuple[str, ...]
             ) -> tuple[Samples, ...]:
    """Wall and CPU samples of every command (failures described as the timer reports them)."""
    out = list(timers.samples_from_results(commands, rows, raw_files[0], "wall", failures))
    if rows and all(len(row) > 4 for row in rows):
        out += timers.samples_from_results(commands, rows, raw_files[0], "cpu", failures)
    return tuple(dataclasses.replace(s, raw_files=raw_files) for s in out)


def measure(commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
            env: Mapping[str, str], raw_dir: Path, seed: int = 0, timeout_s: float = 600.0,
            cwd: Path | None = None, progress: Callable[[str], None] | None = None,
            auto: AutoRuns | None = None, look: LookFn | None = None) -> Timed:
    """Time ``commands`` with the spawn timer: ``runs`` rounds in one batch, or with ``auto``
    in batches until ``look``'s comparisons are all decisive or the budget is reached."""
    with LoadMonitor() as monitor:
        if auto is None or look is None:
            out = timers.run_schedule_full(commands, warmup=warmup, runs=runs, order=order,
                                           env=env, raw_dir=raw_dir, seed=seed,
                                           timeout_s=timeout_s, cwd=cwd, progress=progress)
            samples = _samples(commands, out["results"], out["failures"],
                               ("spawn-times.json",))
            record = None
            notes = tuple(out.get("notes", ()))
        else:
            samples, record, notes = _auto(commands, warmup=warmup, order=order, env=env,
                                           raw_dir=raw_dir, seed=seed, timeout_s=timeout_s,
                                           cwd=cwd, progress=progress, auto=auto, look=look)
    return Timed(samples, record, monitor.record, notes)


def _auto(commands: Sequence[TimedCommand], *, warmup: int, order: str,
          env: Mapping[str, str], raw_dir: Path, seed: int, timeout_s: float,
          cwd: Path | None, progress: Callable[[str], None] | None, auto: AutoRuns,
          look: LookFn) -> tuple[tuple[Samples, ...], SequentialRecord, tuple[str, ...]]:
    say = progress or (lambda _m: None)
    plan = sequential.planned_looks(auto.batch, auto.max_runs)
    alphas = sequential.planned_alphas(plan, auto.alpha)
    full = timers.schedule(len(commands), warmup=warmups_of(commands, warmup),
                           runs=auto.max_runs, order=order, seed=seed)
    say(f"timing {len(commands)} commands with the spawn-wait timer: {order}, {warmup} warmup "
        f"+ runs: auto (looks every {auto.batch} runs, at most {auto.max_runs} runs or "
        f"{auto.max_seconds:g} s)")
    rows: list[list[float]] = []
    failures: list[dict[str, object]] = []
    notes: tuple[str, ...] = ()
    files: list[str] = []
    looks = []
    spent = 0.0
    start = time.perf_counter()
    stopped = "budget reached: max_runs"
    previous = 0
    samples: tuple[Samples, ...] = ()
    for k, n_runs in enumerate(plan):
        batch = [(r, i) for r, i in full if (r < 0 and k == 0) or previous <= r < n_runs]
        name = f"batch-{k:02d}"
        batch_start = time.perf_counter()
        out = timers.run_plan(commands, batch, env=env, raw_dir=raw_dir / name,
                              timeout_s=timeout_s, cwd=cwd, progress=progress,
                              first_position=full.index(batch[0]) if batch else 0,
                              order=order)
        rows += out["results"]
        failures += out["failures"]
        notes = tuple(dict.fromkeys([*notes, *out.get("notes", ())]))
        files.append(f"{name}/spawn-times.json")
        now = time.perf_counter()
        elapsed, batch_seconds = now - start, now - batch_start
        out_of_time = elapsed + batch_seconds * (plan[k + 1] - n_runs if k + 1 < len(plan)
                                                 else 0) / max(1, n_runs - previous) \
            > auto.max_seconds
        last = k == len(plan) - 1 or out_of_time
        alpha = sequential.look_alpha(alphas, spent, k, auto.alpha, last)
        spent += alpha
        samples = _samples(commands, rows, failures, tuple(files))
        if failures:  # failed runs are an error (the pipeline says which): no more batches
            looks.append(sequential.look_of(n_runs, elapsed, alpha, ()))
            stopped = "failed runs"
            break
        comparisons = look(samples, 1.0 - alpha, sequential.resamples_for(alpha))
        looks.append(sequential.look_of(n_runs, elapsed, alpha, comparisons))
        verdicts = [c.verdict for c in comparisons]
        say(f"look {k + 1}: {n_runs} runs, {', '.join(verdicts) or 'nothing to judge'} "
            f"at {(1 - alpha) * 100:.2f} %")
        previous = n_runs
        if sequential.decisive(verdicts) or not comparisons:
            stopped = "interval decisive" if comparisons else "nothing to judge"
            break
        if last:
            stopped = "budget reached: " + ("max_runs" if k == len(plan) - 1 else "max_seconds")
            break
    record = SequentialRecord(
        rule=sequential.RULE, alpha=auto.alpha, batch=auto.batch, max_runs=auto.max_runs,
        max_seconds=auto.max_seconds, planned=plan, planned_alpha=alphas, looks=tuple(looks),
        stopped=stopped)
    say(sequential.summary(record))
    return samples, record, notes


class SpawnTimer:
    """The spawn-and-wait timer as a :class:`harness.measure.timer_registry.Timer` (the default:
    calibrated better on a noisy runner, see bench/gate_calibration_results.md): wall and CPU
    time, fixed runs or ``runs: auto``."""

    name = "spawn"
    tools: tuple[str, ...] = ()

    def describe(self, env: Mapping[str, str]) -> str:
        return timers.TIMER_NAME

    def measure(self, commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                env: Mapping[str, str], raw_dir: Path, seed: int = 0, timeout_s: float = 600.0,
                progress: Callable[[str], None] | None = None, cwd: Path | None = None,
                auto: AutoRuns | None = None, look: LookFn | None = None) -> Timed:
        return measure(commands, warmup=warmup, runs=runs, order=order, env=env,
                       raw_dir=raw_dir, seed=seed, timeout_s=timeout_s, cwd=cwd,
                       progress=progress, auto=auto, look=look)


if TYPE_CHECKING:  # mypy checks that the class implements the Timer protocol
    from harness.measure.timer_registry import Timer

    _TIMER: Timer = SpawnTimer()
