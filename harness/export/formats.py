"""Export shapes (pure) and ``--export FORMAT=PATH`` (the only function here that writes).

* ``csv``: every raw sample, one row each (pandas); from ``history``: every point.
* ``gab``: github-action-benchmark ``customSmallerIsBetter``: a list of
  ``{"name", "unit", "value", "range", "extra"}``, one per variant and workload (the median).
* ``bmf``: Bencher Metric Format: ``{benchmark: {measure: {"value", "lower_value",
  "upper_value"}}}``; wall time as Bencher's built-in ``latency`` measure in nanoseconds
  (the median and its interval), CPU time as ``cpu-time`` (ns), instructions as
  ``instructions``.
* ``pyperf``: pyperf's JSON (format 1.0), one run per timed process, so ``python -m pyperf
  stats / hist / compare_to`` work. A PATH with ``{variant}`` writes one file per variant
  whose benchmarks are the workloads (what ``compare_to`` matches by name); otherwise one file
  whose benchmarks are ``variant/workload``.

Each format is an :class:`Exporter` registered by name in :data:`EXPORTERS`; an unknown name is
an error, never another format's file.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.analyse.median import median_interval
from harness.errors import HarnessError
from harness.model import Report, Samples, is_time

if TYPE_CHECKING:
    import pandas as pd

@dataclass(frozen=True)
class RunSamples:
    """What an export needs from a run, whether it came from a report or the history."""

    title: str
    commit: str
    created: str
    samples: tuple[Samples, ...]
    roles: Mapping[str, str] = field(default_factory=dict)
    machine: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_report(cls, report: Report, machine: Mapping[str, Any] | None = None,
                    commit: str = "") -> RunSamples:
        main = report.variant_with_role("main")
        return cls(report.title, commit or (main.revision if main and main.revision else ""),
                   report.created, report.samples,
                   {v.name: v.role or "" for v in report.variants}, dict(machine or {}))


def _timed(run: RunSamples) -> list[Samples]:
    return [s for s in run.samples if s.values]


def bench_name(s: Samples) -> str:
    suffix = "" if s.scenario == "default" else f"@{s.scenario}"
    metric = "" if s.metric == "wall" else f" ({s.metric})"
    return f"{s.variant}/{s.workload}{suffix}{metric}"


def samples_frame(run: RunSamples) -> pd.DataFrame:
    """Every raw sample as a row: variant, role, workload, metric, scenario, round, value..."""
    import pandas as pd

    rows = [{"commit": run.commit, "created": run.created, "variant": s.variant,
             "role": run.roles.get(s.variant, ""), "workload": s.workload, "metric": s.metric,
             "scenario": s.scenario, "index": i, "round": s.rounds[i] if i < len(s.rounds)
             else None, "value": value, "unit": "s" if is_time(s.metric) else "count"}
            for s in _timed(run) for i, value in enumerate(s.values)]
    columns = ["commit", "created", "variant", "role", "workload", "metric", "scenario",
               "index", "round", "value", "unit"]
    return pd.DataFrame.from_records(rows, columns=columns)


def gab(run: RunSamples) -> list[dict[str, Any]]:
    """github-action-benchmark ``customSmallerIsBetter`` entries (median per series)."""
    import statistics

    out = []
    for s in _timed(run):
        median = statistics.median(s.values)
        low, high = median_interval(s.values)
        if is_time(s.metric):
            scale, unit, digits = 1000.0, "ms", 4
        else:
            scale, unit, digits = 1.0, "instructions", 0
        half = max(median - low, high - median) * scale
        out.append({"name": bench_name(s), "unit": unit, "value": round(median * scale, digits),
                    "range": f"± {half:.{digits}f}",
                    "extra": f"median of {len(s.values)} runs; 95% interval "
                             f"[{low * scale:.{digits}f}, {high * scale:.{digits}f}] {unit}"})
    return out


def bmf(run: RunSamples) -> dict[str, dict[str, dict[str, float]]]:
    """Bencher Metric Format: latency in ns (median, interval of the median)."""
    import statistics

    out: dict[str, dict[str, dict[str, float]]] = {}
    for s in _timed(run):
        median = statistics.median(s.values)
        low, high = median_interval(s.values)
        scale, measure = {"wall": (1e9, "latency"), "cpu": (1e9, "cpu-time")}.get(
            s.metric, (1.0, s.metric))
        name = bench_name(s).removesuffix(f" ({s.metric})")
        out.setdefault(name, {})[measure] = {"value": median * scale,
                                             "lower_value": low * scale,
                                             "upper_value": high * scale}
    return out


def pyperf(run: RunSamples, variant: str | None = None) -> dict[str, Any]:
    """A pyperf BenchmarkSuite (JSON format 1.0); ``variant``: only its samples, named by
    workload."""
    benchmarks = []
    for s in _timed(run):
        if variant is not None and s.variant != variant:
            continue
        name = bench_name(s)
        if variant is not None:
            name = name.removeprefix(f"{s.variant}/")
        unit = "second" if is_time(s.metric) else "integer"
        benchmarks.append({
            "metadata": {"name": name, "unit": unit, "loops": 1},
            "runs": [{"metadata": {}, "values": [value]} for value in s.values]})
    metadata = {"description": run.title}
    if run.commit:
        metadata["commit_id"] = run.commit
    platform = run.machine.get("platform")
    if isinstance(platform, str) and platform:
        metadata["platform"] = platform
    return {"version": "1.0", "metadata": metadata, "benchmarks": benchmarks}


#: What a spreadsheet reads as the start of a formula in a CSV cell (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would read as a formula (leading
    ``=``, ``+``, ``-``, ``@``, tab or carriage return; OWASP CSV injection) prefixed with
    ``'``. Variant, workload and scenario names come from a PR's config."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v[:1] in FORMULA_STARTS else v)
    return out


class Exporter(Protocol):
    """One export format: its name and its files' text (pure; :func:`write_exports` alone
    writes)."""

    @property
    def name(self) -> str: ...

    def files(self, path: str, run: RunSamples,
              history_points: pd.DataFrame | None) -> list[tuple[str, str]]:
        """``(path, text)`` of every file ``FORMAT=path`` makes (``history_points``: the
        history's points, for formats that export them)."""
        ...


class CsvExport:
    name = "csv"

    def files(self, path: str, run: RunSamples,
              history_points: pd.DataFrame | None) -> list[tuple[str, str]]:
        frame = (history_points.drop(columns=["seq"], errors="ignore")
                 if history_points is not None else samples_frame(run))
        # CRLF rows (RFC 4180): a CR or LF inside a cell is quoted, never a row break
        return [(path, neutralised(frame).to_csv(index=False, lineterminator="\r\n"))]


class GabExport:
    name = "gab"

    def files(self, path: str, run: RunSamples,
              history_points: pd.DataFrame | None) -> list[tuple[str, str]]:
        return [(path, json.dumps(gab(run), indent=2) + "\n")]


class BmfExport:
    name = "bmf"

    def files(self, path: str, run: RunSamples,
              history_points: pd.DataFrame | None) -> list[tuple[str, str]]:
        return [(path, json.dumps(bmf(run), indent=2) + "\n")]


class PyperfExport:
    name = "pyperf"

    def files(self, path: str, run: RunSamples,
              history_points: pd.DataFrame | None) -> list[tuple[str, str]]:
        if "{variant}" not in path:
            return [(path, json.dumps(pyperf(run)) + "\n")]
        return [(path.replace("{variant}", name), json.dumps(pyperf(run, name)) + "\n")
                for name in dict.fromkeys(s.variant for s in _timed(run))]


#: Every export format: name -> "module:attribute" of an :class:`Exporter`. Adding a format
#: is one module and one line here.
EXPORTERS: dict[str, str] = {
    "csv": "harness.export.formats:CsvExport",
    "gab": "harness.export.formats:GabExport",
    "bmf": "harness.export.formats:BmfExport",
    "pyperf": "harness.export.formats:PyperfExport",
}


def get_exporter(name: str) -> Exporter:
    """The export format registered as ``name``; an unknown name is an error."""
    if name not in EXPORTERS:
        raise HarnessError(f"unknown export format {name!r}",
                           f"use one of {', '.join(EXPORTERS)}")
    module, attribute = EXPORTERS[name].split(":")
    exporter: Exporter = getattr(importlib.import_module(module), attribute)()
    return exporter


def parse_spec(spec: str) -> tuple[str, str]:
    """``FORMAT=PATH`` -> (format, path); a one-line error otherwise."""
    fmt, sep, path = spec.partition("=")
    if not sep or not path or fmt not in EXPORTERS:
        raise HarnessError(f"--export {spec!r}: expected FORMAT=PATH with FORMAT one of "
                           f"{', '.join(EXPORTERS)}", "e.g. --export csv=samples.csv")
    return fmt, path


def write_exports(specs: Sequence[str], run: RunSamples, *,
                  history_points: pd.DataFrame | None = None) -> list[str]:
    """Write each ``FORMAT=PATH`` through its format's :class:`Exporter`; returns the paths
    written."""
    from harness.report import write_atomic

    parsed = [parse_spec(spec) for spec in specs]  # every spec checked before any write
    written = []
    for fmt, path in parsed:
        for target, text in get_exporter(fmt).files(path, run, history_points):
            write_atomic(target, text)
            written.append(target)
    return written


if TYPE_CHECKING:  # mypy checks that the classes implement the Exporter protocol
    _EXPORTERS: tuple[Exporter, ...] = (CsvExport(), GabExport(), BmfExport(), PyperfExport())
