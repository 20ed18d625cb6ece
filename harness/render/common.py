"""Pure helpers shared by the markdown and terminal renderers: which rows, which numbers."""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

from harness.model import Comparison, Report, Summary

ROLE_SUFFIX = {"baseline": " (baseline)"}


@dataclass(frozen=True)
class StartupRow:
    """One row of a start-up table, numbers still unformatted."""

    variant: str
    label: str
    summary: Summary | None
    vs_baseline: Comparison | None
    vs_main: Comparison | None
    build_seconds: float | None
    build_ok: bool
    instructions: Summary | None = None


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table; cells must already be escaped."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def workload_key(workload: str, metric: str = "wall", scenario: str = "default") -> str:
    """Key of Report.summaries[variant]: ``workload/metric`` (``@scenario`` when not default)."""
    suffix = "" if scenario == "default" else f"@{scenario}"
    return f"{workload}/{metric}{suffix}"


def find_comparison(report: Report, subject: str, reference: str, workload: str,
                    metric: str = "wall") -> Comparison | None:
    return next((c for c in report.comparisons if c.subject == subject
                 and c.reference == reference and c.workload == workload
                 and c.metric == metric), None)


def startup_rows(report: Report, workload: str) -> list[StartupRow]:
    """Rows for ``workload``, in the config's variant order."""
    baseline = report.variant_with_role("baseline")
    main = report.variant_with_role("main")
    rows = []
    for info in report.variants:
        build = report.build(info.name)
        per_variant = report.summaries.get(info.name, {})
        rows.append(StartupRow(
            variant=info.name, label=info.label,
            summary=per_variant.get(workload_key(workload)),
            vs_baseline=(find_comparison(report, info.name, baseline.name, workload)
                         if baseline and baseline.name != info.name else None),
            vs_main=(find_comparison(report, info.name, main.name, workload)
                     if main and main.name != info.name else None),
            build_seconds=build.seconds if build else None,
            build_ok=bool(build and build.ok),
            instructions=per_variant.get(workload_key(workload, "instructions")),
        ))
    return rows


def fmt_ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.3f}"


def fmt_delta(comparison: Comparison | None, with_ci: bool = True) -> str:
    """``+4.1%`` or ``+4.1% [+2.9, +5.3]`` when the comparison has a confidence interval."""
    if comparison is None:
        return ""
    text = f"{comparison.delta_pct:+.1f}%"
    if with_ci and comparison.ci_low is not None and comparison.ci_high is not None:
        text += f" [{(comparison.ci_low - 1) * 100:+.1f}, {(comparison.ci_high - 1) * 100:+.1f}]"
    return text


def fmt_count(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.2f}M"


def role_label(report: Report, role: str) -> str:
    info = report.variant_with_role(role)
    return info.label if info else role
