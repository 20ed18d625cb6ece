"""The static dashboard (pure): one self-contained HTML page, inline SVG charts, no script and
nothing fetched, so it works offline and from GitHub Pages.

Per workload: main's medians over commits with their intervals as a band, the baseline's (when
the runs have one) as a grey control line, detected steps as dashed red lines, each point a
link to its commit; then the steps, and the latest run's table per variant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from harness.history.records import RunRecord
from harness.history.trend import Trend, fmt_step, fmt_value, trends, unit_header

if TYPE_CHECKING:
    import pandas as pd

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 20, 44

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;
max-width:820px;color:#1f2328;padding:0 12px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;
text-align:right}th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
svg.trend{display:block;border:1px solid #d0d7de;border-radius:6px;background:#fff}
svg .band{fill:#0969da;fill-opacity:.15}svg .line{fill:none;stroke:#0969da;stroke-width:2}
svg .base{fill:none;stroke:#8c959f;stroke-width:1.5;stroke-dasharray:4 3}
svg .pt{fill:#0969da}svg a:hover .pt{fill:#cf222e}svg .step{stroke:#cf222e;stroke-width:1.5;
stroke-dasharray:5 4}svg .grid{stroke:#eaeef2}svg text{font-size:11px;fill:#57606a}
svg .steplabel{fill:#cf222e;font-weight:600}.muted{color:#57606a}
"""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + (abs(low) * 0.1 or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks


def commit_href(commit_url: str, commit: str) -> str:
    return commit_url.replace("{commit}", quote(commit, safe="")) if commit_url else ""


def chart(t: Trend, baseline: Trend | None = None, commit_url: str = "") -> str:
    """An inline SVG line chart of one trend."""
    scale = 1000.0 if t.unit == "s" else 1e-6
    pts = t.points
    lows = [p.ci_low * scale for p in pts]
    highs = [p.ci_high * scale for p in pts]
    base_pts = baseline.points if baseline else ()
    base_by_commit = {p.commit: p.median * scale for p in base_pts}
    ticks = nice_ticks(min(lows), max(highs))
    y0, y1 = ticks[0], ticks[-1]
    # the control line only where it fits the main series' scale (else it is text below)
    base_vals = [v if v is not None and y0 <= v <= y1 else None
                 for v in (base_by_commit.get(p.commit) for p in pts)]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(pts) - 1) if len(pts) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - y0) / (y1 - y0 or 1.0))

    out = [f'<svg class="trend" data-workload="{escape(t.workload)}" '
           f'xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(t.workload)} median over commits">']
    for tick in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                   f'y2="{y(tick):.1f}"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
                   f'text-anchor="end">{tick:g}</text>')
    out.append(f'<text x="14" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 14 '
               f'{TOP + plot_h / 2:.0f})" text-anchor="middle">median '
               f'({escape(unit_header(t.unit))})</text>')
    band = [f"{x(i):.1f},{y(h):.1f}" for i, h in enumerate(highs)]
    band += [f"{x(i):.1f},{y(lo):.1f}" for i, lo in reversed(list(enumerate(lows)))]
    out.append(f'<polygon class="band" points="{" ".join(band)}"/>')
    if any(v is not None for v in base_vals):
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(base_vals)
                        if v is not None)
        out.append(f'<polyline class="base" points="{path}"><title>baseline (control)'
                   f'</title></polyline>')
    line = " ".join(f"{x(i):.1f},{y(p.median * scale):.1f}" for i, p in enumerate(pts))
    out.append(f'<polyline class="line" points="{line}"/>')
    for step in t.steps:
        sx = (x(step.index - 1) + x(step.index)) / 2
        out.append(f'<line class="step" data-commit="{escape(pts[step.index].commit)}" '
                   f'x1="{sx:.1f}" x2="{sx:.1f}" y1="{TOP}" y2="{TOP + plot_h}"><title>'
                   f'{escape(pts[step.index].commit[:12])}: {escape(fmt_step(step))}</title>'
                   f'</line><text class="steplabel" x="{sx + 3:.1f}" y="{TOP + 12}">'
                   f'{step.pct:+.1f}%</text>')
    every = max(1, math.ceil(len(pts) / 10))
    for i, p in enumerate(pts):
        tip = (f"{p.commit[:12]} {p.date[:10]}: {fmt_value(p.median, t.unit)} "
               f"[{fmt_value(p.ci_low, t.unit)}, {fmt_value(p.ci_high, t.unit)}] "
               f"{unit_header(t.unit)}")
        dot = (f'<circle class="pt" data-commit="{escape(p.commit)}" cx="{x(i):.1f}" '
               f'cy="{y(p.median * scale):.1f}" r="3.5"><title>{escape(tip)}</title></circle>')
        href = commit_href(commit_url, p.commit)
        out.append(f'<a href="{escape(href)}">{dot}</a>' if href else dot)
        if i % every == 0 or (i == len(pts) - 1 and i % every >= every * 0.8):
            out.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                       f'text-anchor="middle">{escape(p.commit[:7])}</text>')
    out.append("</svg>")
    return "".join(out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def latest_table(points: pd.DataFrame, run: RunRecord, workload: str) -> str:
    rows = points[(points["run_id"] == run.run_id) & (points["workload"] == workload)
                  & (points["scenario"] == "default")]
    out = []
    for r in rows.itertuples(index=False):
        out.append([r.variant, r.role or "—", r.metric, fmt_value(r.median, r.unit),
                    f"[{fmt_value(r.ci_low, r.unit)}, {fmt_value(r.ci_high, r.unit)}]",
                    fmt_value(r.mean, r.unit), fmt_value(r.stddev, r.unit), str(r.n)])
    return _table(["Variant", "Role", "Metric", "Median", "95% interval", "Mean", "Stddev",
                   "Runs"], out) if out else ""


def render(runs: Sequence[RunRecord], points: pd.DataFrame, *,
           latest: RunRecord | None = None,
           title: str = "Python start-up history", commit_url: str = "",
           metric: str = "wall", role: str = "main", variant: str | None = None) -> str:
    """The whole page."""
    order = latest.workloads if latest is not None else ()
    main_trends = trends(points, metric=metric, role=role, variant=variant, order=order)
    base = {t.workload: t for t in trends(points, metric=metric, role="baseline")}
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>"]
    who = f"variant {variant}" if variant else f"the {role} variant"
    parts.append(f'<p class="muted">{len(runs)} runs; each point is the median of '
                 f"{escape(who)} at one commit, the band its 95% interval; dashed red lines "
                 "mark detected change points. The baseline release is a control (grey dashed, "
                 "when it fits the scale): if it moves too, the machine did.</p>")
    if not main_trends:
        parts.append("<p>No points yet.</p>")
    for t in main_trends:
        unit = unit_header(t.unit)
        parts.append(f"<h2>{escape(t.workload)}</h2>")
        parts.append(chart(t, base.get(t.workload), commit_url))
        control = base.get(t.workload)
        if control is not None and control.points:
            moved = ", ".join(f"{control.points[s.index].commit[:12]} ({s.pct:+.1f}%)"
                              for s in control.steps)
            parts.append(f'<p class="muted control">Control, the baseline release: median '
                         f"{fmt_value(control.points[-1].median, control.unit)} {unit}; "
                         + (f"it stepped too at {escape(moved)}, so that step is likely the "
                            "machine's or the runner's, not the code's." if moved
                            else "no change point.") + "</p>")
        if t.steps:
            rows = [[t.points[s.index].commit[:12], t.points[s.index].date[:10],
                     f"{fmt_value(s.before, t.unit)} → {fmt_value(s.after, t.unit)} {unit}",
                     fmt_step(s).removeprefix("step ")] for s in t.steps]
            parts.append(_table(["Change point", "Date", "Median", "Step [99% interval]"],
                                rows))
        else:
            parts.append('<p class="muted">No change point detected.</p>')
        if latest is not None:
            table = latest_table(points, latest, t.workload)
            if table:
                parts.append(f"<h3>Latest run ({escape(latest.commit[:12])}, "
                             f"{escape(latest.measured[:19])})</h3>{table}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
