"""A direct spawn-and-wait timer with the same shape as :func:`harness.measure.timing.measure`.

hyperfine with ``--runs 1`` per round pays one hyperfine start (and one JSON export) per round;
this timer starts one small stdlib-only child (:mod:`harness.measure._spawn_timer`) through
:func:`harness.proc.run` that runs the whole interleaved schedule itself with ``posix_spawn`` and
``waitpid``. The schedule (warmups first, then rounds in the order of
:mod:`harness.measure.orders`) is built here by a pure function so it can be tested without a
process.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import proc
from harness import progress as bar
from harness.errors import HarnessError
from harness.measure import orders
from harness.measure.timer_registry import TimedCommand, warmups_of
from harness.model import Samples

TIMER_SCRIPT = Path(__file__).with_name("_spawn_timer.py")
TIMER_NAME = "spawn-wait timer (posix_spawn + wait4, perf_counter_ns)"


def schedule(n_commands: int, *, warmup: int | Sequence[int], runs: int, order: str,
             seed: int = 0) -> list[tuple[int, int]]:
    """``(round, command index)`` pairs in execution order; round ``-1`` is a warmup.
    ``warmup``: the same count for every command, or one per command
    (:func:`harness.measure.timer_registry.warmups_of`).

    ``balanced`` (default): warmups round-robin ending with the first timed command, then one
    run of every command per round in a carry-over-balanced order (every command preceded by
    every command equally often, :mod:`harness.measure.orders`). ``interleaved``: warmups
    round-robin, then rounds forward and reversed on alternate rounds (ABC CBA ...).
    ``shuffled``: a seeded shuffle per round. ``duet``: every round's commands started together
    (the timer runs every ``n_commands`` consecutive entries as one launch; warmups too), the
    commands rotating over the CPUs. ``blocks``: every command's warmups and runs back to back
    (the seed's method). Warm-up passes are round-robin; a command with fewer warm-ups sits
    out the first passes, except in ``duet``, whose launches hold every command: there every
    command gets the most any command needs."""
    counts = orders.warmup_counts(n_commands, warmup)
    if order == "blocks":  # run numbers never repeat across blocks: nothing is paired
        return [pair for i in range(n_commands)
                for pair in [(-1, i)] * counts[i] + [(i * runs + r, i) for r in range(runs)]]
    if order not in orders.ORDERS:
        raise HarnessError(f"unknown timing order {order!r}",
                           f"use one of {', '.join(orders.ORDERS)}")
    rounds = orders.round_orders(n_commands, runs, order, seed)
    if order == "duet":  # every launch holds every command
        counts = [max(counts, default=0)] * n_commands
    # balanced: the passes end with the first timed command; else in index order
    last = rounds[0][0] if order == "balanced" and rounds else n_commands - 1
    plan = [(-1, i) for i in orders.warmup_order(n_commands, counts, last)]
    for r, indices in enumerate(rounds):
        plan += [(r, i) for i in indices]
    return plan


def describe_failure(failure: Mapping[str, object]) -> str:
    """``timed out after 5s in warmup`` / ``exit 3 in run 2: <last stderr line>``."""
    round_no = int(str(failure.get("round", 0)))
    where = "a warmup run" if round_no < 0 else f"timed run {round_no + 1}"
    stderr = str(failure.get("stderr") or "").strip()
    what = ("timed out" if failure.get("timed_out")
            else f"exit {failure.get('exit_code')}")
    last = stderr.splitlines()[-3:] if stderr else []
    return f"{what} in {where}" + (f": {' / '.join(last)}" if last else "")


def samples_from_results(commands: Sequence[TimedCommand], results: Sequence[Sequence[float]],
                         raw_file: str, metric: str = "wall",
                         failures: Sequence[Mapping[str, object]] = ()) -> tuple[Samples, ...]:
    """One Samples per command from the timer's ``[round, index, seconds, exit_code, cpu,
    position]`` rows (``position`` optional): wall seconds (``metric="wall"``) or the child's
    user + system CPU seconds (``metric="cpu"``). ``failures`` (the timer's failing runs) give
    each command's first failure, described."""
    first_failure: dict[int, str] = {}
    for failure in failures:
        first_failure.setdefault(int(str(failure["index"])), describe_failure(failure))
    column = {"wall": 2, "cpu": 4}[metric]
    values: list[list[float]] = [[] for _ in commands]
    rounds: list[list[int]] = [[] for _ in commands]
    codes: list[list[int]] = [[] for _ in commands]
    positions: list[list[int]] = [[] for _ in commands]
    for row in results:
        i = int(row[1])
        values[i].append(float(row[column]))
        rounds[i].append(int(row[0]))
        codes[i].append(int(row[3]))
        if len(row) > 5:
            positions[i].append(int(row[5]))
    return tuple(
        Samples(variant=c.variant, workload=c.workload, metric=metric, values=tuple(values[i]),
                rounds=tuple(rounds[i]), scenario=c.scenario, raw_files=(raw_file,),
                exit_codes=tuple(codes[i]), failure=first_failure.get(i, ""),
                positions=tuple(positions[i]) if len(positions[i]) == len(values[i]) else ())
        for i, c in enumerate(commands))


def run_schedule(commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                 env: Mapping[str, str], raw_dir: Path, seed: int = 0,
                 timeout_s: float = 600.0, cwd: Path | None = None) -> list[list[float]]:
    """Run the schedule in one timer child; its ``[round, index, seconds, exit_code, cpu]``
    rows (the plan and the rows are kept in ``raw_dir``). ``timeout_s`` bounds each run."""
    return run_schedule_full(commands, warmup=warmup, runs=runs, order=order, env=env,
                             raw_dir=raw_dir, seed=seed, timeout_s=timeout_s,
                             cwd=cwd)["results"]


def run_schedule_full(commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                      env: Mapping[str, str], raw_dir: Path, seed: int = 0,
                      timeout_s: float = 600.0, cwd: Path | None = None,
                      progress: Callable[[str], None] | None = None) -> dict[str, list[Any]]:
    """Run the schedule in one timer child; its output: ``results`` rows and ``failures``.
    With ``progress``, the child reports each run as it finishes (one line on a pipe, between
    runs) and the count of runs done reaches ``progress`` as it happens."""
    return run_plan(commands, schedule(len(commands), warmup=warmups_of(commands, warmup),
                                       runs=runs, order=order, seed=seed),
                    env=env, raw_dir=raw_dir, timeout_s=timeout_s, cwd=cwd, progress=progress,
                    order=order)


#: What a run says when its duet timer could not run at real-time priority.
DUET_NOT_REALTIME = (
    "order: duet: the timer ran without real-time priority (it needs root or CAP_SYS_NICE), "
    "so on a busy machine both commands of a pair may get the same late end time, which "
    "squeezes wall-time ratios towards 1; CPU time is unaffected (gate on `metric: cpu`)")


def check_duet(n_commands: int) -> None:
    """Order ``duet`` needs one CPU per command of a round (this process's allowed CPUs)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    if n_commands > cpus:
        raise HarnessError(
            f"timing.order duet: {n_commands} commands start together but only {cpus} CPUs "
            "are available (one per command)",
            "time fewer commands (variants x workloads x scenarios) or use order: balanced")


def run_plan(commands: Sequence[TimedCommand], plan_schedule: Sequence[tuple[int, int]], *,
             env: Mapping[str, str], raw_dir: Path, timeout_s: float = 600.0,
             cwd: Path | None = None, progress: Callable[[str], None] | None = None,
             first_position: int = 0, order: str = "") -> dict[str, list[Any]]:
    """Run ``plan_schedule`` (``(round, index)`` pairs, round -1 = warmup) in one timer child
    (plan and output kept in ``raw_dir``; ``order`` ``duet`` starts each round's commands
    together, and ``notes`` says when its timer lacked real-time priority); its ``results`` rows
    ``[round, index, seconds, exit_code, cpu, position]`` and ``failures``. Positions count
    from ``first_position`` (the batch's place in a longer schedule)."""
    raw_dir = raw_dir.resolve()
    raw_dir.mkdir(parents=True, exist_ok=True)
    plan_path, out_path = raw_dir / "spawn-plan.json", raw_dir / "spawn-times.json"
    plan: dict[str, Any] = {"commands": [list(c.argv) for c in commands],
            "prepare": [list(c.prepare) if c.prepare else None for c in commands],
            "schedule": [list(pair) for pair in plan_schedule],
            "cwd": str(cwd) if cwd else None, "timeout_s": timeout_s,
            "keep_going": [c.allow_failure for c in commands], "parent_pid": os.getpid(),
            "env": [dict(c.env) for c in commands],
            "progress": progress is not None, "first_position": first_position}
    if order == "duet":
        check_duet(len(commands))
        plan["order"] = "duet"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    n_runs = len(plan["schedule"]) * (2 if any(plan["prepare"]) else 1)
    argv = [sys.executable, "-S", "-E", str(TIMER_SCRIPT), str(plan_path), str(out_path)]
    limit = timeout_s * n_runs + 60
    hint = "run the workload by hand to see why it fails"
    if progress is None:
        proc.run(argv, env=env, what="spawn-wait timer", timeout=limit, hint=hint)
    else:
        total = len(plan["schedule"])
        bar.start(progress, f"timing {len(commands)} commands", total)
        tick = bar.Throttle(progress)
        proc.stream(argv, env=env, what="spawn-wait timer", timeout=limit, hint=hint,
                    on_line=lambda line: tick(int(line), total) if line.isdigit() else None)
    data = json.loads(out_path.read_text(encoding="utf-8"))
    notes = [DUET_NOT_REALTIME] if order == "duet" and not data.get("realtime") else []
    return {"results": list(data["results"]), "failures": list(data.get("failures", [])),
            "notes": notes}


def measure(commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
            env: Mapping[str, str], raw_dir: Path, hyperfine: str = "", seed: int = 0,
            timeout_s: float = 600.0, progress: Callable[[str], None] | None = None,
            metric: str = "wall", cwd: Path | None = None) -> tuple[Samples, ...]:
    """Time every command ``runs`` times after ``warmup`` runs with the spawn-and-wait timer.
    ``hyperfine`` is accepted (and ignored) so this is a drop-in for ``timing.measure``;
    ``metric="cpu"`` returns the children's CPU time instead of wall time."""
    del hyperfine
    out = run_schedule_full(commands, warmup=warmup, runs=runs, order=order, env=env,
                            raw_dir=raw_dir, seed=seed, timeout_s=timeout_s, cwd=cwd,
                            progress=progress)
    return samples_from_results(commands, out["results"], "spawn-times.json", metric,
                                out["failures"])
