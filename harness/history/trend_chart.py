"""Main's trend in the PR comment (pure): a mermaid ``xychart-beta`` of the last points of main
plus the PR, which GitHub renders in comments and job summaries."""

from __future__ import annotations

from collections.abc import Sequence

from harness.history.trend import Trend, events
from harness.model import Report, Summary
from harness.render.escape import md_code, md_text

LAST = 20


def _label(text: str) -> str:
    """An x-axis label mermaid accepts: quoted, no quotes or brackets inside."""
    return '"' + "".join(c for c in text if c.isalnum() or c in "-_.+ ")[:16] + '"'


def _series(name: str) -> str:
    """A series name inside a quoted mermaid title: letters, digits, spaces, / ( ) only."""
    return "".join(c for c in name.replace("÷", "/") if c.isalnum() or c in "-_.+ /()")[:40]


def mermaid_trend(trend: Trend, pr: Summary | None, pr_label: str = "PR",
                  last: int = LAST) -> str:
    """A chart of main's last ``last`` medians (ms) with the PR's median as the last point,
    and a line under it saying what the points are."""
    points = trend.points[-last:]
    if not points:
        return ""
    scale = {"s": 1000.0, "ratio": 1.0}.get(trend.unit, 1e-6)
    unit = {"s": "ms", "ratio": "x baseline"}.get(trend.unit, "M instructions")
    labels = [_label(p.commit[:7]) for p in points]
    values = [p.median * scale for p in points]
    highs = [p.ci_high * scale for p in points]
    lows = [p.ci_low * scale for p in points]
    if pr is not None:
        labels.append(_label(pr_label))
        values.append(pr.median * scale)
        highs.append(pr.median * scale)
        lows.append(pr.median * scale)
    top, bottom = max(highs), min(lows)
    pad = (top - bottom) * 0.1 or top * 0.05 or 1.0
    chart = [
        "```mermaid",
        "xychart-beta",
        f'    title "{_label(trend.workload)[1:-1]}: {_series(trend.series_name)} of main, '
        f'last {len(points)} commits' + (' + PR"' if pr is not None else '"'),
        f"    x-axis [{', '.join(labels)}]",
        f'    y-axis "median ({unit})" {max(bottom - pad, 0):.3f} --> {top + pad:.3f}',
        f"    line [{', '.join(f'{v:.3f}' for v in values)}]",
        "```",
    ]
    first = len(trend.points) - last
    shown = [line for line in events(trend)
             if any(trend.points[i].commit[:12] in line for i in range(max(first, 0),
                                                                      len(trend.points)))]
    steps = "; ".join(md_text(line) for line in shown)
    note = (f"Median {md_text(trend.series_name)} per commit of main (each run's own interval "
            "is in the history); "
            + ("the last point is this PR. " if pr is not None else "")
            + (f"Changes: {steps}." if steps else "No change point in this window."))
    return "\n".join(chart) + "\n\n" + note


def trend_section(trends: Sequence[Trend], report: Report, last: int = LAST) -> str:
    """The comment's trend block: one chart per workload that has history."""
    from harness.analyse.stats import summarize
    from harness.history.records import RATIO, paired_ratios, pooled_values

    pr = report.variant_with_role("pr")
    base = report.variant_with_role("baseline")
    values = pooled_values(report.samples)
    ratios = paired_ratios(report.samples, pr.name, base.name) if pr and base else {}
    blocks = []
    for t in trends:
        if t.metric.endswith(RATIO):
            pr_values = ratios.get((t.workload, t.metric.removesuffix(RATIO), t.scenario))
        else:
            pr_values = values.get((pr.name, t.workload, t.metric, t.scenario)) if pr else None
        summary = summarize(pr_values) if pr_values else None
        chart = mermaid_trend(t, summary, last=last)
        if chart:
            title = f"#### Trend of {md_code(t.workload)} on main" if len(trends) > 1 else (
                "#### Trend on main")
            blocks += [title, "", chart, ""]
    return "\n".join(blocks).rstrip() + "\n" if blocks else ""
