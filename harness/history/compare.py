"""Compare two saved runs (pure): per variant and workload, B vs A with an unpaired interval.

Two runs are measured at different times, often on different machines, so their samples
cannot be paired by round: the interval is a bootstrap of the ratio of medians resampling each
run independently. It is wider, and weaker, than the paired interval of one interleaved run
(machine drift between the runs is part of the "change"); the output says so, and warns when
the runs' machine records differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness import defaults
from harness.errors import HarnessError
from harness.model import Samples

UNPAIRED_NOTE = ("unpaired comparison of two runs (bootstrap of the ratio of medians, each run "
                 "resampled on its own): weaker than the paired interval of one interleaved "
                 "run, and machine drift between the runs counts as change")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: where it came from, its samples, machine and variant roles."""

    label: str
    samples: tuple[Samples, ...]
    machine: Mapping[str, Any]
    roles: Mapping[str, str]


@dataclass(frozen=True)
class Row:
    variant: str
    workload: str
    metric: str
    median_a: float
    median_b: float
    ratio: float  # B / A
    ci_low: float
    ci_high: float
    verdict: str

    @property
    def delta_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    rows: tuple[Row, ...]
    warnings: tuple[str, ...]
    threshold_pct: float
    confidence: float

    @property
    def exit_code(self) -> int:
        """Like run's gate: 1 when any row is a regression, else 0."""
        return 1 if any(r.verdict == "regression" for r in self.rows) else 0


def machine_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Keys whose values differ between two machine records (missing on one side included)."""
    return [key for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def compare_runs(a: Side, b: Side, *, variant: str | None = None,
                 threshold_pct: float = defaults.COMPARE_THRESHOLD_PCT,
                 confidence: float = defaults.CONFIDENCE) -> Comparison:
    """Every (variant, workload, metric) both runs measured (default scenario), B vs A."""
    import numpy as np

    from harness.analyse.stats import unpaired_ratio_ci, verdict

    def keyed(side: Side) -> dict[tuple[str, str, str], Samples]:
        return {(s.variant, s.workload, s.metric): s for s in side.samples
                if s.scenario == "default" and s.values}

    in_a, in_b = keyed(a), keyed(b)
    common = [k for k in in_a if k in in_b and variant in (None, k[0])]
    if not common:
        which = f"variant {variant!r}" if variant else "variant, workload and metric"
        raise HarnessError(f"{a.label} and {b.label} have no {which} in common",
                           "compare runs of the same config, or pick one with --variant")
    rows = []
    for key in common:
        va = np.asarray(in_a[key].values, dtype=float)
        vb = np.asarray(in_b[key].values, dtype=float)
        ratio, low, high = unpaired_ratio_ci(vb, va, statistic="median", confidence=confidence)
        rows.append(Row(key[0], key[1], key[2], float(np.median(va)), float(np.median(vb)),
                        ratio, low, high, verdict(ratio, low, high, threshold_pct)))
    warnings = [UNPAIRED_NOTE]
    differ = machine_differences(a.machine, b.machine)
    if differ:
        details = "; ".join(f"{k}: {a.machine.get(k)!r} vs {b.machine.get(k)!r}"
                            for k in differ[:4])
        warnings.append(f"the runs' machine records differ ({details}): the change may be "
                        "the machine's, not the code's")
    return Comparison(a.label, b.label, tuple(rows), tuple(warnings), threshold_pct, confidence)


def _value(value: float, metric: str) -> str:
    from harness.history.records import is_time

    return f"{value * 1000:.3f} ms" if is_time(metric) else f"{value / 1e6:,.2f}M"


def render(result: Comparison, fmt: str = "terminal") -> str:
    """The comparison as a table (terminal or markdown), with its caveats."""
    from harness.render.common import md_table
    from harness.render.escape import MESSAGE_LIMIT, md_cell, md_text

    headers = ["Variant", "Workload", "A", "B", "Change (B vs A)", "Verdict"]
    rows = []
    for r in result.rows:
        change = (f"{r.delta_pct:+.1f}% [{(r.ci_low - 1) * 100:+.1f}, "
                  f"{(r.ci_high - 1) * 100:+.1f}]")
        where = r.workload + ("" if r.metric == "wall" else f" ({r.metric})")
        rows.append([r.variant, where, _value(r.median_a, r.metric),
                     _value(r.median_b, r.metric), change, r.verdict])
    head = [f"A: {result.a}", f"B: {result.b}",
            f"medians; change with its {result.confidence * 100:g}% interval, threshold "
            f"±{result.threshold_pct:g}%"]
    if fmt == "markdown":
        cells = [[md_cell(c) for c in row] for row in rows]
        notes = [f"⚠️ {md_text(w, MESSAGE_LIMIT)}  " for w in result.warnings]
        return "\n".join([*(md_text(h, MESSAGE_LIMIT) + "  " for h in head), "",
                          md_table(headers, cells), "",
                          *notes]) + "\n"
    from tabulate import tabulate

    return "\n".join([*head, "", tabulate(rows, headers=headers, tablefmt="simple",
                                          disable_numparse=True)]) + "\n"
