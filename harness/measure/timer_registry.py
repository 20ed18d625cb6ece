"""The Timer protocol and the timers chosen by name (``timing.timer``: spawn, hyperfine)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.model import Samples

#: Every timer: name -> "module:Class". Adding a timer is one class and one line here.
TIMERS: dict[str, str] = {
    "spawn": "harness.measure.timers:SpawnTimer",
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

    @property
    def key(self) -> str:
        suffix = "" if self.scenario == "default" else f"@{self.scenario}"
        return f"{self.variant}/{self.workload}{suffix}"


class Timer(Protocol):
    """Times commands in rounds; every timer returns one Samples per command, in order."""

    @property
    def name(self) -> str: ...

    def describe(self, env: Mapping[str, str]) -> str:
        """What timed the runs, for the report (e.g. ``hyperfine 1.19.0``)."""
        ...

    def measure(self, commands: Sequence[TimedCommand], *, warmup: int, runs: int, order: str,
                env: Mapping[str, str], raw_dir: Path, seed: int = 0, timeout_s: float = 600.0,
                progress: Callable[[str], None] | None = None,
                cwd: Path | None = None) -> tuple[Samples, ...]:
        """Time every command ``runs`` times after ``warmup`` runs in ``order``; raw files go
        to ``raw_dir``."""
        ...


def get_timer(name: str) -> Timer:
    """A new timer registered as ``name``."""
    if name not in TIMERS:
        raise ConfigError(f"unknown timer {name!r}", f"known: {', '.join(sorted(TIMERS))}")
    module, cls = TIMERS[name].split(":")
    timer: Timer = getattr(importlib.import_module(module), cls)()
    return timer
