"""The history's records (one run, one summarized point) and their JSON Lines form (pure).

A store line is a JSON object with ``"v": 1``; :func:`parse_line` checks it and says what is
wrong, so a bad line is reported with its line number and skipped while the rest loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from harness.analyse.median import median_interval as median_interval
from harness.model import UNITS, Report, Samples, Summary
from harness.model import is_time as is_time

LINE_VERSION = 1
#: The paired series: main over the baseline timed in the same rounds (a change of runner moves
#: both, so the ratio is what the code did). Its metric is ``METRIC + RATIO``, its unit "ratio".
RATIO = "-ratio"
SERIES_NAMES = {"wall": "wall time", "cpu": "CPU time", "instructions": "instructions",
                "wall-ratio": "wall time ÷ baseline (paired)",
                "cpu-ratio": "CPU time ÷ baseline (paired)",
                "instructions-ratio": "instructions ÷ baseline (paired)"}



def unit_of(metric: str) -> str:
    return "ratio" if metric.endswith(RATIO) else UNITS.get(metric, "")


@dataclass(frozen=True)
class RunRecord:
    """One measured run of the repository at one commit."""

    run_id: str  # digest of the measurement: adding the same run twice is a no-op
    commit: str
    date: str  # ISO 8601; the history is ordered by it (the commit's date when given)
    measured: str  # when the run was measured (ISO 8601)
    ref: str = "main"
    title: str = ""
    tool_version: str = ""
    url: str = ""  # where the run's artifact or log lives
    samples: str = ""  # the raw samples' file, relative to the store
    machine: dict[str, Any] = field(default_factory=dict)
    workloads: tuple[str, ...] = ()  # in the config's order (the dashboard's order)


@dataclass(frozen=True)
class Point:
    """One (run, variant, workload, metric, scenario): its median with an interval."""

    run_id: str
    commit: str
    date: str
    variant: str
    role: str  # "" when the variant has no role
    workload: str
    metric: str
    scenario: str
    unit: str
    n: int
    median: float
    ci_low: float  # distribution-free interval of the median (order statistics)
    ci_high: float
    mean: float
    stddev: float
    min: float
    max: float


def summarize(values: Sequence[float]) -> Summary:
    """Like :func:`harness.analyse.stats.summarize`, with the standard library."""
    import statistics

    return Summary(n=len(values), mean=statistics.fmean(values),
                   median=statistics.median(values),
                   stddev=statistics.stdev(values) if len(values) > 1 else 0.0,
                   min=min(values), max=max(values))


def run_digest(report: Report) -> str:
    """The run's id: the measurement record's digest when the report quotes it, else a digest
    of what was measured (every sample, its round, and when)."""
    quoted = report.measurements.get("digest", "")
    if quoted:
        return quoted.removeprefix("sha256:")[:16]
    h = hashlib.sha256(report.created.encode())
    for s in report.samples:
        h.update(json.dumps([s.variant, s.workload, s.metric, s.scenario, s.values,
                             s.rounds]).encode())
    return h.hexdigest()[:16]


#: Fields of a measurement record's machine that make two runs incomparable when they differ
#: (not the host name: CI runners get a new one every run).
MACHINE_FIELDS = ("cpu_model", "cores", "system", "kernel", "python")


def machine_of(report: Report, machine: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the run says about the machine and the timer (to warn when two runs differ):
    the measurement record's machine when there is one, else the report's platform."""
    record: dict[str, Any] = {k: machine[k] for k in MACHINE_FIELDS if machine and k in machine}
    if not record:
        record["platform"] = report.timing.platform
    record.setdefault("timer", report.timing.timer)
    return record


def pooled_values(samples: Sequence[Samples]) -> dict[tuple[str, str, str, str], list[float]]:
    """(variant, workload, metric, scenario) -> every value, all jobs together."""
    out: dict[tuple[str, str, str, str], list[float]] = {}
    for s in samples:
        if s.values:
            out.setdefault((s.variant, s.workload, s.metric, s.scenario), []).extend(s.values)
    return out


def points_of(report: Report, run_id: str, commit: str, date: str) -> list[Point]:
    """A point per (variant, workload, metric, scenario) of ``report`` (jobs pooled), and
    main's paired ratio to the baseline per (workload, metric, scenario)."""
    roles = {v.name: v.role or "" for v in report.variants}
    return points_from_samples(report.samples, roles, run_id, commit, date)


def points_from_samples(samples: Sequence[Samples], roles: Mapping[str, str], run_id: str,
                        commit: str, date: str) -> list[Point]:
    out = []
    for (variant, workload, metric, scenario), values in pooled_values(samples).items():
        out.append(_point(values, run_id, commit, date, variant, roles.get(variant, ""),
                          workload, metric, scenario))
    by_role = {role: name for name, role in roles.items() if role}
    main, baseline = by_role.get("main"), by_role.get("baseline")
    if main is None or baseline is None:
        return out
    for (workload, metric, scenario), ratios in paired_ratios(samples, main, baseline).items():
        out.append(_point(ratios, run_id, commit, date, main, "main", workload,
                          metric + RATIO, scenario))
    return out


def _point(values: Sequence[float], run_id: str, commit: str, date: str, variant: str,
           role: str, workload: str, metric: str, scenario: str) -> Point:
    low, high = median_interval(values)
    summary = summarize(values)
    return Point(run_id, commit, date, variant, role, workload, metric, scenario,
                 unit_of(metric), summary.n, summary.median, low, high, summary.mean,
                 summary.stddev, summary.min, summary.max)


def paired_ratios(samples: Sequence[Samples], subject: str, reference: str
                  ) -> dict[tuple[str, str, str], list[float]]:
    """(workload, metric, scenario) -> subject / reference for each start timed in the same
    round of the same job (the k-th of a round with the k-th)."""
    runs: dict[tuple[str, str, str, str], dict[tuple[str, int], list[float]]] = {}
    for s in samples:
        if s.variant not in (subject, reference):
            continue
        rounds = runs.setdefault((s.variant, s.workload, s.metric, s.scenario), {})
        for value, r in zip(s.values, s.rounds, strict=False):
            rounds.setdefault((s.job, r), []).append(value)
    out: dict[tuple[str, str, str], list[float]] = {}
    for (variant, workload, metric, scenario), rounds in runs.items():
        if variant != subject:
            continue
        other = runs.get((reference, workload, metric, scenario), {})
        ratios = [a / b for key, values in rounds.items()
                  for a, b in zip(values, other.get(key, []), strict=False) if b > 0]
        if len(ratios) >= 3:
            out[(workload, metric, scenario)] = ratios
    return out


def samples_lines(report: Report) -> list[str]:
    """The raw samples of a run, one JSON line per Samples."""
    roles = {v.name: v.role or "" for v in report.variants}
    return [json.dumps({"v": LINE_VERSION, "variant": s.variant, "role": roles.get(s.variant, ""),
                        "workload": s.workload, "metric": s.metric, "scenario": s.scenario,
                        "job": s.job, "rounds": list(s.rounds), "values": list(s.values)})
            for s in report.samples if s.values]


def samples_from_lines(lines: Sequence[Mapping[str, Any]]) -> tuple[Samples, ...]:
    return tuple(Samples(d["variant"], d["workload"], d["metric"],
                         tuple(float(v) for v in d["values"]), tuple(int(r) for r in d["rounds"]),
                         scenario=d.get("scenario", "default"), job=d.get("job", ""))
                 for d in lines)


def to_line(record: RunRecord | Point) -> str:
    return json.dumps({"v": LINE_VERSION, **asdict(record)}, sort_keys=False,
                      ensure_ascii=False)


_TYPES: dict[type, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float)}


def parse_line(cls: type[RunRecord] | type[Point], text: str) -> RunRecord | Point:
    """One line of a store file as ``cls``; ValueError says what is wrong with it."""
    from harness import validate

    data = validate.strict_line(text)  # NaN, infinities and deep nesting: a bad line
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    version = data.pop("v", None)
    if version != LINE_VERSION:
        raise ValueError(f"line version {version!r} is not {LINE_VERSION} (newer harness?)")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is not MISSING or f.default_factory is not MISSING:
                continue
            raise ValueError(f"missing field {f.name!r}")
        value = data[f.name]
        wanted = {"str": str, "int": int, "float": float}.get(str(f.type))
        if wanted is not None and (not isinstance(value, _TYPES[wanted])
                                   or isinstance(value, bool)):
            raise ValueError(f"field {f.name!r} is not a {wanted.__name__}")
        if f.name == "machine" and not isinstance(value, dict):
            raise ValueError("field 'machine' is not an object")
        if f.name == "workloads":
            if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                raise ValueError("field 'workloads' is not a list of names")
            value = tuple(value)
        kwargs[f.name] = float(value) if wanted is float else value
    if cls is Point:
        validate.point(kwargs)
    else:
        validate.samples_path(kwargs.get("samples", ""))
    return cls(**kwargs)
