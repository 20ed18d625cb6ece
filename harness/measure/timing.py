"""Start-up timing with hyperfine: command lines (pure), export parsing (pure), and the
round scheduler that runs them.

Rounds-based orders (``balanced``, the default, ``interleaved``, ``shuffled``; see
:mod:`harness.measure.orders`): one hyperfine call per round with every command and
``--runs 1``, warmups first, so slow bursts of machine noise hit every variant alike. Order
``blocks`` is the seed's method: one hyperfine call per command with ``--warmup W --runs N``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import proc
from harness import progress as bar
from harness.errors import ConfigError, HarnessError
from harness.measure import orders
from harness.measure.timer_registry import AutoRuns, LookFn, Timed, TimedCommand, warmups_of
from harness.measure.tools import find_tool
from harness.model import Samples

_UNIT_SECONDS = {"second": 1.0, "s": 1.0, "millisecond": 1e-3, "ms": 1e-3,
                 "microsecond": 1e-6, "us": 1e-6, "nanosecond": 1e-9, "ns": 1e-9}


@dataclass(frozen=True)
class Measurement:
    """One parsed hyperfine result: a command's wall times and exit codes."""

    name: str
    times: tuple[float, ...]
    exit_codes: tuple[int, ...]


def hyperfine_version(hyperfine: str, env: Mapping[str, str]) -> str:
    """``hyperfine X.Y.Z`` as the binary reports it."""
    return proc.run([hyperfine, "--version"], env=env, what="hyperfine --version",
                    timeout=30).stdout.strip()


def hyperfine_argv(hyperfine: str, commands: Sequence[TimedCommand], *, runs: int, warmup: int,
                   export_json: Path) -> list[str]:
    """The hyperfine command line timing ``commands`` (no shell for the timed commands)."""
    argv = [hyperfine, "-N", "--style", "none", "--runs", str(runs), "--warmup", str(warmup),
            "--ignore-failure", "--export-json", str(export_json)]
    if any(c.prepare for c in commands):
        for command in commands:
            # hyperfine runs --prepare through sh: every argument is quoted.
            argv += ["--prepare", shlex.join(command.prepare) if command.prepare else "true"]
    for command in commands:
        argv += ["--command-name", command.key]
    argv += [shlex.join(command_with_env(command)) for command in commands]
    return argv


def command_with_env(command: TimedCommand) -> tuple[str, ...]:
    """hyperfine gives every command of a call the same environment: a command with its own
    variables (a Bazel variant's ``RUNFILES_DIR``) runs through ``env NAME=VALUE``."""
    if not command.env:
        return command.argv
    return ("env", *[f"{k}={v}" for k, v in sorted(command.env.items())], *command.argv)


def parse_export(data: Mapping[str, Any]) -> list[Measurement]:
    """Parse a hyperfine JSON export: 2.x (``measurements[].time_wall_clock``) or 1.x
    (``times``, ``exit_codes``). Times in seconds."""
    results = data.get("results")
    if not isinstance(results, list):
        raise HarnessError("hyperfine export has no results list",
                           "is this a hyperfine --export-json file?")
    parsed: list[Measurement] = []
    for result in results:
        name = str(result.get("name") or result.get("command", ""))
        if "measurements" in result:
            times, codes = [], []
            for m in result["measurements"]:
                wall = m["time_wall_clock"]
                times.append(float(wall["value"]) * _UNIT_SECONDS[wall.get("unit", "second")])
                codes.append(int(m.get("exit_code", 0) or 0))
            parsed.append(Measurement(name, tuple(times), tuple(codes)))
        elif "times" in result:
            times_1x = tuple(float(t) for t in result["times"])
            codes_1x = tuple(int(c or 0) for c in result.get("exit_codes", [0] * len(times_1x)))
            parsed.append(Measurement(name, times_1x, codes_1x))
        else:
            raise HarnessError(f"hyperfine export: result {name!r} has neither measurements "
                               "nor times", "unsupported hyperfine version?")
    return parsed


def measure(commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
            env: Mapping[str, str], raw_dir: Path, hyperfine: str, seed: int = 0,
            timeout_s: float = 600.0, progress: Callable[[str], None] | None = None,
            cwd: Path | None = None) -> tuple[Samples, ...]:
    """Time every command ``runs`` times after ``warmup`` runs (fewer for a command already
    warmed: :func:`~harness.measure.timer_registry.warmups_of`); every raw export is kept in
    ``raw_dir``. Returns one Samples per command, in the order given."""
    raw_dir = raw_dir.resolve()
    raw_dir.mkdir(parents=True, exist_ok=True)
    values: dict[str, list[float]] = {c.key: [] for c in commands}
    rounds: dict[str, list[int]] = {c.key: [] for c in commands}
    codes: dict[str, list[int]] = {c.key: [] for c in commands}
    files: dict[str, list[str]] = {c.key: [] for c in commands}
    failures: dict[str, str] = {}
    positions: dict[str, list[int]] = {c.key: [] for c in commands}
    executed = [0]  # processes hyperfine started so far (warmups included)

    def call(batch: Sequence[TimedCommand], n_runs: int, n_warmup: int, export: Path,
             round_no: int | None) -> None:
        argv = hyperfine_argv(hyperfine, batch, runs=n_runs, warmup=n_warmup, export_json=export)
        proc.run(argv, env=env, cwd=cwd, what="hyperfine",
                 timeout=timeout_s * len(batch) * (n_runs + n_warmup),
                 hint="run the workload by hand to see why it fails")
        measured = parse_export(json.loads(export.read_text(encoding="utf-8")))
        if len(measured) != len(batch):
            raise HarnessError(f"hyperfine export {export} has {len(measured)} results, "
                               f"expected {len(batch)}", "")
        by_name = {m.name: m for m in measured}
        if set(by_name) == {c.key for c in batch}:
            measured = [by_name[c.key] for c in batch]
        for command, result in zip(batch, measured, strict=True):
            start = executed[0] + n_warmup
            positions[command.key].extend(range(start, start + len(result.times)))
            executed[0] += n_warmup + len(result.times)
            values[command.key].extend(result.times)
            codes[command.key].extend(result.exit_codes)
            if round_no is None:  # blocks: run numbers never repeat, nothing is paired
                start = commands.index(command) * runs
                rounds[command.key].extend(range(start, start + len(result.times)))
            else:
                rounds[command.key].extend([round_no] * len(result.times))
            files[command.key].append(export.name)

    counts = dict(zip((c.key for c in commands), warmups_of(commands, warmup), strict=True))
    if order == "blocks":
        for i, command in enumerate(commands):
            if progress:
                progress(f"timing {command.key} ({counts[command.key]} warmup + {runs} runs)")
                bar.start(progress, f"timing {len(commands)} commands", len(commands))
                bar.advance(progress, i)
            call([command], runs, counts[command.key], raw_dir / f"block-{i:03d}.json", None)
    elif order in orders.ORDERS:
        plan = orders.round_orders(len(commands), runs, order, seed)
        # hyperfine runs each command's warmups back to back: the first timed command last;
        # one call per warm-up count (a command already warmed needs fewer, or none)
        first = plan[0][0] if plan else 0
        in_order = [commands[(first + 1 + i) % len(commands)] for i in range(len(commands))]
        by_count = sorted({counts[c.key] for c in in_order} - {0}, reverse=True)
        for n_warmup in by_count:
            warm = [c for c in in_order if counts[c.key] == n_warmup]
            if progress:
                progress(f"warmup: {n_warmup} runs of each of {len(warm)} commands")
            warm_export = raw_dir / ("warmup.json" if len(by_count) == 1
                                     else f"warmup-{n_warmup}.json")
            argv = hyperfine_argv(hyperfine, warm, runs=1, warmup=n_warmup,
                                  export_json=warm_export)
            proc.run(argv, env=env, cwd=cwd, what="hyperfine (warmup)",
                     timeout=timeout_s * len(warm) * (n_warmup + 1))
            executed[0] += len(warm) * (n_warmup + 1)
            # the run after the warmups is in the export: a failure there fails the command
            warmed = parse_export(json.loads(warm_export.read_text(encoding="utf-8")))
            for command, result in zip(warm, warmed, strict=False):
                bad = [c for c in result.exit_codes if c != 0]
                if bad:
                    failures.setdefault(command.key, f"exit {bad[0]} in a warmup run")
        for r, indices in enumerate(plan):
            batch = [commands[i] for i in indices]
            if progress:
                if r == 0:
                    bar.start(progress, f"timing {len(commands)} commands", runs)
                bar.advance(progress, r)
            call(batch, 1, 0, raw_dir / f"round-{r:04d}.json", r)
        if progress:
            bar.advance(progress, runs)
    else:
        raise HarnessError(f"unknown timing order {order!r}",
                           f"use one of {', '.join(orders.ORDERS)}")

    return tuple(
        Samples(variant=c.variant, workload=c.workload, metric="wall",
                values=tuple(values[c.key]), rounds=tuple(rounds[c.key]), scenario=c.scenario,
                raw_files=tuple(files[c.key]), exit_codes=tuple(codes[c.key]),
                positions=tuple(positions[c.key]), failure=failures.get(c.key, ""))
        for c in commands)


class HyperfineTimer:
    """hyperfine as a :class:`harness.measure.timer_registry.Timer`: one hyperfine call per
    round (interleaved, shuffled) or per command (blocks)."""

    name = "hyperfine"
    tools: tuple[str, ...] = ("hyperfine",)

    def __init__(self, hyperfine: str | None = None) -> None:
        self._hyperfine = hyperfine

    @property
    def hyperfine(self) -> str:
        """The hyperfine binary (found on first use)."""
        if self._hyperfine is None:
            self._hyperfine = find_tool("hyperfine")
        return self._hyperfine

    def describe(self, env: Mapping[str, str]) -> str:
        return hyperfine_version(self.hyperfine, env)

    def measure(self, commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                env: Mapping[str, str], raw_dir: Path, seed: int = 0, timeout_s: float = 600.0,
                progress: Callable[[str], None] | None = None, cwd: Path | None = None,
                auto: AutoRuns | None = None, look: LookFn | None = None) -> Timed:
        if auto is not None:
            raise ConfigError("runs: auto needs the spawn timer", "drop timing.timer: hyperfine")
        from harness.measure.load import LoadMonitor

        if progress:
            progress(f"timing {len(commands)} commands: {order}, {warmup} warmup + {runs} runs")
        with LoadMonitor() as monitor:
            samples = measure(commands, warmup=warmup, runs=runs, order=order, env=env,
                              raw_dir=raw_dir, hyperfine=self.hyperfine, seed=seed,
                              timeout_s=timeout_s, progress=progress, cwd=cwd)
        return Timed(samples, None, monitor.record)


if TYPE_CHECKING:  # mypy checks that the class implements the Timer protocol
    from harness.measure.timer_registry import Timer

    _TIMER: Timer = HyperfineTimer()
