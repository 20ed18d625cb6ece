"""The PR comment: markdown from a Report, pure. Every string from a config, a ref or an
environment goes through :mod:`harness.render.escape`."""

from __future__ import annotations

from harness.analyse.levels import level_text
from harness.github.wire import MARKER
from harness.model import NoiseFinding, Report
from harness.render import matrix
from harness.render.common import (
    STATISTIC_TEXT,
    bold_verdict,
    change_header,
    change_legend,
    fit,
    fmt_count,
    fmt_delta,
    fmt_ms,
    fmt_package,
    fmt_seconds,
    gate_warnings,
    headline,
    installed_packages,
    locations,
    md_places,
    md_table,
    note_message,
    package_changes,
    relative_paths,
    scenario_rows,
    sequential_text,
    shown_notes,
    startup_rows,
    variant_label,
    why,
)
from harness.render.common import final_line as _final_line
from harness.render.escape import MESSAGE_LIMIT, md_cell, md_code, md_inline, md_text, size
from harness.render.health import health_blocks, sys_path_table, variant_health
from harness.render.sweep import sweep_section

GITHUB_LIMIT = 65_536
#: What the comment may use, in UTF-8 bytes (so also in characters); the rest of GitHub's
#: limit is headroom for the bot's own edits (a zero-width space after each sigil).
BUDGET = 60_000
#: Blocks of lines (warnings, notes) show at most this many, then "… and N more".
MANY = 12


def startup_table(report: Report, workload: str) -> str:
    """The seed's start-up table (plus an instructions column when measured). The change
    columns name their statistic; a column with nothing in it is left out."""
    rows_data = startup_rows(report, workload)
    with_instr = any(r.instructions for r in rows_data)
    with_cpu = any(r.cpu for r in rows_data)
    with_baseline = any(r.vs_baseline for r in rows_data)
    with_main = any(r.vs_main for r in rows_data)
    headers = ["Version", "Mean (ms)", "Median (ms)", "± stddev"]
    if with_cpu:
        headers.append("CPU median (ms)")
    if with_instr:
        headers.append("Instructions")
    if with_baseline:
        headers.append(change_header(report, workload, "baseline"))
    if with_main:
        headers.append(change_header(report, workload, "main"))
    with_fetch = any(r.fetch_seconds is not None for r in rows_data)
    headers += ["Fetch (s)", "Build (s)"] if with_fetch else ["Build (s)"]
    rows = []
    for r in rows_data:
        s = r.summary
        build = fmt_seconds(r.build_seconds, r.build_ok)
        if s is None:
            cells = [md_cell(r.label), "—", "—", "—"]
        else:
            cells = [md_cell(r.label), fmt_ms(s.mean), fmt_ms(s.median),
                     f"±{s.stddev * 1000:.3f}"]
        if with_cpu:
            cells.append(fmt_ms(r.cpu.median) if r.cpu else "—")
        if with_instr:
            cells.append(fmt_count(r.instructions.median) if r.instructions else "—")
        if with_baseline:
            cells.append(fmt_delta(r.vs_baseline))
        if with_main:
            cells.append(fmt_delta(r.vs_main))
        if with_fetch:
            cells.append(fmt_seconds(r.fetch_seconds) if r.build_ok else "—")
        cells.append(build)
        rows.append(cells)
    return md_table(headers, rows)


def change_note(report: Report, workload: str) -> str:
    """What the change columns show, in words (empty without comparisons)."""
    return md_text(change_legend(report, workload), MESSAGE_LIMIT)


def scenario_table(report: Report, workload: str) -> str:
    """Bytecode scenarios (warm / cold / stale) with each one's ratio to warm."""
    scenarios, rows = scenario_rows(report, workload, md_cell,
                                    lambda median, times: f"{median} (×{times:.2f})")
    if not scenarios:
        return ""
    headers = ["Version", *[f"{md_text(name, 40)} median (ms)" for name in scenarios]]
    return md_table(headers, rows)


def environments_details(report: Report) -> str:
    """A <details> block: each variant's source, revision and installed distributions, and
    what the gated variant changed against its reference."""
    if not any(b.installed for b in report.builds):
        return ""
    rows = []
    places = locations(report)
    for info in report.variants:
        packages = installed_packages(report, info.name)
        installed = ", ".join(fmt_package(n, v) for n, v in sorted(packages.items())) or "—"
        revision = info.revision[:12] if info.revision else ""
        rows.append([md_cell(info.label), md_cell(relative_paths(info.source, places)),
                     md_cell(revision), md_cell(installed, 4000)])
    parts = ["<details><summary>Environments</summary>", "",
             md_table(["Version", "Source", "Revision", "Installed"], rows), ""]
    g = report.gate_config
    if g.compare and g.against:
        changes = package_changes(report, g.compare, g.against)
        if changes:
            parts += [f"Distributions of {md_text(variant_label(report, g.compare))} vs "
                      f"{md_text(variant_label(report, g.against))}:", "", "```diff",
                      *[line.replace("`", "'") for line in changes], "```", ""]
    parts.append("</details>")
    return "\n".join(parts)


ORDER_TEXT = {
    "balanced": ("carry-over-balanced rounds (one run of every command per round, every "
                 "command preceded by every command equally often)"),
    "interleaved": "interleaved rounds (one run of every command per round, order alternating)",
    "shuffled": "interleaved rounds (one run of every command per round, order shuffled)",
    "blocks": "one block of runs per command",
}


def _how_measured(report: Report) -> list[str]:
    t = report.timing
    order = ORDER_TEXT.get(t.order, md_text(t.order))
    lines = ([f"Measured with {md_text(t.timer)}: {t.warmup} warmup + {t.runs} runs per "
              f"command, {order}, on {md_text(t.platform)}."]
             if any(s.metric == "wall" for s in report.samples) or not report.samples else [])
    if t.sequential:
        lines.append(f"Runs: auto — {md_text(sequential_text(t.sequential), MESSAGE_LIMIT)}.")
    env_names = ", ".join(sorted(t.environment)) or "none"
    lines.append(f"Timed commands ran with an allow-listed environment ({md_text(env_names)}); "
                 "`PYTHON*`, `PIP_*`, `UV_*` and `VIRTUAL_ENV` of the caller were not passed.")
    if t.instruction_counter:
        spread = instruction_spread(report)
        lines.append(f"Instructions: {md_text(t.instruction_counter)}"
                     + (f"; run to run: {'; '.join(spread)}" if spread else ""))
    return lines


def subject_of(report: Report, finding: NoiseFinding) -> str:
    """Variant · `workload` · scenario · metric: what a note is about, in full ("machine" for
    a note about the whole run)."""
    if not finding.variant:
        return "machine"
    parts = [md_text(variant_label(report, finding.variant))]
    if finding.workload:
        parts.append(md_code(finding.workload))
    if finding.scenario and finding.scenario != "default":
        parts.append(f"{md_text(finding.scenario)} bytecode")
    parts.append(METRIC_TEXT.get(finding.metric, md_text(finding.metric)))
    return " · ".join(parts)


METRIC_TEXT = {"wall": "wall time", "instructions": "instructions", "cpu": "CPU time"}


def noise_lines(report: Report) -> list[str]:
    """Measurement diagnostics that change what a reader should do (see
    :func:`~harness.render.common.shown_notes`), one line per piece of advice: the notes
    that share it are listed together, each naming its variant, workload, scenario and
    metric."""
    out = []
    for advice, findings in shown_notes(report):
        said = "; ".join(dict.fromkeys(
            f"{subject_of(report, f)}: {md_inline(note_message(report, f), 300)}"
            for f in findings[:MANY]))
        more = f"; … and {len(findings) - MANY} more" if len(findings) > MANY else ""
        out.append(f"⚠️ {said}{more}" + (f" — {md_inline(advice)}" if advice else ""))
    if report.timing.order == "blocks" and report.samples:
        out.append("⚠️ all runs of one command ran back to back (`order: blocks`): a burst of "
                   "machine load or a drift during the run lands on one variant and reads as "
                   "a change — use `order: interleaved` (the default)")
    return out


def _gate_lines(report: Report) -> list[str]:
    g = report.gate_config
    if report.gate.status == "off":
        return []
    subject = md_text(variant_label(report, g.compare))
    reference = md_text(variant_label(report, g.against))
    gated = [c for c in report.gate.comparisons if c.subject == g.compare]
    statistic = gated[0].statistic if gated else g.statistic
    metric = g.metric
    what = STATISTIC_TEXT.get(statistic, md_text(statistic))
    interval = _interval_text(report, gated[0].method if gated else "")
    # the gated interval's own level (runs: auto: the last look's, e.g. 99.75 %)
    level = level_text(gated[0].confidence if gated else g.confidence, "")
    text = (f"Gate: {subject} vs {reference} (threshold: {g.threshold_pct:g}%, "
            f"{what} of {METRIC_TEXT.get(metric, md_text(metric))}, "
            f"{level} confidence interval {interval}).")
    baseline = report.variant_with_role("baseline")
    if baseline and baseline.name not in (g.compare, g.against):
        text += f" {md_text(baseline.label)} is shown only as a historical baseline."
    return [text]


def _interval_text(report: Report, method: str) -> str:
    """How the interval was made, in the words of the run's mode (rounds or blocks; wall time
    or instruction counts)."""
    if method.startswith("exact"):
        return "of zero width: every count was the same"
    if method.startswith("range of counts"):
        return "from the range of the counts (lowest over highest, highest over lowest)"
    if method.startswith("unpaired"):
        return ("from a bootstrap of each variant's runs separately (blocks order has no "
                "rounds to pair)" if report.timing.order == "blocks"
                else "from a bootstrap of each variant's runs separately")
    if method.startswith("point estimate"):
        return "not computed: too few runs"
    return "from a block bootstrap over rounds"


def instruction_spread(report: Report) -> list[str]:
    """The instruction counter's run-to-run spread, as measured (never assumed zero)."""
    lines = []
    for s in report.samples:
        if s.metric != "instructions" or len(s.values) < 2:
            continue
        low, high = min(s.values), max(s.values)
        spread = (high - low) / low * 100 if low else 0.0
        lines.append(f"{md_text(variant_label(report, s.variant))} · {md_code(s.workload)}: "
                     f"{len(s.values)} counts, {int(low):,}–{int(high):,} "
                     f"(spread {spread:.3f} %)" if high != low else
                     f"{md_text(variant_label(report, s.variant))} · {md_code(s.workload)}: "
                     f"{len(s.values)} counts, all {int(low):,}")
    return lines


#: Phase columns of the build details, in the order they run.
BUILD_PHASES = (("server_start", "Server start (s)"), ("fetch", "Fetch (s)"),
                ("build", "Build (s)"), ("shutdown", "Shutdown (s)"))


def build_details(report: Report) -> str:
    """A <details> block for builders that report their tool and phases (bazel): each
    variant's tool version, what the ruleset resolved to, and the time of every phase."""
    if not any(b.details or b.phases for b in report.builds):
        return ""
    rows = []
    for info in report.variants:
        build = report.build(info.name)
        if build is None:
            continue
        details, phases = build.details, build.phases
        rows.append([md_cell(info.label), md_cell(details.get("tool_version", "—")),
                     md_cell(details.get("resolved", "—" if build.ok else "build failed")),
                     *[fmt_seconds(phases.get(key)) for key, _title in BUILD_PHASES]])
    table = md_table(["Version", "Tool", "Resolved", *[t for _k, t in BUILD_PHASES]], rows)
    return "\n".join(["<details><summary>Builds</summary>", "", table, "",
                      "Each variant cold in its own output base (own server, execroot and "
                      "repository cache; `--disk_cache=`), its server shut down afterwards.",
                      "", "</details>"])


def _build_line(report: Report) -> str:
    builders = sorted({v.builder for v in report.variants})
    if any("fetch" in b.phases for b in report.builds):
        return (f"Build time: cold `bazel fetch` and `bazel build` ({md_text(', '.join(builders))}"
                "), each variant in its own output base, no disk cache.")
    return (f"Build time: cold build with {md_text(', '.join(builders))}, isolated output base "
            "and package cache per variant, no shared disk cache.")


def final_line(report: Report) -> str:
    """The seed's closing ✅ / ❌ line, from the gate's decision."""
    return _final_line(report, lambda t: md_text(t, MESSAGE_LIMIT))


def headline_line(report: Report) -> str:
    """The verdict, first thing under the marker, in bold up to its details."""
    return bold_verdict(headline(report, code=md_code, text=md_text))


def why_block(report: Report) -> str:
    """What explains the verdict (import-time culprits, new ``.pth`` lines, new duplicate
    distributions, sys.path growth), for the top of the comment; empty when nothing does."""
    title, lines = why(report, code=md_code, text=md_text)
    if not lines:
        return ""
    return "\n".join([f"**Why** ({title}):", "", *[f"- {line}" for line in lines]])


def _listed(lines: list[str], limit: int | None) -> str:
    """Lines as a block, at most ``limit`` of them and a count of the rest."""
    if limit is None or len(lines) <= limit:
        return "\n\n".join(lines)
    return "\n\n".join([*lines[:limit], f"… and {len(lines) - limit} more (report.json)"])


def _alerts(report: Report) -> list[str]:
    """Failed builds and warnings (deduplicated), each one line."""
    out: list[str] = []
    for build in report.builds:
        if not build.ok:
            out.append(f"⚠️ Build of {md_text(variant_label(report, build.variant))} failed: "
                       f"{md_inline(build.error or 'unknown error')}")
    for warning in (*gate_warnings(report), *report.extras.get("warnings", ())):
        out.append(f"⚠️ {md_inline(warning)}")
    return list(dict.fromkeys(out))


def _startup_block(report: Report, workload: str, multiple: bool) -> str:
    parts = [f"#### Workload {md_code(workload)}", ""] if multiple else []
    parts += [startup_table(report, workload), ""]
    note = change_note(report, workload)
    if note:
        parts += [note, ""]
    scenarios = scenario_table(report, workload)
    if scenarios:
        parts += ["Bytecode scenarios: warm = valid `.pyc`; cold = `__pycache__` removed "
                  "before each run; stale = every `.pyc` with a foreign magic number and "
                  "writing disabled (each start recompiles).", "", scenarios, ""]
    return "\n".join(parts).strip("\n")


def _notes_block(report: Report, limit: int | None) -> str:
    found = noise_lines(report)
    if not found:
        return ""
    shown = found if limit is None else found[:limit]
    more = [] if len(shown) == len(found) else [f"- … and {len(found) - len(shown)} more "
                                                "(report.json)"]
    return "\n".join([f"<details><summary>⚠️ Measurement notes ({len(found)})</summary>", "",
                      *[f"- {line.removeprefix('⚠️ ')}" for line in shown], *more, "",
                      "</details>"])


def _method_block(report: Report) -> str:
    notes = _how_measured(report) + _gate_lines(report) + [_build_line(report)]
    return "\n".join(["<details><summary>How this was measured</summary>", "",
                      "\n".join(n + "  " for n in notes), "", "</details>"])


def _sys_path_block(report: Report) -> str:
    """The seed's sys.path table, or one line when every variant has the same figures and
    no duplicate realpaths."""
    rows = variant_health(report)
    probes = [r.probe for r in rows]
    figures = {(p.sys_path_entries, p.site_packages_roots, p.duplicate_realpaths)
               for p in probes if p is not None}
    if probes and all(p is not None for p in probes) and len(figures) == 1:
        entries, roots, dups = figures.pop()
        if not dups:
            return (f"sys.path quality: every variant has {entries} sys.path entries and "
                    f"{roots} site-packages root{'s' if roots != 1 else ''}, no duplicate "
                    "realpaths.")
    return "\n".join(["#### sys.path quality", "", sys_path_table(rows), "",
                      "sys.path quality measured by the harness's probe inside each "
                      "environment's own interpreter, started the way the workload starts. "
                      "Duplicate realpaths indicate symlink redundancy; many distinct "
                      "site-packages roots suggest an inefficient venv layout."])


def comment_blocks(report: Report, extra_sections: list[str] | None = None,
                   trend: str = "", with_title: bool = True
                   ) -> tuple[list[list[str]], list[str]]:
    """Everything below the verdict, reader first, as blocks of alternatives (most detailed
    first) with their names, for :func:`~harness.render.common.fit`: the "why", alerts, the
    start-up tables, main's trend, sys.path, health, notes, how it was measured, details."""
    places = md_places(locations(report))

    def rel(*options: str) -> list[str]:
        return [relative_paths(o, places) for o in options]

    blocks: list[tuple[str, list[str]]] = []
    blocks.append(("why", rel(why_block(report))))
    alerts = _alerts(report)
    if alerts:
        blocks.append(("warnings", rel(_listed(alerts, MANY), _listed(alerts, 3))))
    if with_title:
        blocks.append(("title", [f"### {md_text(report.title)}"]))
    multiple = len(report.workloads) > 1
    for workload in report.workloads:
        blocks.append(("start-up table", rel(_startup_block(report, workload, multiple))))
    if trend:
        blocks.append(("trend", rel(trend.strip("\n"))))
    blocks.append(("sys.path quality", rel(_sys_path_block(report))))
    for options in health_blocks(report):
        blocks.append(("environment health", rel(*options)))
    blocks.append(("measurement notes", rel(_notes_block(report, None),
                                            _notes_block(report, MANY))))
    blocks.append(("how it was measured", rel(_method_block(report))))
    for name, section in (("sweeps", sweep_section(report)), ("builds", build_details(report)),
                          ("environments", environments_details(report)),
                          *(("details", x) for x in extra_sections or [])):
        blocks.append((name, rel(section)))
    kept = [(n, o) for n, o in blocks if any(o)]
    return [o for _n, o in kept], [n for n, _o in kept]


def render_body(report: Report, budget: int, extra_sections: list[str] | None = None,
                trend: str = "", with_title: bool = True) -> str:
    """The verdict line, what fits of :func:`comment_blocks` in ``budget`` UTF-8 bytes, and
    the closing line. The verdict and closing lines are made of clipped strings, so they
    always fit; nothing is ever cut inside a block."""
    places = md_places(locations(report))
    head = relative_paths(headline_line(report), places)
    final = relative_paths(final_line(report), places)
    alternatives, names = comment_blocks(report, extra_sections, trend, with_title)
    room = budget - size(head) - size(final) - 8
    body = fit(alternatives, room, names=names)
    return "\n\n".join(x for x in (head, body, final) if x) + "\n"


def render(report: Report, extra_sections: list[str] | None = None, trend: str = "") -> str:
    """The whole comment, at most :data:`BUDGET` UTF-8 bytes: the marker, the verdict, the
    "why" above the tables, then the tables (and main's ``trend`` from the history under
    them, :mod:`harness.render.trend`); no path of the run's scratch directory (see
    :func:`~harness.render.common.locations`). A matrix run starts with the matrix and folds
    each cell's report below it."""
    if report.cells:
        return matrix.render_markdown(
            report, lambda cell, room: render_body(cell, room, with_title=False), BUDGET)
    return MARKER + "\n" + render_body(report, BUDGET - size(MARKER) - 1, extra_sections,
                                       trend)
