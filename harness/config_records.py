"""The config's records (frozen, validated by :mod:`harness.config`, which loads them).

They sit below :mod:`harness.measure` so builders, sources and sweeps can take them without
importing the loader, which assembles its schema from the builder and timer registries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness import defaults
from harness.model import GatePolicy

#: The gate block of a config (also the limits a record's policy is held to).
GATE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "`gate: off` (or false): measure and compare, decide nothing "
                   "(exit 0 unless something fails)",
    "properties": {
        "compare": {"type": "string"},
        "against": {"type": "string"},
        "workload": {"type": "string"},
        "metric": {"enum": list(defaults.GATE_METRICS)},
        "statistic": {"enum": ["paired", "median", "mean"]},
        "threshold_pct": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "confidence": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 1},
        "inconclusive": {"enum": ["pass", "fail"]},
        "carryover": {"enum": ["report", "adjust"]},
    },
}

#: The matrix block of a config (also what a record's carried matrix is held to).
MATRIX_SCHEMA: dict[str, Any] = {
    "type": "object", "minProperties": 1,
    "description": "Axes of a matrix: `python` (interpreters, by version found on "
                   "PATH or in pyenv, or by path) expands every variant per "
                   "interpreter; any other axis (e.g. `os`) labels the CI job that "
                   "runs a cell (`run --cell os=...`).",
    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]{0,31}$"},
    "additionalProperties": {
        "type": "array", "minItems": 1, "maxItems": 32, "uniqueItems": True,
        "items": {"type": "string", "minLength": 1, "maxLength": 200,
                  "pattern": "^[^,=\\n]+$"}},
}

#: Placeholders every builder fills; a builder may add its own (``Builder.placeholders``).
PLACEHOLDERS = ("python", "bin", "prefix", "source", "workdir")


@dataclass(frozen=True)
class Source:
    """Where a variant comes from; exactly one kind."""

    kind: str  # "requirement" | "git" | "path" | "python" | a kind a builder owns ("bcr")
    requirements: tuple[str, ...] = ()
    repo: str | None = None  # git: repository path (absolute)
    ref: str | None = None
    subdir: str = ""
    path: str | None = None  # path / python: absolute
    #: a builder-owned kind: the record its ``SourceKind.record`` made (bcr: ``BcrRelease``)
    spec: object = None


@dataclass(frozen=True)
class BuildSpec:
    """How a variant's environment is built: the builder, and its own options record."""

    builder: str
    options: object = None  # the builder's frozen options (e.g. UvOptions)
    timeout_s: float = defaults.BUILD_TIMEOUT_S


@dataclass(frozen=True)
class VariantConfig:
    name: str
    label: str
    role: str | None
    source: Source
    build: BuildSpec


@dataclass(frozen=True)
class WorkloadConfig:
    name: str
    argv: tuple[str, ...]
    metrics: tuple[str, ...] = ("wall",)
    scenarios: tuple[str, ...] = ()
    importtime: bool = True
    allow_failure: bool = False
    env: dict[str, str] = field(default_factory=dict)  # set for this workload only


@dataclass(frozen=True)
class TimingConfig:
    warmup: int = defaults.WARMUP
    runs: int = defaults.RUNS  # fixed runs (ignored with ``auto``)
    auto: bool = False  # runs: auto (group-sequential, see harness.analyse.sequential)
    batch: int = defaults.AUTO_BATCH
    max_runs: int = defaults.AUTO_MAX_RUNS
    max_seconds: float = defaults.AUTO_MAX_SECONDS
    order: str = defaults.ORDER
    timer: str = defaults.TIMER
    seed: int = 0
    timeout_s: float = defaults.TIMING_TIMEOUT_S
    instruction_runs: int = defaults.INSTRUCTION_RUNS
    env_pass: tuple[str, ...] = ()
    env_set: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepConfig:
    """One sweep: time ``workload`` of ``variant`` with ``levels`` units of ``quantity`` added."""

    quantity: str
    levels: tuple[int, ...]
    variant: str
    workload: str
    position: str = "end"
    import_lines: bool = False
    runs: int = 20


@dataclass(frozen=True)
class Config:
    path: str
    title: str
    variants: tuple[VariantConfig, ...]
    workloads: tuple[WorkloadConfig, ...]
    timing: TimingConfig
    gate: GatePolicy
    raw: dict[str, Any] = field(default_factory=dict)
    #: matrix axes in config order: (("python", ("3.11", "3.12")), ("os", ("linux",)))
    matrix: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sweeps: tuple[SweepConfig, ...] = ()

    def variant(self, name: str) -> VariantConfig:
        return next(v for v in self.variants if v.name == name)
