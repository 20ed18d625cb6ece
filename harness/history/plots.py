"""Pictures of a run (matplotlib, the optional ``plots`` extra): each variant's sample
distribution per workload, and main's trend with the PR's point, as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError
from harness.history.trend import Trend, unit_header
from harness.model import Report


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise HarnessError("plots need matplotlib", "pip install 'startup-harness[plots]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: object, out: Path, stem: str) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in ("png", "svg"):
        path = out / f"{stem}.{suffix}"
        fig.savefig(path, dpi=110, bbox_inches="tight",  # type: ignore[attr-defined]
                    metadata={"Date": None} if suffix == "svg" else None)
        written.append(str(path))
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def distributions(report: Report, out: Path) -> list[str]:
    """Per workload: every variant's samples as a violin with the individual runs on top, so
    bimodality and outliers show, not only a median."""
    plt = _pyplot()
    import numpy as np

    written: list[str] = []
    labels = {v.name: v.label for v in report.variants}
    for workload in report.workloads:
        series = [s for s in report.samples if s.workload == workload and s.metric == "wall"
                  and s.scenario == "default" and s.values]
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(7, 1.1 + 0.9 * len(series)))
        data = [np.asarray(s.values) * 1000 for s in series]
        ax.violinplot(data, orientation="horizontal", showmedians=True, widths=0.8)
        rng = np.random.default_rng(0)
        for i, values in enumerate(data, start=1):
            ax.scatter(values, i + rng.uniform(-0.15, 0.15, len(values)), s=8, alpha=0.5,
                       color="#cf222e", linewidths=0)
        ax.set_yticks(range(1, len(series) + 1),
                      [labels.get(s.variant, s.variant)[:40] for s in series])
        ax.set_xlabel("wall time per start (ms)")
        ax.set_title(f"{report.title}: {workload} — every run")
        ax.grid(axis="x", alpha=0.3)
        written += _save(fig, out, f"distribution-{_safe(workload)}")
        plt.close(fig)
    return written


def trend_with_pr(trend: Trend, report: Report, out: Path, stem: str = "") -> list[str]:
    """Main's medians over commits with their interval band, and the PR's median and interval
    from this run as the last point (for a paired-ratio series: the PR's paired ratio to the
    baseline). Saved as ``stem`` (default ``trend-WORKLOAD``)."""
    plt = _pyplot()
    from harness.history.records import RATIO, median_interval, paired_ratios

    if not trend.points:
        return []
    scale = {"s": 1000.0, "ratio": 1.0}.get(trend.unit, 1e-6)
    xs = list(range(len(trend.points)))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.fill_between(xs, [p.ci_low * scale for p in trend.points],
                    [p.ci_high * scale for p in trend.points], alpha=0.2, label="95% interval")
    ax.plot(xs, [p.median * scale for p in trend.points], marker="o", ms=3, label="main")
    for step in trend.steps:
        ax.axvline(step.index - 0.5, color="#cf222e", ls="--", lw=1)
    pr = report.variant_with_role("pr")
    base = report.variant_with_role("baseline")
    values: tuple[float, ...] | list[float] | None = None
    if trend.metric.endswith(RATIO):
        if pr and base:
            values = paired_ratios(report.samples, pr.name, base.name).get(
                (trend.workload, trend.metric.removesuffix(RATIO), "default"))
    else:
        values = next((s.values for s in report.samples if pr and s.variant == pr.name
                       and s.workload == trend.workload and s.metric == trend.metric
                       and s.scenario == "default" and s.values), None)
    samples = values or None
    if samples is not None:
        import statistics

        median = statistics.median(samples) * scale
        low, high = (v * scale for v in median_interval(samples))
        ax.errorbar([len(xs)], [median], yerr=[[median - low], [high - median]], fmt="s",
                    color="#cf222e", capsize=4, label="this PR")
    ticks = xs[:: max(1, len(xs) // 10)]
    ax.set_xticks(ticks + ([len(xs)] if samples is not None else []),
                  [trend.points[i].commit[:7] for i in ticks]
                  + (["PR"] if samples is not None else []), rotation=45, fontsize=8)
    ax.set_ylabel(f"median ({unit_header(trend.unit)})")
    ax.set_title(f"{trend.workload}: {trend.series_name} of main over commits")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    written = _save(fig, out, stem or f"trend-{_safe(trend.workload)}")
    plt.close(fig)
    return written


def sweep_curves(report: Report, out: Path) -> list[str]:
    """Per sweep: the median start-up at each level, the Theil–Sen line and its slope band
    (each cell of a matrix run gets its own file)."""
    fits = [(report.cell, fit) for fit in report.sweeps]
    fits += [(cell.cell, fit) for cell in report.cells for fit in cell.sweeps]
    if not fits:
        return []
    plt = _pyplot()
    import numpy as np

    written: list[str] = []
    for i, (cell, fit) in enumerate(fits):
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        x = np.asarray(fit.levels, dtype=float)
        ax.plot(x, np.asarray(fit.medians_s) * 1000, "o", color="#0969da", label="median")
        line = fit.intercept_s + fit.slope_s * x
        centre = float(np.median(x))
        y_centre = fit.intercept_s + fit.slope_s * centre
        low = y_centre + fit.slope_low_s * (x - centre)
        high = y_centre + fit.slope_high_s * (x - centre)
        ax.plot(x, np.asarray(fit.medians_s) * 1000, ":", color="#0969da", alpha=0.6)
        ax.plot(x, line * 1000, "-", color="#1f2328",
                label=f"Theil–Sen: {fit.slope_s * 1000:.2g} ms per {fit.unit}")
        ax.fill_between(x, np.minimum(low, high) * 1000, np.maximum(low, high) * 1000,
                        color="#0969da", alpha=0.15, label="slope interval")
        ax.set_xlabel(f"{fit.quantity}" + (f" ({fit.detail})" if fit.detail else ""))
        ax.set_ylabel("start-up (ms)")
        where = f" [{cell}]" if cell else ""
        ax.set_title(f"{fit.workload} on {fit.variant}{where}: "
                     + ("faster than linear" if fit.curved else "linear fit"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        suffix = f"-{_safe(cell)}" if cell else ""
        written += _save(fig, out, f"sweep-{i}-{_safe(fit.quantity)}{suffix}")
        plt.close(fig)
    return written
