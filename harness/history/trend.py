"""Trends of the history (pure): one point per commit of a series, the change from the previous
point, detected steps, and the trend table in markdown and plain text."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.history.changepoints import Spike, Step, analyse
from harness.history.records import RATIO, SERIES_NAMES
from harness.render.common import md_table
from harness.render.escape import md_cell, md_code, md_text

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_LAST = 20
#: ``--metric auto``: the series least exposed to the runner's load, in this order.
AUTO = "auto"


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
    spike: Spike | None = None  # this commit alone is off its neighbours
    control_pct: float | None = None  # the control (baseline) moved this much here: machine


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
    spikes: tuple[Spike, ...] = ()
    machine_steps: frozenset[int] = frozenset()  # steps where the control moved with main

    @property
    def series_name(self) -> str:
        return SERIES_NAMES.get(self.metric, self.metric)


def series(points: pd.DataFrame, workload: str, *, metric: str = "wall",
           scenario: str = "default", role: str | None = "main",
           variant: str | None = None) -> pd.DataFrame:
    """The rows of one series in history order, one per commit (its newest run)."""
    rows = points[(points["workload"] == workload) & (points["metric"] == metric)
                  & (points["scenario"] == scenario)]
    rows = rows[rows["variant"] == variant] if variant else rows[rows["role"] == role]
    return rows.drop_duplicates("commit", keep="last").sort_values("seq", kind="stable")


def load_proof_metrics(points: pd.DataFrame, *, role: str | None = "main",
                       variant: str | None = None) -> list[str]:
    """The series ``--metric auto`` stands for: CPU time where recorded, and main's paired
    ratio to the baseline; wall time only when neither is there."""
    if points.empty:
        return ["wall"]
    mine = points[points["variant"] == variant] if variant else points[points["role"] == role]
    have = set(mine["metric"])
    out = [m for m in ("cpu", "wall" + RATIO) if m in have]
    return out or [m for m in ("wall", "instructions") if m in have][:1] or ["wall"]


def resolve_metrics(points: pd.DataFrame, metric: str, *, role: str | None = "main",
                    variant: str | None = None) -> list[str]:
    return (load_proof_metrics(points, role=role, variant=variant) if metric == AUTO
            else [metric])


def trend(points: pd.DataFrame, workload: str, *, metric: str = "wall",
          scenario: str = "default", role: str | None = "main", variant: str | None = None,
          control: bool = True, **detect_options: float) -> Trend:
    """The series with its change points and spikes (detected on the whole series, each
    point weighted by its own interval), and where the control (the baseline) moved."""
    rows = series(points, workload, metric=metric, scenario=scenario, role=role,
                  variant=variant)
    medians = [float(v) for v in rows["median"]]
    intervals = [(float(lo), float(hi)) for lo, hi in zip(rows["ci_low"], rows["ci_high"],
                                                          strict=True)]
    found = analyse(medians, intervals, **detect_options)
    at = {s.index: s for s in found.steps}
    spiked = {s.index: s for s in found.spikes}
    moved = _control_moves(points, workload, metric, scenario) if (
        control and role != "baseline") else {}
    out = []
    previous = None
    for i, row in enumerate(rows.itertuples(index=False)):
        change: float | None = None if previous is None else (row.median / previous - 1.0) * 100.0
        out.append(TrendPoint(row.commit, row.date, row.run_id, float(row.median),
                              float(row.ci_low), float(row.ci_high), int(row.n), change,
                              at.get(i), spiked.get(i), moved.get(row.commit)))
        previous = row.median
    machine = frozenset(s.index for s in found.steps if _with_control(s, out))
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    who = f"variant {variant}" if variant else f"role {role}"
    return Trend(workload, metric, scenario, who, unit, tuple(out), found.steps,
                 found.spikes, machine)


def _control_moves(points: pd.DataFrame, workload: str, metric: str,
                   scenario: str) -> dict[str, float]:
    """commit -> how much the baseline (the control, timed in the same rounds) moved there:
    its steps and spikes. A move of the control is a change of the machine."""
    base = trend(points, workload, metric=metric.removesuffix(RATIO), scenario=scenario,
                 role="baseline", control=False)
    moves = {base.points[s.index].commit: s.pct for s in base.steps}
    for s in base.spikes:
        moves[base.points[s.index].commit] = s.pct
        if s.index + 1 < len(base.points):  # and back the commit after
            moves.setdefault(base.points[s.index + 1].commit, (1 / s.ratio - 1) * 100)
    return moves


def _with_control(step: Step, points: Sequence[TrendPoint]) -> bool:
    """Whether the control moved the same way at the step's commit or next to it."""
    for i in (step.index - 1, step.index, step.index + 1):
        if 0 <= i < len(points):
            moved = points[i].control_pct
            if moved is not None and moved * step.pct > 0 and abs(moved) >= abs(step.pct) / 3:
                return True
    return False


def trends(points: pd.DataFrame, *, metric: str = "wall", role: str | None = "main",
           variant: str | None = None, order: Sequence[str] = ()) -> list[Trend]:
    """A trend per workload (default scenario) and series that has points; workloads named in
    ``order`` first, in that order. ``metric="auto"`` gives the load-proof series."""
    if points.empty:
        return []
    workloads = list(dict.fromkeys([*order, *points["workload"]]))
    out = [trend(points, w, metric=m, role=role, variant=variant) for w in workloads
           for m in resolve_metrics(points, metric, role=role, variant=variant)]
    return [t for t in out if t.points]


def fmt_value(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.3f}"
    return f"{value * 1000:.3f}" if unit == "s" else f"{value / 1e6:,.2f}M"


def unit_header(unit: str) -> str:
    return {"s": "ms", "ratio": "× baseline"}.get(unit, "instructions")


def fmt_interval(step: Step) -> str:
    return f"{step.pct:+.1f}% [{(step.ci_low - 1) * 100:+.1f}, {(step.ci_high - 1) * 100:+.1f}]"


def describe(t: Trend, step: Step) -> str:
    """One line saying what a step was: a change, a regression and its fix, the newest
    commit's move (to be confirmed), or the machine (the control moved too)."""
    at = t.points[step.index].commit[:12]
    size = fmt_interval(step)
    if step.index in t.machine_steps:
        moved = next((p.control_pct for p in t.points[max(step.index - 1, 0):step.index + 2]
                      if p.control_pct is not None), 0.0)
        return (f"{size} at {at}: the control moved too ({moved:+.0f}%): the machine "
                "changed, not the code")
    if step.status == "newest":
        return f"{size} at {at}, the newest commit (to be confirmed by the next commit)"
    if step.fixed_by is not None:
        what = "introduced" if step.pct > 0 else "improved"
        undo = "fixed" if step.pct > 0 else "lost"
        return (f"{size} {what} at {at}, {undo} at {t.points[step.fixed_by].commit[:12]}, "
                f"lived {step.lived} commit{'s' if step.lived != 1 else ''}")
    if step.fixes is not None:
        what = "fixes" if step.pct < 0 else "loses"
        return f"{size} at {at}: {what} the step at {t.points[step.fixes].commit[:12]}"
    return f"{size} at {at}"


def describe_spike(t: Trend, spike: Spike) -> str:
    at = t.points[spike.index].commit[:12]
    return (f"spike {spike.pct:+.1f}% at {at}: this commit alone (a regression fixed by the "
            "next commit, or a disturbed run)")


def _pct(pct: float) -> str:
    return f"{pct:+.0f}%" if abs(pct) >= 100 else f"{pct:+.1f}%"


def _mark(t: Trend, p: TrendPoint) -> str:
    """The short change mark of a row (the lines under the table say the rest)."""
    marks = []
    if p.step is not None:
        kind = ("machine" if p.step.index in t.machine_steps else "newest"
                if p.step.status == "newest" else "step")
        marks.append(f"{kind} {_pct(p.step.pct)}")
    if p.spike is not None:
        marks.append(f"spike {_pct(p.spike.pct)}")
    if p.control_pct is not None and not (p.step and p.step.index in t.machine_steps):
        marks.append(f"control {_pct(p.control_pct)}")
    return "; ".join(marks)


def _rows(t: Trend, last: int, escape: bool) -> list[list[str]]:
    rows = []
    for p in t.points[-last:]:
        commit = p.commit[:12] if escape else p.commit[:10]  # a terminal has 80 columns
        rows.append([md_code(commit) if escape else commit, p.date[:10],
                     fmt_value(p.median, t.unit),
                     f"[{fmt_value(p.ci_low, t.unit)}, {fmt_value(p.ci_high, t.unit)}]",
                     "" if p.change_pct is None else _pct(p.change_pct),
                     _mark(t, p)])
    return rows


def _headers(t: Trend) -> list[str]:
    return ["Commit", "Date", "Median", "95% interval", "vs prev", "Change"]


def _title(t: Trend) -> str:
    unit = "" if t.unit == "ratio" else f" ({unit_header(t.unit)})"
    return (f"{t.workload} — {t.series_name}{unit} of {t.who}, last {{n}} of "
            f"{len(t.points)} commits")


def events(t: Trend) -> list[str]:
    """The steps (linked) and spikes of a trend, one line each, in commit order."""
    lines = [(s.index, describe(t, s)) for s in t.steps if s.fixes is None
             or s.index in t.machine_steps]
    lines += [(s.index, describe_spike(t, s)) for s in t.spikes]
    return [text for _, text in sorted(lines)]


def markdown(trend_list: list[Trend], last: int = DEFAULT_LAST) -> str:
    """Trend tables for a job summary or an issue."""
    parts = []
    for t in trend_list:
        title = _title(t).format(n=min(last, len(t.points)))
        parts += [f"#### {md_cell(title)}", "", md_table(_headers(t), _rows(t, last, True)), ""]
        parts += [f"- {md_text(line)}" for line in events(t)]
        parts += [""] if t.steps or t.spikes else []
    return "\n".join(parts) if parts else "_The history has no points for this series._\n"


def terminal(trend_list: list[Trend], last: int = DEFAULT_LAST) -> str:
    """Trend tables as plain text."""
    from tabulate import tabulate

    out = []
    for t in trend_list:
        out += [_title(t).format(n=min(last, len(t.points))),
                tabulate(_rows(t, last, False), headers=_headers(t), tablefmt="simple",
                         disable_numparse=True), ""]
        out += [textwrap.fill(line, 79, subsequent_indent="  ") for line in events(t)]
        out += [""] if t.steps or t.spikes else []
    return "\n".join(out) if out else "the history has no points for this series\n"
