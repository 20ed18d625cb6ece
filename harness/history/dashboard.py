"""The static dashboard (pure): one self-contained HTML page, inline SVG charts, no script and
nothing fetched, so it works offline and from GitHub Pages.

Per workload and series (by default the load-proof ones: CPU time, and main's paired ratio to
the baseline timed in the same rounds; wall time with ``--metric wall``): main's medians over
commits with their intervals as a band, the baseline's (when the runs have one and the series
is absolute) as a grey control line, detected steps as dashed red lines whose commits are
labelled on the axis, spikes as red rings, commits where the control moved as grey marks, each
point a link to its commit; then the table of steps (commit, date, size with its interval,
fixed by), and the latest run's table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from harness.history.records import RATIO, RunRecord
from harness.history.trend import (
    Trend,
    describe,
    describe_spike,
    fmt_interval,
    fmt_value,
    trend,
    trends,
    unit_header,
)

if TYPE_CHECKING:
    import pandas as pd

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 30, 20, 44

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
svg .steptick{fill:#cf222e;font-weight:700}svg .spike{fill:none;stroke:#cf222e;stroke-width:2}
svg .control{fill:#8c959f}td.fix{color:#1a7f37;text-align:left}
table.steps td{white-space:nowrap}table.steps td.fix{white-space:normal}
h3.series{font-size:15px;margin:18px 0 6px}
"""

#: The link schemes a commit URL may have (anything else, e.g. javascript:, is refused).
SCHEMES = ("https://", "http://")


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


def safe_commit_url(commit_url: str) -> bool:
    """Whether ``commit_url`` is an http(s) link (the only kind the page writes)."""
    return commit_url == "" or commit_url.lower().startswith(SCHEMES)


def commit_href(commit_url: str, commit: str) -> str:
    if not commit_url or not safe_commit_url(commit_url):
        return ""
    return commit_url.replace("{commit}", quote(commit, safe=""))


def _scale(unit: str) -> float:
    return {"s": 1000.0, "ratio": 1.0}.get(unit, 1e-6)


def chart(t: Trend, baseline: Trend | None = None, commit_url: str = "") -> str:
    """An inline SVG line chart of one trend."""
    scale = _scale(t.unit)
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

    def linked(inner: str, commit: str) -> str:
        href = commit_href(commit_url, commit)
        return f'<a href="{escape(href)}">{inner}</a>' if href else inner

    label = f"{t.workload}: {t.series_name} of {t.who.removeprefix('role ')} over commits"
    out = [f'<svg class="trend" data-workload="{escape(t.workload)}" '
           f'data-metric="{escape(t.metric)}" '
           f'xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">']
    for tick in ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                   f'y2="{y(tick):.1f}"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
                   f'text-anchor="end">{tick:g}</text>')
    out.append(f'<text x="14" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 14 '
               f'{TOP + plot_h / 2:.0f})" text-anchor="middle">{escape(t.series_name)} '
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
                   f'{escape(describe(t, step))}</title>'
                   f'</line><text class="steplabel" x="{sx + 3:.1f}" y="{TOP + 12}">'
                   f'{step.pct:+.1f}%</text>')
    for i, p in enumerate(pts):
        if p.control_pct is not None:
            out.append(f'<rect class="control" data-commit="{escape(p.commit)}" '
                       f'x="{x(i) - 3:.1f}" y="{TOP + plot_h - 6}" width="6" height="6">'
                       f"<title>{escape(p.commit[:12])}: the control (baseline) moved "
                       f"{p.control_pct:+.0f}%: the machine changed</title></rect>")
    for spike in t.spikes:
        p = pts[spike.index]
        out.append(f'<circle class="spike" data-commit="{escape(p.commit)}" '
                   f'cx="{x(spike.index):.1f}" cy="{y(p.median * scale):.1f}" r="7">'
                   f"<title>{escape(describe_spike(t, spike))}</title></circle>")
    for i, p in enumerate(pts):
        tip = (f"{p.commit[:12]} {p.date[:10]}: {fmt_value(p.median, t.unit)} "
               f"[{fmt_value(p.ci_low, t.unit)}, {fmt_value(p.ci_high, t.unit)}] "
               f"{unit_header(t.unit)}")
        dot = (f'<circle class="pt" data-commit="{escape(p.commit)}" cx="{x(i):.1f}" '
               f'cy="{y(p.median * scale):.1f}" r="3.5"><title>{escape(tip)}</title></circle>')
        out.append(linked(dot, p.commit))
    out += _axis_labels(t, x, linked)
    out.append("</svg>")
    return "".join(out)


def _axis_labels(t: Trend, x: Callable[[int], float],
                 linked: Callable[[str, str], str]) -> list[str]:
    """Commit labels under the axis: every step's commit (red, linked) always; the others
    where they do not collide with a label already placed."""
    pts = t.points
    marked = sorted({s.index for s in t.steps} | {s.index for s in t.spikes})
    placed: list[float] = []
    out = []
    base = HEIGHT - BOTTOM + 16
    for i in marked:
        row = base + (14 if any(abs(x(i) - p) < 46 for p in placed) else 0)
        placed.append(x(i))
        text = (f'<text class="steptick" data-commit="{escape(pts[i].commit)}" x="{x(i):.1f}" '
                f'y="{row}" text-anchor="middle">{escape(pts[i].commit[:7])}</text>')
        out.append(linked(text, pts[i].commit))
    for i, p in enumerate(pts):
        if i in marked or any(abs(x(i) - q) < 50 for q in placed):
            continue
        placed.append(x(i))
        out.append(f'<text x="{x(i):.1f}" y="{base}" text-anchor="middle">'
                   f"{escape(p.commit[:7])}</text>")
    return out


def steps_table(t: Trend, commit_url: str = "") -> str:
    """The steps and spikes of a chart: commit, date, size with its interval, fixed by."""
    def commit_cell(index: int) -> str:
        commit = t.points[index].commit
        href = commit_href(commit_url, commit)
        text = f"<code>{escape(commit[:12])}</code>"
        return f'<a href="{escape(href)}">{text}</a>' if href else text

    rows = []
    for s in t.steps:
        p = t.points[s.index]
        if s.index in t.machine_steps:
            what = "machine: the control moved too"
        elif s.status == "newest":
            what = "newest commit: to be confirmed"
        elif s.fixed_by is not None:
            what = (f"{'fixed' if s.pct > 0 else 'lost'} at {commit_cell(s.fixed_by)}, "
                    f"lived {s.lived} commit{'s' if s.lived != 1 else ''}")
        elif s.fixes is not None:
            what = f"{'fixes' if s.pct < 0 else 'loses'} {commit_cell(s.fixes)}"
        else:
            what = ""
        if what and "<code>" not in what:
            what = escape(what)
        rows.append(f"<tr><td>{commit_cell(s.index)}</td><td>{escape(p.date[:10])}</td>"
                    f"<td>{escape(fmt_value(s.before, t.unit))} → "
                    f"{escape(fmt_value(s.after, t.unit))}</td>"
                    f"<td>{escape(fmt_interval(s))}</td><td class=\"fix\">{what}</td></tr>")
    for spike in t.spikes:
        p = t.points[spike.index]
        rows.append(f"<tr><td>{commit_cell(spike.index)}</td><td>{escape(p.date[:10])}</td>"
                    f"<td>{escape(fmt_value(spike.level, t.unit))} → "
                    f"{escape(fmt_value(spike.value, t.unit))}</td>"
                    f"<td>{spike.pct:+.1f}%</td><td>spike: this commit alone</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in (
        "Step at", "Date", f"Median ({escape(unit_header(t.unit))})",
        "Size [99% interval]", "Fixed by"))
    return (f'<table class="steps"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
            "</tbody></table>")


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
           metric: str = "auto", role: str = "main", variant: str | None = None,
           links: Sequence[tuple[str, str]] = ()) -> str:
    """The whole page; ``links``: (text, relative file) of the other views of the store."""
    order = latest.workloads if latest is not None else ()
    main_trends = trends(points, metric=metric, role=role, variant=variant, order=order)
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>"]
    who = f"variant {variant}" if variant else f"the {role} variant"
    shown = sorted({t.series_name for t in main_trends})
    parts.append(f'<p class="muted">{len(runs)} runs; each point is the median of '
                 f"{escape(who)} at one commit, the band its 95% interval; dashed red lines "
                 "mark detected steps (their commits labelled in red under the axis), red "
                 "rings spikes (one commit alone). Series shown: "
                 f"{escape(', '.join(shown) or 'none')}"
                 + (" (the load-proof ones; wall time is on its own page)"
                    if metric == "auto" else "")
                 + ". The baseline release is a control timed in the same rounds: where it "
                 "moves (grey marks), the machine changed, not the code.</p>")
    if links:
        parts.append('<p class="views">' + " · ".join(
            f'<a href="{escape(quote(href))}">{escape(text)}</a>' for text, href in links)
            + "</p>")
    if not main_trends:
        parts.append("<p>No points yet.</p>")
    for k, t in enumerate(main_trends):
        unit = unit_header(t.unit)
        if k == 0 or main_trends[k - 1].workload != t.workload:
            parts.append(f"<h2>{escape(t.workload)}</h2>")
        parts.append(f'<h3 class="series">{escape(t.series_name)} ({escape(unit)}), '
                     f"{escape(t.who)}</h3>")
        base = None
        if not t.metric.endswith(RATIO):
            base = trend(points, t.workload, metric=t.metric, scenario=t.scenario,
                         role="baseline", control=False)
        parts.append(chart(t, base if base and base.points else None, commit_url))
        moved = [p for p in t.points if p.control_pct is not None]
        if moved:
            parts.append('<p class="muted control">The control (baseline release) moved at '
                         + escape(", ".join(f"{p.commit[:12]} ({p.control_pct:+.0f}%)"
                                            for p in moved))
                         + ": the machine or the runner changed there, not the code.</p>")
        if t.steps or t.spikes:
            parts.append(steps_table(t, commit_url))
        else:
            parts.append('<p class="muted">No change point detected.</p>')
        last_of_workload = k + 1 == len(main_trends) or main_trends[k + 1].workload != t.workload
        if latest is not None and last_of_workload:
            table = latest_table(points, latest, t.workload)
            if table:
                parts.append(f"<h3>Latest run ({escape(latest.commit[:12])}, "
                             f"{escape(latest.measured[:19])})</h3>{table}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
