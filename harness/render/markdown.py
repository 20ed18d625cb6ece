"""The PR comment: markdown from a Report, pure. Every string from a config, a ref or an
environment goes through :mod:`harness.render.escape`."""

from __future__ import annotations

from harness.github.wire import MARKER
from harness.model import BuildResult, Report
from harness.render.common import (
    fmt_count,
    fmt_delta,
    fmt_ms,
    md_table,
    startup_rows,
    workload_key,
)
from harness.render.escape import md_cell, md_code, md_text
from harness.render.health import health_sections, sys_path_table, variant_health

GITHUB_LIMIT = 65_536
#: What the comment may use; the rest of GitHub's limit is headroom for the bot's own edits.
BUDGET = 60_000


def startup_table(report: Report, workload: str) -> str:
    """The seed's start-up table (plus an instructions column when measured)."""
    rows_data = startup_rows(report, workload)
    with_instr = any(r.instructions for r in rows_data)
    headers = ["Version", "Mean (ms)", "Median (ms)", "± stddev", "vs baseline", "vs main",
               "Build (s)"]
    if with_instr:
        headers.insert(4, "Instructions")
    rows = []
    for r in rows_data:
        s = r.summary
        build = f"{r.build_seconds:.2f}" if r.build_ok and r.build_seconds is not None else (
            "failed" if not r.build_ok else "—")
        if s is None:
            cells = [md_cell(r.label), "—", "—", "—", "", "", build]
        else:
            cells = [md_cell(r.label), fmt_ms(s.mean), fmt_ms(s.median),
                     f"±{s.stddev * 1000:.3f}", fmt_delta(r.vs_baseline), fmt_delta(r.vs_main),
                     build]
        if with_instr:
            cells.insert(4, fmt_count(r.instructions.median) if r.instructions else "—")
        rows.append(cells)
    return md_table(headers, rows)


def scenario_table(report: Report, workload: str) -> str:
    """Bytecode scenarios (warm / cold / stale) with each one's ratio to warm."""
    scenarios = sorted({s.scenario for s in report.samples
                        if s.workload == workload and s.scenario != "default"},
                       key=["warm", "cold", "stale"].index)
    if not scenarios:
        return ""
    rows = []
    for info in report.variants:
        per = report.summaries.get(info.name, {})
        warm = per.get(workload_key(workload, scenario="warm"))
        cells = [md_cell(info.label)]
        for scenario in scenarios:
            s = per.get(workload_key(workload, scenario=scenario))
            if s is None:
                cells.append("—")
            elif scenario == "warm" or warm is None:
                cells.append(fmt_ms(s.median))
            else:
                cells.append(f"{fmt_ms(s.median)} (×{s.median / warm.median:.2f})")
        rows.append(cells)
    headers = ["Version", *[f"{name} median (ms)" for name in scenarios]]
    return md_table(headers, rows)


def _packages(build: BuildResult | None) -> dict[str, str]:
    out = {}
    for line in build.installed if build else ():
        name, sep, version = line.partition("==")
        out[name.lower()] = version if sep else line
    return out


def package_changes(report: Report, subject: str, reference: str) -> list[str]:
    """What differs between two variants' installed distributions (added, removed, changed)."""
    new, old = _packages(report.build(subject)), _packages(report.build(reference))
    lines = [f"+ {name}=={new[name]}" for name in sorted(set(new) - set(old))]
    lines += [f"- {name}=={old[name]}" for name in sorted(set(old) - set(new))]
    lines += [f"~ {name} {old[name]} → {new[name]}" for name in sorted(set(new) & set(old))
              if new[name] != old[name]]
    return lines


def environments_details(report: Report) -> str:
    """A <details> block: each variant's source, revision and installed distributions, and
    what the gated variant changed against its reference."""
    if not any(b.installed for b in report.builds):
        return ""
    rows = []
    for info in report.variants:
        build = report.build(info.name)
        installed = ", ".join(build.installed) if build and build.installed else "—"
        revision = info.revision[:12] if info.revision else ""
        rows.append([md_cell(info.label), md_cell(info.source), md_cell(revision),
                     md_cell(installed)])
    parts = ["<details><summary>Environments</summary>", "",
             md_table(["Version", "Source", "Revision", "Installed"], rows), ""]
    g = report.gate_config
    if g.get("compare") and g.get("against"):
        changes = package_changes(report, g["compare"], g["against"])
        if changes:
            parts += [f"Distributions of {md_text(_label(report, g['compare']))} vs "
                      f"{md_text(_label(report, g['against']))}:", "", "```diff",
                      *[line.replace("`", "'") for line in changes], "```", ""]
    parts.append("</details>")
    return "\n".join(parts)


ORDER_TEXT = {
    "interleaved": "interleaved rounds (one run of every command per round, order alternating)",
    "shuffled": "interleaved rounds (one run of every command per round, order shuffled)",
    "blocks": "one block of runs per command",
}
STATISTIC_TEXT = {
    "paired": "pseudo-median of the per-round ratios",
    "median": "ratio of medians",
    "mean": "ratio of means",
}


def _how_measured(report: Report) -> list[str]:
    t = report.timing
    order = ORDER_TEXT.get(t.order, md_text(t.order))
    lines = [f"Measured with {md_text(t.timer)}: {t.warmup} warmup + {t.runs} runs per "
             f"command, {order}, on {md_text(t.platform)}."]
    env_names = ", ".join(sorted(t.environment)) or "none"
    lines.append(f"Timed commands ran with an allow-listed environment ({md_text(env_names)}); "
                 "`PYTHON*`, `PIP_*`, `UV_*` and `VIRTUAL_ENV` of the caller were not passed.")
    if t.instruction_counter:
        lines.append(f"Instructions: {md_text(t.instruction_counter)}")
    return lines


def noise_lines(report: Report) -> list[str]:
    """Measurement diagnostics that deserve a look (warnings only), each naming its variant,
    with the harness's advice."""
    out = []
    seen: set[tuple[str, str]] = set()
    for finding in report.noise:
        if finding.severity != "warning" or (finding.variant, finding.message) in seen:
            continue
        seen.add((finding.variant, finding.message))
        where = md_text(_label(report, finding.variant))
        if finding.workload and len(report.workloads) > 1:
            where += f" / {md_code(finding.workload)}"
        out.append(f"⚠️ {where}: {md_text(_clip(finding.message))} — {finding.advice}")
    return out


def _gate_lines(report: Report) -> list[str]:
    g = report.gate_config
    if not g:
        return []
    subject = md_text(_label(report, g.get("compare", "")))
    reference = md_text(_label(report, g.get("against", "")))
    text = (f"Gate: {subject} vs {reference} (threshold: {g.get('threshold_pct', 10):g}%, "
            f"{STATISTIC_TEXT.get(g.get('statistic', ''), md_text(g.get('statistic', '')))} "
            f"of {md_text(g.get('metric', 'wall'))}, {g.get('confidence', 0.95) * 100:g}% "
            "confidence interval from a block bootstrap over rounds).")
    baseline = report.variant_with_role("baseline")
    if baseline and baseline.name not in (g.get("compare"), g.get("against")):
        text += f" {md_text(baseline.label)} is shown only as a historical baseline."
    return [text]


def _label(report: Report, name: str) -> str:
    try:
        return report.variant(name).label
    except KeyError:
        return name


def _build_line(report: Report) -> str:
    builders = sorted({v.builder for v in report.variants})
    return (f"Build time: cold build with {md_text(', '.join(builders))}, isolated output base "
            "and package cache per variant, no shared disk cache.")


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def final_line(report: Report) -> str:
    """The closing ✅ / ❌ line, from the gate's decision."""
    g = report.gate
    icon = {"pass": "✅", "regression": "❌"}.get(g.status, "❌")
    text = f"{icon} {md_text(g.headline)}"
    compared = [c for c in g.comparisons if c.subject == report.gate_config.get("compare")]
    if compared and g.status != "error":
        c = compared[0]
        text += (f": {md_text(_label(report, c.subject))} is {fmt_delta(c)} vs "
                 f"{md_text(_label(report, c.reference))}")
    return text


def render(report: Report, extra_sections: list[str] | None = None) -> str:
    """The whole comment, kept under GitHub's limit."""
    parts = [MARKER, f"### {md_text(report.title)}", ""]
    multiple = len(report.workloads) > 1
    for workload in report.workloads:
        if multiple:
            parts += [f"#### Workload {md_code(workload)}", ""]
        parts += [startup_table(report, workload), ""]
        scenarios = scenario_table(report, workload)
        if scenarios:
            parts += ["Bytecode scenarios: warm = valid `.pyc`; cold = `__pycache__` removed "
                      "before each run; stale = every `.pyc` with a foreign magic number and "
                      "writing disabled (each start recompiles).", "", scenarios, ""]
    notes = _how_measured(report) + _gate_lines(report) + [_build_line(report)]
    parts += ["\n".join(n + "  " for n in notes), ""]
    failed = [b for b in report.builds if not b.ok]
    for build in failed:
        parts += [f"⚠️ Build of {md_text(_label(report, build.variant))} failed: "
                  f"{md_text(_clip(build.error or 'unknown error'))}", ""]
    for warning in (*report.gate.warnings, *report.extras.get("warnings", ())):
        parts += [f"⚠️ {md_text(_clip(warning))}", ""]
    notes_found = noise_lines(report)
    if notes_found:
        parts += [f"<details><summary>⚠️ Measurement notes ({len(notes_found)})</summary>", "",
                  *[f"- {line.removeprefix('⚠️ ')}" for line in notes_found], "", "</details>",
                  ""]
    parts += ["#### sys.path quality", "", sys_path_table(variant_health(report)), "",
              "sys.path quality measured by the harness's probe inside each environment's own "
              "interpreter, started the way the workload starts. Duplicate realpaths indicate "
              "symlink redundancy; many distinct site-packages roots suggest an inefficient venv "
              "layout.", ""]
    sections = [*health_sections(report), environments_details(report),
                *(extra_sections or [])]
    head = "\n".join(parts)
    final = final_line(report) + "\n"
    if len(head) + len(final) > BUDGET:
        head = head[: BUDGET - len(final) - 200] + "\n\n_Truncated to fit GitHub's limit._\n"
    budget = BUDGET - len(head) - len(final)
    return head + "\n" + fit_sections([x for x in sections if x], budget) + final


def fit_sections(sections: list[str], budget: int) -> str:
    """Join ``sections`` within ``budget`` characters; what does not fit is cut with a note."""
    note = "_Further details truncated to fit GitHub's comment size limit; see report.json._\n\n"
    out: list[str] = []
    used = 0
    for section in sections:
        block = section + "\n\n"
        if used + len(block) + len(note) > budget:
            out.append(note)
            break
        out.append(block)
        used += len(block)
    return "".join(out)
