"""The terminal rendering of a Report, for local runs: the same tables in plain text, fitted
to the terminal's width (columns dropped, labels shortened), the verdict last. Pure: the
width is a parameter."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from tabulate import tabulate

from harness.model import NoiseFinding, Report
from harness.render.common import (
    change_legend,
    fmt_count,
    fmt_delta,
    fmt_ms,
    gate_warnings,
    headline,
    locations,
    note_message,
    relative_paths,
    scenario_rows,
    sequential_text,
    shown_notes,
    startup_rows,
    why,
)
from harness.render.escape import MESSAGE_LIMIT, clip, visible
from harness.render.sweep import sweep_lines

#: Verdict tags for a terminal (emoji widths vary between terminals).
TAGS = {"regression": "[REGRESSION]", "inconclusive": "[INCONCLUSIVE]", "error": "[ERROR]",
        "pass": "[PASS]", "off": "[MEASURED]"}
#: Columns of the start-up table, left out in this order when the table is too wide.
DROP_ORDER = ("CPU (ms)", "Mean (ms)", "Fetch (s)", "Build (s)", "± stddev")
METRIC = {"wall": "wall time", "instructions": "instructions", "cpu": "CPU time"}


def _one_line(text: str) -> str:
    """One line, without control characters (an escape sequence in a label would drive the
    terminal) and at most a screenful (labels are shortened further to fit tables)."""
    return clip(text, 2000)


def fit_table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int,
              drop: Sequence[str] = DROP_ORDER) -> str:
    """A plain table no wider than ``width``: empty columns are hidden, then the columns in
    ``drop`` are left out one by one, then the first column is shortened."""
    keep = [i for i, _ in enumerate(headers)
            if i == 0 or any(str(r[i]).strip() for r in rows)]
    label_width = min(max([len(str(r[0])) for r in rows] + [len(headers[0])]), width)

    def render(cols: list[int], limit: int) -> str:
        body = [[_clip(str(r[0]), limit) if i == 0 else r[i] for i in cols] for r in rows]
        return tabulate(body, headers=[headers[i] for i in cols], tablefmt="simple",
                        disable_numparse=True)

    def too_wide(text: str) -> bool:
        return max(len(line) for line in text.splitlines()) > width

    text = render(keep, label_width)
    for name in drop:
        if not too_wide(text):
            return text
        if name in headers and headers.index(name) in keep:
            keep.remove(headers.index(name))
            text = render(keep, label_width)
    while too_wide(text) and label_width > 12:
        label_width -= 2
        text = render(keep, label_width)
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _wrap(text: str, width: int, *, initial_indent: str = "",
          subsequent_indent: str = "") -> list[str]:
    """Wrapped lines that never split a number from its ``%`` or ``ms``."""
    keep = text.replace(" %", "\xa0%").replace(" ms", "\xa0ms")
    return [line.replace("\xa0", " ") for line in
            textwrap.wrap(keep, width, break_on_hyphens=False, initial_indent=initial_indent,
                          subsequent_indent=subsequent_indent)]


def _vs_main(report: Report) -> str:
    """``vs main``, or ``vs LABEL`` when the reference is an interpreter that was never built
    (``time``): there is no main branch to speak of."""
    main = report.variant_with_role("main")
    build = report.build(main.name) if main else None
    if main is not None and build is not None and build.ok and build.seconds is None:
        return f"vs {_one_line(main.label)}"
    return "vs main"


def startup_table(report: Report, workload: str, width: int) -> str:
    rows_data = startup_rows(report, workload)
    with_fetch = any(r.fetch_seconds is not None for r in rows_data)
    headers = ["Version", "Median (ms)", "± stddev", "Mean (ms)", "CPU (ms)", "Instr.",
               "vs baseline", _vs_main(report), *(["Fetch (s)"] if with_fetch else []),
               "Build (s)"]
    rows = []
    for r in rows_data:
        s = r.summary
        build = (f"{r.build_seconds:.2f}" if r.build_ok and r.build_seconds is not None
                 else ("FAILED" if not r.build_ok else ""))
        fetch = ([f"{r.fetch_seconds:.2f}" if r.build_ok and r.fetch_seconds is not None
                  else ""] if with_fetch else [])
        rows.append([_one_line(r.label), fmt_ms(s.median) if s else "—",
                     f"±{s.stddev * 1000:.3f}" if s else "", fmt_ms(s.mean) if s else "",
                     fmt_ms(r.cpu.median) if r.cpu else "",
                     fmt_count(r.instructions.median) if r.instructions else "",
                     fmt_delta(r.vs_baseline), fmt_delta(r.vs_main), *fetch, build])
    return fit_table(headers, rows, width)


def scenario_table(report: Report, workload: str, width: int) -> str:
    """Bytecode scenarios (warm / cold / stale): medians and each one's ratio to warm."""
    scenarios, rows = scenario_rows(report, workload, _one_line,
                                    lambda median, times: f"{median} ×{times:.2f}")
    if not scenarios:
        return ""
    return fit_table(["Version", *[f"{clip(name, 12)} (ms)" for name in scenarios]], rows, width,
                     ())


def subject(report: Report, finding: NoiseFinding) -> str:
    """variant / workload / scenario / metric of a note ("machine" for the whole run)."""
    if not finding.variant:
        return "machine"
    label = next((v.label for v in report.variants if v.name == finding.variant),
                 finding.variant)
    parts = [_one_line(label), finding.workload]
    if finding.scenario and finding.scenario != "default":
        parts.append(f"{finding.scenario} bytecode")
    parts.append(METRIC.get(finding.metric, finding.metric))
    return " / ".join(p for p in parts if p)


def render(report: Report, width: int = 80) -> str:
    """Start-up tables, scenarios, sys.path quality, notes, and the verdict on the last line,
    every line at most ``width`` characters (tables drop columns to fit)."""
    width = max(width, 40)
    if report.cells:
        from harness.render.matrix import render_terminal

        return render_terminal(report, width, fit_table)
    title = clip(report.title, width)
    out = [title, "=" * min(len(title), width), ""]
    for workload in report.workloads:
        out += [clip(f"workload: {workload}", width), startup_table(report, workload, width)]
        legend = change_legend(report, workload)
        out += [*textwrap.wrap(legend, width), ""] if legend else [""]
        scenarios = scenario_table(report, workload, width)
        if scenarios:
            out += [clip(f"bytecode scenarios of {workload} (median, ratio to warm)", width),
                    scenarios, ""]
    rows = []
    for info in report.variants:
        p = report.probes.get(info.name)
        rows.append([_one_line(info.label), *(["—"] * 3 if p is None else
                                               [str(p.sys_path_entries),
                                                str(p.site_packages_roots),
                                                str(p.duplicate_realpaths)])])
    if any(report.probes.values()):
        out += ["sys.path quality",
                fit_table(["Version", "entries", "site-packages roots", "dup. realpaths"],
                          rows, width, ()), ""]
    for line in sweep_lines(report):
        out += textwrap.wrap(clip(line, MESSAGE_LIMIT), width, subsequent_indent="  ")
    if report.sweeps:
        out.append("")
    labels = {v.name: _one_line(v.label) for v in report.variants}
    notes = [f"build of {labels.get(b.variant, b.variant)} failed: {b.error}"
             for b in report.builds if not b.ok]
    notes += [*gate_warnings(report), *report.extras.get("warnings", ())]
    for advice, found in shown_notes(report):
        said = "; ".join(dict.fromkeys(f"{subject(report, n)}: {note_message(report, n)}"
                                       for n in found))
        notes.append(f"{said} ({advice})" if advice else said)
    if report.timing.sequential:
        notes.append(f"runs: auto — {sequential_text(report.timing.sequential)}")
    if report.timing.order == "blocks" and report.samples:
        notes.append("order: blocks runs each command back to back: a burst of load or a "
                     "drift lands on one variant; use order: interleaved")
    for note in dict.fromkeys(clip(n, MESSAGE_LIMIT) for n in notes):
        out += _wrap(note, width, initial_indent="! ", subsequent_indent="  ")
    if notes:
        out.append("")
    title, because = why(report)
    if because:
        out += _wrap(f"why ({title}):", width)
        for line in because:
            out += _wrap(line, width, initial_indent="- ", subsequent_indent="  ")
        out.append("")
    out += _wrap(headline(report, code=clip, icons=TAGS), width, subsequent_indent="  ")
    text = relative_paths("\n".join(out), locations(report))
    return "\n".join(visible(line) for line in text.splitlines()) + "\n"
