"""Trends of the history (pure): one point per commit of a series, the change from the previous
point, detected steps, and the trend table in markdown and plain text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.history.changepoints import Step, detect
from harness.render.common import md_table
from harness.render.escape import md_cell, md_code

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_LAST = 20


@dataclass(frozen=True)
class TrendPoint:
    """One commit of a series."""

    commit: str
    date: str
    run_id: str
    median: float
    ci_low: float
    ci_high: float
    n: int
    change_pct: float | None  # vs the previous point
    step: Step | None  # a detected step starts at this commit


@dataclass(frozen=True)
class Trend:
    """A series (workload, metric, scenario, variant or role) over commits, with its steps."""

    workload: str
    metric: str
    scenario: str
    who: str  # "role main" or "variant NAME"
    unit: str
    points: tuple[TrendPoint, ...]
    steps: tuple[Step, ...]


def series(points: pd.DataFrame, workload: str, *, metric: str = "wall",
           scenario: str = "default", role: str | None = "main",
           variant: str | None = None) -> pd.DataFrame:
    """The rows of one series in history order, one per commit (its newest run)."""
    rows = points[(points["workload"] == workload) & (points["metric"] == metric)
                  & (points["scenario"] == scenario)]
    rows = rows[rows["variant"] == variant] if variant else rows[rows["role"] == role]
    return rows.drop_duplicates("commit", keep="last").sort_values("seq", kind="stable")


def trend(points: pd.DataFrame, workload: str, *, metric: str = "wall",
          scenario: str = "default", role: str | None = "main", variant: str | None = None,
          **detect_options: Any) -> Trend:
    """The series with its change points (detected on the whole series)."""
    rows = series(points, workload, metric=metric, scenario=scenario, role=role,
                  variant=variant)
    medians = [float(v) for v in rows["median"]]
    steps = detect(medians, **detect_options) if medians else ()
    at = {s.index: s for s in steps}
    out = []
    previous = None
    for i, row in enumerate(rows.itertuples(index=False)):
        change: float | None = None if previous is None else (row.median / previous - 1.0) * 100.0
        out.append(TrendPoint(row.commit, row.date, row.run_id, float(row.median),
                              float(row.ci_low), float(row.ci_high), int(row.n), change,
                              at.get(i)))
        previous = row.median
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    who = f"variant {variant}" if variant else f"role {role}"
    return Trend(workload, metric, scenario, who, unit, tuple(out), tuple(steps))


def trends(points: pd.DataFrame, *, metric: str = "wall", role: str | None = "main",
           variant: str | None = None, order: Sequence[str] = ()) -> list[Trend]:
    """A trend per workload (default scenario) that has points for the series; workloads
    named in ``order`` first, in that order."""
    if points.empty:
        return []
    workloads = list(dict.fromkeys([*order, *points["workload"]]))
    out = [trend(points, w, metric=metric, role=role, variant=variant) for w in workloads]
    return [t for t in out if t.points]


def fmt_value(value: float, unit: str) -> str:
    return f"{value * 1000:.3f}" if unit == "s" else f"{value / 1e6:,.2f}M"


def unit_header(unit: str) -> str:
    return "ms" if unit == "s" else "instructions"


def fmt_step(step: Step) -> str:
    return (f"step {step.pct:+.1f}% [{(step.ci_low - 1) * 100:+.1f}, "
            f"{(step.ci_high - 1) * 100:+.1f}]")


def _rows(t: Trend, last: int, escape: bool) -> list[list[str]]:
    rows = []
    for p in t.points[-last:]:
        commit = p.commit[:12]
        rows.append([md_code(commit) if escape else commit, p.date[:10],
                     fmt_value(p.median, t.unit),
                     f"[{fmt_value(p.ci_low, t.unit)}, {fmt_value(p.ci_high, t.unit)}]",
                     "" if p.change_pct is None else f"{p.change_pct:+.1f}%",
                     fmt_step(p.step) if p.step else ""])
    return rows


def _headers(t: Trend) -> list[str]:
    u = unit_header(t.unit)
    return ["Commit", "Date", f"Median ({u})", "95% interval", "vs previous", "Change point"]


def _title(t: Trend) -> str:
    metric = "" if t.metric == "wall" else f" ({t.metric})"
    return f"{t.workload}{metric} — {t.who}, last {{n}} of {len(t.points)} commits"


def markdown(trend_list: list[Trend], last: int = DEFAULT_LAST) -> str:
    """Trend tables for a job summary or an issue."""
    parts = []
    for t in trend_list:
        title = _title(t).format(n=min(last, len(t.points)))
        parts += [f"#### {md_cell(title)}", "", md_table(_headers(t), _rows(t, last, True)), ""]
        parts += [f"- change point at {md_code(t.points[s.index].commit[:12])}: "
                  f"{fmt_step(s)}" for s in t.steps]
        parts += [""] if t.steps else []
    return "\n".join(parts) if parts else "_The history has no points for this series._\n"


def terminal(trend_list: list[Trend], last: int = DEFAULT_LAST) -> str:
    """Trend tables as plain text."""
    from tabulate import tabulate

    out = []
    for t in trend_list:
        out += [_title(t).format(n=min(last, len(t.points))),
                tabulate(_rows(t, last, False), headers=_headers(t), tablefmt="simple",
                         disable_numparse=True), ""]
        out += [f"change point at {t.points[s.index].commit[:12]}: {fmt_step(s)}"
                for s in t.steps]
        out += [""] if t.steps else []
    return "\n".join(out) if out else "the history has no points for this series\n"
