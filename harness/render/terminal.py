"""The terminal rendering of a Report, for local runs: same tables, plain text."""

from __future__ import annotations

from tabulate import tabulate

from harness.model import Report
from harness.render.common import fmt_count, fmt_delta, fmt_ms, startup_rows


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(report: Report) -> str:
    """Start-up tables, sys.path quality and the gate's line as plain text."""
    out = [report.title, "=" * len(report.title), ""]
    for workload in report.workloads:
        rows = []
        for r in startup_rows(report, workload):
            s = r.summary
            build = (f"{r.build_seconds:.2f}" if r.build_ok and r.build_seconds is not None
                     else "FAILED")
            rows.append([_one_line(r.label), fmt_ms(s.mean) if s else "—",
                         fmt_ms(s.median) if s else "—",
                         f"±{s.stddev * 1000:.3f}" if s else "—", fmt_delta(r.vs_baseline),
                         fmt_delta(r.vs_main),
                         fmt_count(r.instructions.median) if r.instructions else "",
                         build])
        out += [f"workload: {workload}",
                tabulate(rows, headers=["Version", "Mean (ms)", "Median (ms)", "± stddev",
                                        "vs baseline", "vs main", "Instr.", "Build (s)"],
                         tablefmt="simple", disable_numparse=True), ""]
    rows = []
    for info in report.variants:
        p = report.probes.get(info.name)
        rows.append([_one_line(info.label), *(["—"] * 3 if p is None else
                                   [p.sys_path_entries, p.site_packages_roots,
                                    p.duplicate_realpaths])])
    out += ["sys.path quality",
            tabulate(rows, headers=["Version", "entries", "site-packages roots",
                                    "duplicate realpaths"], tablefmt="simple"), ""]
    for build in report.builds:
        if not build.ok:
            out.append(f"build of {build.variant} failed: {build.error}")
    out += [f"! {w}" for w in (*report.gate.warnings, *report.extras.get("warnings", ()))]
    out += [f"! {n.message} ({n.advice})" for n in report.noise if n.severity == "warning"]
    mark = {"pass": "PASS", "regression": "REGRESSION"}.get(report.gate.status, "ERROR")
    out.append(f"[{mark}] {report.gate.headline}")
    return "\n".join(out) + "\n"
