"""Frozen records of what a run measured. The JSON report is their serialization
(:mod:`harness.report`); nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness import defaults
from harness.inspection.health import ProbeReport

#: Version of report.json (:class:`Report`).
REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class VariantInfo:
    """One variant as the report shows it: name, table label, role and where it came from."""

    name: str
    label: str
    role: str | None
    source: str  # human-readable: "git <repo>@<ref> (<sha>)", "pkg==1.2", "path ...", "python ..."
    builder: str
    revision: str | None = None  # commit SHA for git sources
    ref: str | None = None  # the git ref as configured ("origin/main")


@dataclass(frozen=True)
class BuildResult:
    """The cold build of one variant's environment."""

    variant: str
    builder: str
    ok: bool
    seconds: float | None
    python: str | None = None  # interpreter of the built environment
    prefix: str | None = None  # the environment's root (venv dir)
    error: str | None = None
    log_tail: str = ""
    installed: tuple[str, ...] = ()  # "name==version" of every distribution in the environment
    #: seconds per phase when the builder times them (bazel: server_start, fetch, build,
    #: shutdown); ``seconds`` stays the whole build
    phases: dict[str, float] = field(default_factory=dict)
    #: what the build tool reported: tool_version, resolved (what the ruleset resolved to), ...
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Samples:
    """Every measured value of one (variant, workload, metric), in measurement order.

    ``rounds[i]`` is the round in which ``values[i]`` was taken: values of different variants
    with the same round number *of the same job* ran next to each other (paired). Samples of
    several jobs are pooled with rounds renumbered per job
    (:func:`harness.analyse.analysis.pooled`), so a round never pairs across jobs."""

    variant: str
    workload: str
    metric: str  # "wall" (seconds) or "instructions" (count)
    values: tuple[float, ...]
    rounds: tuple[int, ...]
    scenario: str = "default"
    raw_files: tuple[str, ...] = ()
    exit_codes: tuple[int, ...] = ()
    failure: str = ""  # the first failing run (warmup or timed), described; "" if none
    job: str = ""  # the job (machine run) that measured them: rounds pair only within a job
    # where values[i] ran in its job's execution order (0: the timer's first process, warmups
    # included): a run's predecessor is the run at position - 1 (harness.analyse.carryover)
    positions: tuple[int, ...] = ()

    def by_round(self) -> dict[int, float]:
        """Round number -> value (the last one if a round measured twice)."""
        return dict(zip(self.rounds, self.values, strict=True))


@dataclass(frozen=True)
class Summary:
    """Descriptive statistics of one Samples, in its metric's unit."""

    n: int
    mean: float
    median: float
    stddev: float
    min: float
    max: float


@dataclass(frozen=True)
class Comparison:
    """subject vs reference on one statistic: a ratio, its confidence interval and a verdict."""

    subject: str
    reference: str
    workload: str
    metric: str
    statistic: str
    ratio: float  # subject / reference
    ci_low: float | None
    ci_high: float | None
    confidence: float
    threshold_pct: float
    verdict: str  # one of VERDICTS
    method: str = ""
    n_pairs: int = 0

    @property
    def delta_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0


@dataclass(frozen=True)
class NoiseFinding:
    """One thing about the measurements a maintainer should know, with what to do about it."""

    kind: str  # "outliers", "noisy", "drift", "failures"
    variant: str
    workload: str
    metric: str
    severity: str  # "info" or "warning"
    message: str
    advice: str
    value: float = 0.0  # the number behind the finding (count, fraction or ratio)
    scenario: str = "default"  # bytecode scenario of the samples ("default", "warm", ...)


@dataclass(frozen=True)
class GatePolicy:
    """What is compared with what, and how strictly (defaults: :mod:`harness.defaults`)."""

    compare: str = "pr"  # variant name
    against: str = "main"  # variant name
    workload: str | None = None  # None: every workload
    metric: str = defaults.GATE_METRIC
    # "median" (ratio of medians), "mean", or "paired" (Hodges-Lehmann of per-round ratios:
    # half the A/A spread of "median" in calibration; see harness.analyse.gate)
    statistic: str = defaults.STATISTIC
    threshold_pct: float = defaults.THRESHOLD_PCT
    confidence: float = defaults.CONFIDENCE
    inconclusive: str = defaults.INCONCLUSIVE  # "pass" (with a warning) or "fail"
    # "report" (the carry-over model is reported only) or "adjust" (wall times are divided by
    # their predecessor's estimated effect before comparing; harness.analyse.carryover)
    carryover: str = defaults.CARRYOVER
    enabled: bool = True  # False: `gate: off` (or one variant): compare, decide nothing


@dataclass(frozen=True)
class GateResult:
    """What the gate decided. Only the gate sets ``exit_code``; renderers just show it."""

    status: str  # "pass", "regression", "error"
    exit_code: int  # 0 pass, 1 regression, 2 error
    headline: str
    comparisons: tuple[Comparison, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class LookResult:
    """One gated comparison as a look of ``runs: auto`` saw it."""

    workload: str
    metric: str
    ratio: float
    ci_low: float | None
    ci_high: float | None
    verdict: str


@dataclass(frozen=True)
class Look:
    """One look of ``runs: auto``: after ``runs`` rounds, the gated comparisons at confidence
    ``1 - alpha``."""

    runs: int
    seconds: float  # timing wall time so far
    alpha: float  # the two-sided error this look spent
    results: tuple[LookResult, ...] = ()


@dataclass(frozen=True)
class SequentialRecord:
    """How ``timing: {runs: auto}`` decided to stop (:mod:`harness.analyse.sequential`).
    The gated comparison of the report is the last look's, at confidence ``1 - alpha``."""

    rule: str  # the stopping rule in words
    alpha: float  # the total two-sided error over all looks (1 - gate.confidence)
    batch: int  # rounds per look
    max_runs: int
    max_seconds: float
    planned: tuple[int, ...]  # runs at each planned look
    planned_alpha: tuple[float, ...]  # alpha of each planned look (they sum to ``alpha``)
    looks: tuple[Look, ...]
    stopped: str  # "interval decisive", "budget reached: max_runs", "... max_seconds"

    @property
    def runs(self) -> int:
        return self.looks[-1].runs if self.looks else 0

    @property
    def confidence(self) -> float:
        """The confidence level of the last look's interval (the reported one)."""
        return 1.0 - self.looks[-1].alpha if self.looks else 1.0 - self.alpha

    @property
    def decisive(self) -> bool:
        return self.stopped == "interval decisive"


@dataclass(frozen=True)
class LoadSample:
    """How busy the machine was: the 1-minute load average at one moment, and the CPUs used
    by everything else and stolen by the hypervisor since the previous sample."""

    at: str  # "before", "during", "after"
    seconds: float  # since timing started
    loadavg: float
    others_cpus: float | None = None  # CPUs kept busy by other processes (not the timed ones)
    steal_pct: float | None = None  # percent of CPU time stolen by the hypervisor


@dataclass(frozen=True)
class TimingLoad:
    """Machine load before, during and after timing (:mod:`harness.measure.load`)."""

    cpus: int
    samples: tuple[LoadSample, ...] = ()
    others_cpus: float | None = None  # mean over the whole timing window
    steal_pct: float | None = None  # over the whole timing window

    @property
    def max_loadavg(self) -> float:
        during = [s.loadavg for s in self.samples if s.at != "before"]
        return max(during, default=0.0)


@dataclass(frozen=True)
class TimingSettings:
    """How timings were taken, as recorded in the report."""

    timer: str  # "hyperfine 2.0.0"
    warmup: int
    runs: int
    order: str  # "interleaved" or "blocks"
    environment: dict[str, str] = field(default_factory=dict)
    platform: str = ""
    instruction_counter: str = ""  # how instructions were counted, when they were
    sequential: SequentialRecord | None = None  # runs: auto: the looks and why it stopped
    load: TimingLoad | None = None  # machine load before, during and after timing


@dataclass(frozen=True)
class GrowthFit:
    """Start-up time against a swept quantity (a sweep): slope per unit with its interval."""

    variant: str
    workload: str
    quantity: str  # sys_path_entries | site_roots | distributions | pth_files
    detail: str  # "end" / "front" position, "with import lines", ...
    levels: tuple[int, ...]  # the swept values, ascending
    medians_s: tuple[float, ...]  # median start-up at each level
    slope_s: float  # seconds per unit (Theil–Sen over every sample)
    slope_low_s: float
    slope_high_s: float
    intercept_s: float
    confidence: float
    lower_slope_s: float  # Theil–Sen slope over the lower half of the levels
    upper_slope_s: float  # ... and over the upper half
    curved: bool  # growth clearly faster than linear
    n_samples: int

    @property
    def unit(self) -> str:
        return SWEEP_UNITS.get(self.quantity, self.quantity)

    def cost_s(self, count: float) -> float:
        """Estimated start-up cost of ``count`` units (linear; see :attr:`curved`)."""
        return self.slope_s * count

    def sentence(self) -> str:
        """``each sys.path entry costs 0.29 ms [0.27, 0.31]`` (plus the curvature warning)."""
        text = (f"each {self.unit} costs {self.slope_s * 1e3:.2g} ms "
                f"[{self.slope_low_s * 1e3:.2g}, {self.slope_high_s * 1e3:.2g}]")
        if self.curved:
            text += "; growth is faster than linear"
            if self.lower_slope_s > 0:
                text += (f" (the slope over the upper half of the levels is "
                         f"{self.upper_slope_s / self.lower_slope_s:.1f}× the lower half's)")
        return text


#: What one unit of each swept quantity is called in a sentence.
SWEEP_UNITS = {
    "sys_path_entries": "sys.path entry",
    "site_roots": "site-packages root",
    "distributions": "installed distribution",
    "pth_files": ".pth file",
}


@dataclass(frozen=True)
class Report:
    """Everything one run produced; renderers and the gate read only this."""

    schema_version: int
    tool_version: str
    created: str
    title: str
    variants: tuple[VariantInfo, ...]
    workloads: tuple[str, ...]
    builds: tuple[BuildResult, ...]
    timing: TimingSettings
    samples: tuple[Samples, ...]
    summaries: dict[str, dict[str, Summary]]  # "<variant>" -> "<workload>/<metric>" -> Summary
    comparisons: tuple[Comparison, ...]
    probes: dict[str, ProbeReport]
    gate: GateResult
    #: the gate policy the report was judged with (JSON key kept from when it was a dict)
    gate_config: GatePolicy = field(default_factory=GatePolicy)
    extras: dict[str, Any] = field(default_factory=dict)  # later sections (health, import time)
    errors: tuple[str, ...] = ()
    noise: tuple[NoiseFinding, ...] = ()  # measurement diagnostics, with advice
    #: the measurement record it was analysed from: {"file": "measurements.json", "digest": ...}
    measurements: dict[str, str] = field(default_factory=dict)
    #: absolute path -> what the comment shows instead ("<venv>", "<repo>", "<work>"): the run's
    #: scratch paths mean nothing to a reader; the JSON keeps the full ones everywhere else
    locations: dict[str, str] = field(default_factory=dict)
    #: a matrix cell's label ("python=3.12"); "" for a run without a matrix
    cell: str = ""
    #: a matrix run: one report per cell, each judged on its own (this report's gate is the
    #: worst cell's; its own tables are empty)
    cells: tuple[Report, ...] = ()
    #: how start-up grows with what is installed (config ``sweep:``)
    sweeps: tuple[GrowthFit, ...] = ()

    def variant(self, name: str) -> VariantInfo:
        for info in self.variants:
            if info.name == name:
                return info
        raise KeyError(name)

    def build(self, name: str) -> BuildResult | None:
        return next((b for b in self.builds if b.variant == name), None)

    def variant_with_role(self, role: str) -> VariantInfo | None:
        return next((v for v in self.variants if v.role == role), None)


#: The unit of each metric: times in seconds, counts otherwise.
UNITS = {"wall": "s", "cpu": "s", "instructions": "count"}


def is_time(metric: str) -> bool:
    """Whether a metric is a time in seconds (wall, cpu) rather than a count."""
    return UNITS.get(metric, "s") == "s"
