"""Sweeps as text: the fitted cost per unit, the medians per level, and what the seed's sys.path
figures cost by those fits (pure)."""

from __future__ import annotations

from harness.model import GrowthFit, Report
from harness.render.common import md_table
from harness.render.escape import MESSAGE_LIMIT, md_cell, md_code, md_text


def _what(fit: GrowthFit) -> str:
    return f"{fit.quantity}" + (f" ({fit.detail})" if fit.detail else "")


def sweep_section(report: Report) -> str:
    """A markdown section per report: one line per sweep and a table of its medians."""
    if not report.sweeps:
        return ""
    parts = ["#### How start-up grows with what is installed", ""]
    for fit in report.sweeps:
        parts += [f"- {md_code(fit.workload)} on {md_text(_label(report, fit.variant))}, "
                  f"{md_text(_what(fit))}: **{md_text(fit.sentence(), MESSAGE_LIMIT)}** "
                  f"(Theil–Sen over {fit.n_samples} runs, {fit.confidence * 100:g} % interval)"]
    parts.append("")
    for fit in report.sweeps:
        headers = [md_text(fit.quantity), *(md_cell(x) for x in fit.levels)]
        parts += [md_table(headers, [["median (ms)",
                                      *(f"{m * 1000:.1f}" for m in fit.medians_s)]]), ""]
    costs = sys_path_costs(report)
    if costs:
        parts += ["By these fits, the sys.path figures above cost about: " + "; ".join(
            md_text(c) for c in costs) + ".", ""]
    return "\n".join(parts)


def sys_path_costs(report: Report) -> list[str]:
    """``This PR: 9 roots ≈ +2.6 ms`` from a site_roots (else sys_path_entries) fit."""
    fit = next((f for f in report.sweeps if f.quantity == "site_roots"), None)
    field, unit = "site_packages_roots", "site-packages roots"
    if fit is None:
        fit = next((f for f in report.sweeps if f.quantity == "sys_path_entries"), None)
        field, unit = "sys_path_entries", "sys.path entries"
    if fit is None:
        return []
    out = []
    for info in report.variants:
        probe = report.probes.get(info.name)
        count = getattr(probe, field, None) if probe is not None else None
        if isinstance(count, int):
            out.append(f"{info.label}: {count} {unit} ≈ +{fit.cost_s(count) * 1000:.1f} ms")
    return out


def sweep_lines(report: Report) -> list[str]:
    """Plain lines for the terminal."""
    return [f"sweep {fit.workload} on {fit.variant}, {_what(fit)}: {fit.sentence()}"
            for fit in report.sweeps]


def _label(report: Report, name: str) -> str:
    return next((v.label for v in report.variants if v.name == name), name)
