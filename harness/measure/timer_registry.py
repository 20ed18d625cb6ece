"""The Timer protocol and the timers chosen by name (``timing.timer``: spawn, hyperfine).

A timer is one class with ``name``, ``describe(env)`` and ``measure(commands, ...)`` returning
a :class:`Timed`; the pipeline calls only this protocol, for every timer (the default
included). Adding a timer is one module and one line in :data:`TIMERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.errors import ConfigError
from harness.model import Comparison, Samples, SequentialRecord, TimingLoad

#: look(samples so far, confidence, bootstrap resamples) -> the gated comparisons
LookFn = Callable[[Sequence[Samples], float, int], Sequence[Comparison]]

#: Every timer: name -> "module:Class". Adding a timer is one class and one line here.
TIMERS: dict[str, str] = {
    "spawn": "harness.measure.adaptive:SpawnTimer",
    "hyperfine": "harness.measure.timing:HyperfineTimer",
}


@dataclass(frozen=True)
class TimedCommand:
    """One thing to time: a variant's workload (in a scenario), as an argv."""

    variant: str
    workload: str
    argv: tuple[str, ...]
    scenario: str = "default"
    prepare: tuple[str, ...] | None = None  # argv run before each timed run (not timed)
    allow_failure: bool = False  # a non-zero exit is expected: keep timing it
    env: Mapping[str, str] = field(default_factory=dict)  # set for this command only
    #: runs of this very command (its interpreter, argv, environment, directory) made just
    #: before timing that count as its warm-ups: the timer runs that many fewer
    warmed: int = 0

    @property
    def key(self) -> str:
        suffix = "" if self.scenario == "default" else f"@{self.scenario}"
        return f"{self.variant}/{self.workload}{suffix}"


def warmups_of(commands: Sequence[TimedCommand], warmup: int) -> list[int]:
    """The warm-up runs a timer gives each command: ``warmup`` less the runs that already
    warmed it (:attr:`TimedCommand.warmed`), never below 0."""
    return [max(0, warmup - c.warmed) for c in commands]


@dataclass(frozen=True)
class AutoRuns:
    """The budget and batch size of ``timing: {runs: auto}``."""

    batch: int
    max_runs: int
    max_seconds: float
    alpha: float  # 1 - gate.confidence


@dataclass(frozen=True)
class Timed:
    """What a timer measured: wall (and CPU) samples, the stopping record, the load."""

    samples: tuple[Samples, ...]
    sequential: SequentialRecord | None
    load: TimingLoad
    notes: tuple[str, ...] = ()  # what the timer could not do as asked (for the report)


class Timer(Protocol):
    """Times commands in rounds; every timer returns one Samples per command, in order."""

    @property
    def name(self) -> str: ...

    @property
    def tools(self) -> tuple[str, ...]:
        """External programs it runs, checked before anything is built."""
        ...

    def describe(self, env: Mapping[str, str]) -> str:
        """What timed the runs, for the report (e.g. ``hyperfine 1.19.0``)."""
        ...

    def measure(self, commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                env: Mapping[str, str], raw_dir: Path, seed: int = 0, timeout_s: float = 600.0,
                progress: Callable[[str], None] | None = None, cwd: Path | None = None,
                auto: AutoRuns | None = None, look: LookFn | None = None) -> Timed:
        """Time every command ``runs`` times after ``warmup`` runs (fewer for a command
        already warmed: :func:`warmups_of`) in ``order`` (with
        ``auto``: in batches until ``look``'s comparisons are decisive; a timer that cannot
        raises :class:`~harness.errors.ConfigError`), with the machine's load; raw files go
        to ``raw_dir``."""
        ...


def get_timer(name: str) -> Timer:
    """A new timer registered as ``name``."""
    if name not in TIMERS:
        raise ConfigError(f"unknown timer {name!r}", f"known: {', '.join(sorted(TIMERS))}")
    module, cls = TIMERS[name].split(":")
    timer: Timer = getattr(importlib.import_module(module), cls)()
    return timer
